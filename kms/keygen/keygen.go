// Package keygen is the dealer: it generates one threshold key, shares it
// among n parties, gives every party a signing key, and writes each party's
// storage in the real layout together with a ready config.toml. The same
// code serves a loopback cluster, containers and the toxiproxy mesh: only
// the address and port templates differ.
package keygen

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/release"
	"github.com/kmschaos/kmschaos/kms/storage"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// Options describe the cluster to generate.
type Options struct {
	N, T int
	Out  string // where storage trees and configs are written

	// Paths as the parties see them (default: Out, absolute).
	StoragePath string
	BackupPath  string

	// Templates: {i} is the peer's party id, {me} the id of the party whose
	// config is written; {i:02} pads with zeros.
	PeerAddress   string // default "kms-party-{i}"
	PeerPort      string // default "50001"
	P2PListenPort string // default "50001"
	ServicePort   string // default "50100"
	MetricsAddr   string // default "0.0.0.0:9646"
	ListenAddress string // default "0.0.0.0"

	NetworkTimeout   int // seconds, default 10
	StragglerGraceMs int // default 250
	DecCapacity      int // default 1000
	SetupTimeout     int // PRSS set-up deadline in seconds (max_elapsed_time), default 300

	// TrustedReleases are the versions whose measurements every party
	// trusts on its peer links (kms/release); none: no release checked.
	TrustedReleases []string

	// Identity is party {i}'s mpc_identity, the CN of its TLS certificate
	// (default "kms-party-{i}").
	Identity string
	// CertValidity is how long the issued certificates are valid (default
	// DefaultCertValidity).
	CertValidity time.Duration

	Force bool // overwrite existing key material
}

// Result summarises what was written.
type Result struct {
	KeyID   string
	Configs []string // config path per party, index i-1
	Public  *tss.PublicKey
	// VerfKeys are the parties' result-signature verification keys (the
	// public VerfKey objects): with Public, what a client verifies with.
	VerfKeys map[int]ed25519.PublicKey
}

func (o *Options) defaults() error {
	if o.Out == "" {
		return errors.New("an output directory is required")
	}
	abs, err := filepath.Abs(o.Out)
	if err != nil {
		return err
	}
	o.Out = abs
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.StoragePath, abs)
	def(&o.BackupPath, o.StoragePath)
	def(&o.PeerAddress, "kms-party-{i}")
	def(&o.PeerPort, "50001")
	def(&o.P2PListenPort, "50001")
	def(&o.ServicePort, "50100")
	def(&o.MetricsAddr, "0.0.0.0:9646")
	def(&o.ListenAddress, "0.0.0.0")
	def(&o.Identity, "kms-party-{i}")
	if o.CertValidity == 0 {
		o.CertValidity = DefaultCertValidity
	}
	if o.NetworkTimeout == 0 {
		o.NetworkTimeout = config.DefaultNetworkTimeout
	}
	if o.StragglerGraceMs == 0 {
		o.StragglerGraceMs = config.DefaultStragglerGraceMs
	}
	if o.DecCapacity == 0 {
		o.DecCapacity = 1000
	}
	if o.SetupTimeout == 0 {
		o.SetupTimeout = 300
	}
	return tss.ValidateTopology(o.N, o.T)
}

// Generate deals a key and writes every party's storage and config.
func Generate(rnd io.Reader, o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if !o.Force {
		if existing, _ := filepath.Glob(filepath.Join(o.Out, "PRIV-p*")); len(existing) > 0 {
			return nil, fmt.Errorf("refusing to overwrite the key material in %s (%s exists); pass --force to replace it", o.Out, filepath.Base(existing[0]))
		}
	}
	pk, shares, err := tss.Deal(rnd, o.N, o.T)
	if err != nil {
		return nil, err
	}
	pubBytes, err := material.EncodePublicKey(pk)
	if err != nil {
		return nil, err
	}
	// Every party's private share records the digest of the public
	// material as stored, which its boot-time verification checks.
	sealed, err := storage.Seal(material.PublicKey, pk.KeyID, pubBytes)
	if err != nil {
		return nil, err
	}
	digests := material.KeyDigests{material.PublicKey: material.Digest(sealed)}
	res := &Result{KeyID: pk.KeyID, Public: pk, VerfKeys: map[int]ed25519.PublicKey{}}
	certs := map[int]string{}
	for i := 1; i <= o.N; i++ {
		cert, err := issueTLS(rnd, o.Out, i, Expand(o.Identity, i, i), ValidFor(o.CertValidity))
		if err != nil {
			return nil, fmt.Errorf("issuing the TLS certificate of party %d: %w", i, err)
		}
		certs[i] = string(cert)
	}
	for i := 1; i <= o.N; i++ {
		v := material.ForParty(o.Out, o.Out, o.Out, i)
		if err := v.Public.Put(material.PublicKey, pk.KeyID, pubBytes); err != nil {
			return nil, err
		}
		shareBytes, err := material.EncodeKeyInfo(&shares[i-1], digests)
		if err != nil {
			return nil, err
		}
		pub, priv, err := ed25519.GenerateKey(rnd)
		if err != nil {
			return nil, err
		}
		res.VerfKeys[i] = pub
		sigID := material.SigningKeyID(pub)
		sigBytes, _ := material.EncodeSigningKey(i, priv)
		verfBytes, _ := material.EncodeVerfKey(i, pub)
		if err := v.Public.Put(material.VerfKey, sigID, verfBytes); err != nil {
			return nil, err
		}
		if err := v.Public.Put(material.VerfAddress, sigID, []byte(material.AddressText(pub))); err != nil {
			return nil, err
		}
		for _, vault := range []*storage.Vault{v.Private, v.Backup} {
			if err := vault.Put(material.FheKeyInfo, pk.KeyID, shareBytes); err != nil {
				return nil, err
			}
			if err := vault.Put(material.SigningKey, sigID, sigBytes); err != nil {
				return nil, err
			}
		}
		cfg, err := o.config(i, certs)
		if err != nil {
			return nil, err
		}
		raw, err := cfg.Marshal()
		if err != nil {
			return nil, err
		}
		path := filepath.Join(o.Out, fmt.Sprintf("config-p%d.toml", i))
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			return nil, err
		}
		res.Configs = append(res.Configs, path)
	}
	return res, nil
}

// Config builds the config of party me without TLS.
func (o Options) Config(me int) (*config.Config, error) { return o.config(me, nil) }

// config builds the config of party me; with certs (party id -> PEM), its
// peer links are mutually authenticated with them.
func (o Options) config(me int, certs map[int]string) (*config.Config, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	port := func(tmpl string, i int) (int, error) {
		s := Expand(tmpl, i, me)
		p, err := strconv.Atoi(s)
		if err != nil || p <= 0 || p > 65535 {
			return 0, fmt.Errorf("port template %q gives %q for party %d", tmpl, s, i)
		}
		return p, nil
	}
	svc, err := port(o.ServicePort, me)
	if err != nil {
		return nil, err
	}
	p2p, err := port(o.P2PListenPort, me)
	if err != nil {
		return nil, err
	}
	c := &config.Config{
		Service:      config.Service{ListenAddress: o.ListenAddress, ListenPort: svc, TimeoutSecs: config.DefaultTimeoutSecs},
		PublicVault:  fileVault(o.StoragePath, fmt.Sprintf("PUB-p%d", me)),
		PrivateVault: fileVault(o.StoragePath, fmt.Sprintf("PRIV-p%d", me)),
		BackupVault:  fileVault(o.BackupPath, fmt.Sprintf("BACKUP-p%d", me)),
		Threshold: &config.Threshold{
			ListenAddress: o.ListenAddress, ListenPort: p2p, MyID: me, Threshold: o.T,
			DecCapacity: o.DecCapacity, MinDecCache: o.DecCapacity / 2,
			CoreToCoreNet: &config.CoreToCoreNet{
				MessageLimit: 70, Multiplier: 1.1, MaxInterval: 1, MaxElapsedTime: o.SetupTimeout,
				NetworkTimeout: o.NetworkTimeout, NetworkTimeoutBk: 300, NetworkTimeoutBkSns: 1200,
				MaxEnDecodeMessageSize: 2 << 30, StragglerGraceMs: o.StragglerGraceMs,
			},
		},
		// Machine gauges on, as the chart (kmsCore.thresholdMode.enableSysMetrics)
		// and the real default_<i>.toml configs have them.
		Telemetry: config.Telemetry{TracingServiceName: fmt.Sprintf("kms-threshold-%d", me), MetricsBindAddress: Expand(o.MetricsAddr, me, me), EnableSysMetrics: true},
	}
	rl := config.DefaultRateLimiter // written out, as the real default_1.toml does
	c.RateLimiterConf = &rl
	for i := 1; i <= o.N; i++ {
		pp, err := port(o.PeerPort, i)
		if err != nil {
			return nil, err
		}
		peer := config.Peer{PartyID: i, Address: Expand(o.PeerAddress, i, me), Port: pp}
		if certs != nil {
			peer.MPCIdentity = Expand(o.Identity, i, me)
			peer.TLSCert = &config.PEMSource{PEM: certs[i]}
		}
		c.Threshold.Peers = append(c.Threshold.Peers, peer)
	}
	if certs != nil {
		c.Threshold.TLS = &config.TLS{Manual: &config.ManualTLS{
			Cert: &config.PEMSource{Path: CertPath(o.StoragePath, me)},
			Key:  &config.PEMSource{Path: KeyPath(o.StoragePath, me)},
		}}
		for _, v := range o.TrustedReleases {
			p0, p1, p2 := release.Measure(v).Hex()
			c.Threshold.TLS.Manual.TrustedReleases = append(c.Threshold.TLS.Manual.TrustedReleases, config.TrustedRelease{PCR0: p0, PCR1: p1, PCR2: p2})
		}
	}
	return c, c.Validate()
}

func fileVault(path, prefix string) *config.Vault {
	return &config.Vault{Storage: config.Storage{File: &config.FileStorage{Path: path, Prefix: prefix}}}
}

var placeholder = regexp.MustCompile(`\{(i|me)(?::0(\d))?\}`)

// Expand fills a template: {i} with i, {me} with me, {i:03} zero-padded.
func Expand(tmpl string, i, me int) string {
	return placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		v := i
		if sub[1] == "me" {
			v = me
		}
		if sub[2] != "" {
			w, _ := strconv.Atoi(sub[2])
			return fmt.Sprintf("%0*d", w, v)
		}
		return strconv.Itoa(v)
	})
}
