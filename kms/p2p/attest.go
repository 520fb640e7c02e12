package p2p

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"

	"github.com/kmschaos/kmschaos/kms/release"
)

// ReasonUntrustedRelease is the refusal of a peer whose attested release
// is not one of this party's trusted releases.
const ReasonUntrustedRelease = "untrusted_release"

// attestationOID marks the extension that carries a party's attested
// release: where the real enclave certificate bundles its attestation
// document (an OID of ours; no one else reads it).
var attestationOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}

type attestation struct{ PCR0, PCR1, PCR2 []byte }

// Attest re-signs cert, self-signed as before with the same key, subject
// and validity, bundling the measurement of release m: what the real
// party's enclave does to each certificate it issues itself. A peer pins
// the key, so the re-signed certificate is the same party's.
func Attest(cert tls.Certificate, m release.PCRs) (tls.Certificate, error) {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return cert, err
	}
	doc, err := asn1.Marshal(attestation(m))
	if err != nil {
		return cert, err
	}
	tmpl := *leaf
	tmpl.ExtraExtensions = []pkix.Extension{{Id: attestationOID, Value: doc}}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, leaf.PublicKey, cert.PrivateKey)
	if err != nil {
		return cert, err
	}
	out := cert
	out.Certificate = [][]byte{der}
	out.Leaf = nil
	return out, nil
}

// attested checks the release a peer's certificate attests against the
// trusted ones, with the real verifier's messages
// (core/threshold-networking/src/tls.rs: validate_attestation_document,
// logged by the client and the server verifier alike as "bundled
// attestation document validation error for party <subject>: <e>").
func (a *Auth) attested(raw []byte) *Refusal {
	if len(a.trusted) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(raw)
	if err != nil {
		return &Refusal{"bad_certificate", "unparsable certificate: " + err.Error()}
	}
	refuse := func(e string) *Refusal {
		return &Refusal{ReasonUntrustedRelease, fmt.Sprintf("bundled attestation document validation error for party %s: %s", leaf.Subject.CommonName, e)}
	}
	i := slices.IndexFunc(leaf.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(attestationOID) })
	var doc attestation
	if i < 0 {
		return refuse("Bad certificate: attestation document not present")
	}
	if _, err := asn1.Unmarshal(leaf.Extensions[i].Value, &doc); err != nil {
		return refuse("Bad certificate: " + err.Error())
	}
	got := release.PCRs(doc)
	if slices.ContainsFunc(a.trusted, func(t release.PCRs) bool {
		return bytes.Equal(t.PCR0, got.PCR0) && bytes.Equal(t.PCR1, got.PCR1) && bytes.Equal(t.PCR2, got.PCR2)
	}) {
		return nil
	}
	p0, p1, p2 := got.Hex()
	return refuse(fmt.Sprintf("Bad certificate: untrusted release hash triple %s, %s, %s in attestation document", p0, p1, p2))
}
