// Package release is the party's release: its version, set when the
// binary is built, and the measurement it attests on its peer links.
//
// The real party's version is its crate's (CARGO_PKG_VERSION: logged at
// start, served on /version of the metrics port, recorded in contexts);
// peers never compare versions. What tells releases apart on a peer link
// is the enclave's attestation: the party's TLS certificate bundles the
// PCR0/1/2 measurements of its image, and a peer accepts it only if that
// triple is one of its trusted_releases (core/threshold-networking/src/
// tls.rs, validate_attestation_document). A release whose image nobody
// added to trusted_releases is refused on every link, both ways.
// The simulated party has no enclave: its measurement is derived from
// its version, so that two builds of one version attest alike.
package release

import (
	"crypto/sha512"
	"encoding/hex"
	"fmt"
)

// version is set with -ldflags "-X github.com/kmschaos/kmschaos/kms/release.version=<v>".
var version = Baseline

// Baseline is the version of a party built without one.
const Baseline = "0.15.0"

// Version is this binary's version, as the real party's CARGO_PKG_VERSION.
func Version() string { return version }

// VersionFlag is the linker flag that builds a binary of version v.
func VersionFlag(v string) string {
	return "-X github.com/kmschaos/kmschaos/kms/release.version=" + v
}

// PCRs are the three measurements that name a release (SHA-384 each).
type PCRs struct{ PCR0, PCR1, PCR2 []byte }

// Measure is the measurement of release v: PCR0 the image, PCR1 the
// kernel and boot (the same for every release), PCR2 the application.
func Measure(v string) PCRs {
	h := func(s string) []byte { d := sha512.Sum384([]byte(s)); return d[:] }
	return PCRs{PCR0: h("kmschaos party image " + v), PCR1: h("kmschaos party kernel"), PCR2: h("kmschaos party application " + v)}
}

// Current is this binary's measurement.
func Current() PCRs { return Measure(version) }

// Hex is the triple as the config and the real log write it.
func (p PCRs) Hex() (pcr0, pcr1, pcr2 string) {
	return hex.EncodeToString(p.PCR0), hex.EncodeToString(p.PCR1), hex.EncodeToString(p.PCR2)
}

// ParseHex reads a triple written by Hex.
func ParseHex(pcr0, pcr1, pcr2 string) (PCRs, error) {
	var p PCRs
	for _, f := range []struct {
		name, hex string
		dst       *[]byte
	}{{"pcr0", pcr0, &p.PCR0}, {"pcr1", pcr1, &p.PCR1}, {"pcr2", pcr2, &p.PCR2}} {
		b, err := hex.DecodeString(f.hex)
		if err != nil {
			return PCRs{}, fmt.Errorf("%s is not hex: %w", f.name, err)
		}
		*f.dst = b
	}
	return p, nil
}
