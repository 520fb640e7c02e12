package config

import (
	"fmt"
	"strings"
	"testing"
)

func sample(n, t, me int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `[service]
listen_address = "0.0.0.0"
listen_port = 50100
timeout_secs = 360

[public_vault.storage.file]
path = "/app/kms/keys"
prefix = "PUB-p%[1]d"

[private_vault.storage.file]
path = "/app/kms/keys"
prefix = "PRIV-p%[1]d"

[threshold]
listen_address = "0.0.0.0"
listen_port = 50001
my_id = %[1]d
threshold = %[2]d
dec_capacity = 100
min_dec_cache = 50

[threshold.core_to_core_net]
network_timeout = 3

[telemetry]
metrics_bind_address = "0.0.0.0:9646"
`, me, t)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\n[[threshold.peers]]\nparty_id = %d\naddress = \"kms-party-%d\"\nport = 50001\n", i, i)
	}
	return b.String()
}

func TestValidConfig(t *testing.T) {
	c, err := Parse([]byte(sample(13, 4, 3)), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.N() != 13 || c.T() != 4 || c.Threshold.MyID != 3 || c.Threshold.CoreToCoreNet.NetworkTimeout != 3 {
		t.Fatalf("decoded %+v", c.Threshold)
	}
	if c.Threshold.CoreToCoreNet.StragglerGraceMs != DefaultStragglerGraceMs {
		t.Fatal("default not applied")
	}
	if c.PrivateVault.Storage.File.Prefix != "PRIV-p3" {
		t.Fatal("vault prefix")
	}
	// Marshal round-trips.
	out, _ := c.Marshal()
	if _, err := Parse(out, []string{}); err != nil {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
}

func TestValidationMessages(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"t mismatch", strings.Replace(sample(13, 4, 1), "threshold = 4", "threshold = 3", 1),
			"3*t+1 must be equal to number of parties. Got t=3 but expected t=4 for n=13 parties"},
		{"peer id", strings.Replace(sample(13, 4, 1), "party_id = 13", "party_id = 14", 1),
			"Peer party ID cannot be greater than the number of parties (13)."},
		{"my id", sample(4, 1, 5), "Party ID must be greater than 0 and cannot be greater than the number of parties (4), but was 5."},
		{"unknown key", strings.Replace(sample(4, 1, 1), "dec_capacity", "dec_capacty", 1), "unknown configuration key(s): threshold.dec_capacty"},
		{"same ports", strings.Replace(sample(4, 1, 1), "listen_port = 50001", "listen_port = 50100", 1),
			"Service listen port and threshold listen port must differ, both are 50100"},
		{"zero threshold", strings.Replace(sample(4, 1, 1), "threshold = 1", "threshold = 0", 1), "Threshold must be greater than zero"},
		{"bad toml", sample(4, 1, 1) + "\n[threshold\n", "invalid TOML"},
		{"no private vault", strings.Replace(sample(4, 1, 1), "[private_vault.storage.file]", "[backup_vault.storage.file]", 1), "private_vault must be configured"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc), []string{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	env := []string{
		"KMS_CORE__THRESHOLD__MY_ID=2",
		"KMS_CORE__THRESHOLD__CORE_TO_CORE_NET__NETWORK_TIMEOUT=7",
		"KMS_CORE__PRIVATE_VAULT__STORAGE__FILE__PATH=/data",
		"OTHER=1",
	}
	c, err := Parse([]byte(sample(4, 1, 1)), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Threshold.MyID != 2 || c.Threshold.CoreToCoreNet.NetworkTimeout != 7 || c.PrivateVault.Storage.File.Path != "/data" {
		t.Fatalf("overrides not applied: %+v", c.Threshold)
	}
	if _, err := Parse([]byte(sample(4, 1, 1)), []string{"KMS_CORE__SERVICE__LISTEN_PROT=1"}); err == nil || !strings.Contains(err.Error(), "service.listen_prot") {
		t.Fatalf("misspelt override: %v", err)
	}
	if _, err := Parse([]byte(sample(4, 1, 1)), []string{"KMS_CORE__THRESHOLD__THRESHOLD=2"}); err == nil || !strings.Contains(err.Error(), "Got t=2") {
		t.Fatalf("override validated: %v", err)
	}
}

func TestTLSValidation(t *testing.T) {
	tlsSection := "\n[threshold.tls.manual]\ncert = {path = \"/app/kms/keys/PRIV-p3/TLS/cert.pem\"}\nkey = {path = \"/app/kms/keys/PRIV-p3/TLS/key.pem\"}\n"
	withCerts := func(s string) string {
		return strings.ReplaceAll(s, "\nport = 50001\n", "\nport = 50001\ntls_cert = {pem = \"-----BEGIN CERTIFICATE-----\"}\n")
	}
	c, err := Parse([]byte(withCerts(sample(4, 1, 3))+tlsSection), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Peer(2); p.Identity() != "kms-party-2" {
		t.Fatalf("mpc_identity should default to the address, got %q", p.Identity())
	}
	for _, tc := range []struct{ doc, want string }{
		{sample(4, 1, 3) + tlsSection, "Peer 1 has no tls_cert: with TLS every peer's certificate is required"},
		{withCerts(sample(4, 1, 3)), "Peer 1 has a tls_cert but threshold.tls is not configured"},
		{withCerts(sample(4, 1, 3)) + "\n[threshold.tls.manual]\ncert = {path = \"a\", pem = \"b\"}\nkey = {path = \"k\"}\n", "threshold.tls.manual.cert must have either a path or a pem, not both"},
		{withCerts(sample(4, 1, 3)) + "\n[threshold.tls.manual]\ncert = {path = \"a\"}\n", "threshold.tls.manual.key must have a path or a pem"},
		{withCerts(sample(4, 1, 3)) + "\n[threshold.tls.manual]\ncert = {file = \"a\"}\nkey = {path = \"k\"}\n", "unknown configuration key(s): threshold.tls.manual.cert.file"},
	} {
		_, err := Parse([]byte(tc.doc), []string{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

// realRateLimiterSection is core/service/config/default_1.toml's.
const realRateLimiterSection = `
[rate_limiter_conf]
bucket_size = 50000
pub_decrypt = 1
user_decrypt = 1
crsgen = 100
preproc = 25000
keygen = 1000
new_epoch = 1
`

func TestRateLimiterSection(t *testing.T) {
	c, err := Parse([]byte(sample(4, 1, 1)), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimiter() != DefaultRateLimiter {
		t.Fatalf("without the section: %+v, want the real defaults", c.RateLimiter())
	}
	c, err = Parse([]byte(sample(4, 1, 1)+realRateLimiterSection), []string{"KMS_CORE__RATE_LIMITER_CONF__BUCKET_SIZE=20"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.RateLimiter(); got.BucketSize != 20 || got.PubDecrypt != 1 || got.Preproc != 25000 {
		t.Fatalf("real section with an override: %+v", got)
	}
	for key, want := range map[string]string{
		"bucket_size = 50000": `rate_limiter_conf.bucket_size: Validation error: range [{"min": Number(1), "value": Number(0)}]`,
		"pub_decrypt = 1":     `rate_limiter_conf.pub_decrypt: Validation error: range [{"min": Number(1), "value": Number(0)}]`,
	} {
		doc := sample(4, 1, 1) + strings.Replace(realRateLimiterSection, key, strings.Split(key, " ")[0]+" = 0", 1)
		if _, err := Parse([]byte(doc), []string{}); err == nil || err.Error() != want {
			t.Errorf("%s set to 0: %v, want %q", key, err, want)
		}
	}
	if _, err := Parse([]byte(sample(4, 1, 1)+realRateLimiterSection+"bucket_sise = 3\n"), []string{}); err == nil || !strings.Contains(err.Error(), "rate_limiter_conf.bucket_sise") {
		t.Errorf("misspelt key: %v", err)
	}
}
