package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/kmschaos/kmschaos/kms/release"
)

// Validate checks the config and returns the first problem, worded like
// the real KMS's validation.
func (c *Config) Validate() error {
	if c.Service.ListenAddress == "" {
		return errors.New("Service listen address cannot be empty")
	}
	if err := checkPort("Service listen port", c.Service.ListenPort); err != nil {
		return err
	}
	for _, v := range []struct {
		name  string
		vault *Vault
	}{{"public_vault", c.PublicVault}, {"private_vault", c.PrivateVault}} {
		if v.vault == nil {
			return fmt.Errorf("%s must be configured", v.name)
		}
	}
	for name, v := range c.Vaults() {
		if v.Storage.File == nil {
			return fmt.Errorf("%s.storage.file must be configured (the only storage backend here)", name)
		}
		if v.Storage.File.Path == "" {
			return fmt.Errorf("%s.storage.file.path cannot be empty", name)
		}
	}
	t := c.Threshold
	if t == nil {
		return errors.New("threshold section missing: the simulated party runs in threshold mode only")
	}
	if t.ListenAddress == "" {
		return errors.New("Threshold listen address cannot be empty")
	}
	if err := checkPort("Threshold listen port", t.ListenPort); err != nil {
		return err
	}
	if t.Threshold == 0 {
		return errors.New("Threshold must be greater than zero")
	}
	n := len(t.Peers)
	if 3*t.Threshold+1 != n {
		return fmt.Errorf("3*t+1 must be equal to number of parties. Got t=%d but expected t=%d for n=%d parties", t.Threshold, (n-1)/3, n)
	}
	if t.MyID <= 0 || t.MyID > n {
		return fmt.Errorf("Party ID must be greater than 0 and cannot be greater than the number of parties (%d), but was %d.", n, t.MyID)
	}
	seen := map[int]bool{}
	for _, p := range t.Peers {
		if p.Address == "" {
			return errors.New("Peer address cannot be empty")
		}
		if p.Port == 0 {
			return errors.New("Peer port cannot be zero")
		}
		if p.PartyID > n {
			return fmt.Errorf("Peer party ID cannot be greater than the number of parties (%d).", n)
		}
		if p.PartyID <= 0 {
			return fmt.Errorf("Peer party ID must be greater than 0, but was %d.", p.PartyID)
		}
		if seen[p.PartyID] {
			return fmt.Errorf("Peer party ID %d appears more than once.", p.PartyID)
		}
		seen[p.PartyID] = true
	}
	if err := t.validateTLS(); err != nil {
		return err
	}
	if c.Service.ListenPort == t.ListenPort && sameHost(c.Service.ListenAddress, t.ListenAddress) {
		return fmt.Errorf("Service listen port and threshold listen port must differ, both are %d", t.ListenPort)
	}
	if c.Telemetry.MetricsBindAddress != "" {
		host, port, err := net.SplitHostPort(c.Telemetry.MetricsBindAddress)
		if err != nil {
			return fmt.Errorf("Invalid metrics bind address %q: %v", c.Telemetry.MetricsBindAddress, err)
		}
		p, _ := strconv.Atoi(port)
		for _, used := range []struct {
			host string
			port int
		}{{c.Service.ListenAddress, c.Service.ListenPort}, {t.ListenAddress, t.ListenPort}} {
			if p == used.port && sameHost(host, used.host) {
				return fmt.Errorf("Metrics bind address %s collides with another listener on port %d", c.Telemetry.MetricsBindAddress, p)
			}
		}
	}
	if nw := t.CoreToCoreNet; nw != nil {
		if nw.NetworkTimeout < 0 || nw.StragglerGraceMs < 0 {
			return errors.New("core_to_core_net timeouts cannot be negative")
		}
	}
	return c.RateLimiterConf.validate()
}

// validate is the real RateLimiterConfig's #[validate(range(min = 1))] on
// every field, reported as the validator crate (0.20) words a range error
// of a nested struct: "<path>: Validation error: range [<params>]". The
// crate prints its params map in hash order; here min comes first.
func (r *RateLimiterConf) validate() error {
	if r == nil {
		return nil
	}
	for _, f := range []struct {
		key string
		v   int
	}{{"bucket_size", r.BucketSize}, {"pub_decrypt", r.PubDecrypt}, {"user_decrypt", r.UserDecrypt},
		{"crsgen", r.Crsgen}, {"preproc", r.Preproc}, {"keygen", r.Keygen}, {"new_epoch", r.NewEpoch}} {
		if f.v < 1 {
			return fmt.Errorf(`rate_limiter_conf.%s: Validation error: range [{"min": Number(1), "value": Number(%d)}]`, f.key, f.v)
		}
	}
	return nil
}

func checkPort(what string, p int) error {
	if p == 0 {
		return fmt.Errorf("%s cannot be zero", what)
	}
	if p < 0 || p > 65535 {
		return fmt.Errorf("%s must be between 1 and 65535, but was %d", what, p)
	}
	return nil
}

// sameHost tells whether two listen addresses can collide on one port.
func sameHost(a, b string) bool {
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" || h == "[::]" }
	return a == b || wild(a) || wild(b)
}

// Vaults returns the configured vaults by name.
func (c *Config) Vaults() map[string]*Vault {
	out := map[string]*Vault{}
	if c.PublicVault != nil {
		out["public_vault"] = c.PublicVault
	}
	if c.PrivateVault != nil {
		out["private_vault"] = c.PrivateVault
	}
	if c.BackupVault != nil {
		out["backup_vault"] = c.BackupVault
	}
	return out
}

// N is the number of parties.
func (c *Config) N() int { return len(c.Threshold.Peers) }

// T is the threshold.
func (c *Config) T() int { return c.Threshold.Threshold }

// Peer returns the entry of party id.
func (c *Config) Peer(id int) (Peer, bool) {
	for _, p := range c.Threshold.Peers {
		if p.PartyID == id {
			return p, true
		}
	}
	return Peer{}, false
}

func (t *Threshold) validateTLS() error {
	if t.TLS == nil {
		for _, p := range t.Peers {
			if p.TLSCert != nil {
				return fmt.Errorf("Peer %d has a tls_cert but threshold.tls is not configured", p.PartyID)
			}
		}
		return nil
	}
	m := t.TLS.Manual
	if m == nil {
		return errors.New("threshold.tls.manual must be configured (the only TLS mode here)")
	}
	if err := checkSource("threshold.tls.manual.cert", m.Cert); err != nil {
		return err
	}
	if err := checkSource("threshold.tls.manual.key", m.Key); err != nil {
		return err
	}
	for k, r := range m.TrustedReleases {
		if _, err := release.ParseHex(r.PCR0, r.PCR1, r.PCR2); err != nil {
			return fmt.Errorf("threshold.tls.manual.trusted_releases[%d]: %w", k, err)
		}
	}
	for _, p := range t.Peers {
		if p.TLSCert == nil {
			return fmt.Errorf("Peer %d has no tls_cert: with TLS every peer's certificate is required", p.PartyID)
		}
		if err := checkSource(fmt.Sprintf("tls_cert of peer %d", p.PartyID), p.TLSCert); err != nil {
			return err
		}
	}
	return nil
}

func checkSource(what string, s *PEMSource) error {
	switch {
	case s == nil || (s.Path == "" && s.PEM == ""):
		return fmt.Errorf("%s must have a path or a pem", what)
	case s.Path != "" && s.PEM != "":
		return fmt.Errorf("%s must have either a path or a pem, not both", what)
	}
	return nil
}
