package keygen

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/p2p"
)

// authOf loads party i's TLS material as its server would.
func authOf(t *testing.T, res *Result, i int) *p2p.Auth {
	t.Helper()
	cfg, err := config.Load(res.Configs[i-1], []string{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := p2p.AuthFromConfig(cfg)
	if err != nil || a == nil {
		t.Fatalf("party %d: auth %v, %v", i, a, err)
	}
	return a
}

func TestCertificatesIssuedAndReissued(t *testing.T) {
	dir := t.TempDir()
	res, err := Generate(rand.Reader, Options{N: 4, T: 1, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		if err := authOf(t, res, i).SelfCheck(); err != nil {
			t.Fatalf("party %d's fresh certificate: %v", i, err)
		}
	}
	for _, tc := range []struct {
		name     string
		identity string
		v        Validity
		want     string
	}{
		{"wrong CN", "kms-party-3-old", ValidFor(time.Hour), "Certificate subject kms-party-3-old does not match mpc_identity kms-party-3"},
		{"expired", "kms-party-3", Validity{time.Now().Add(-48 * time.Hour), time.Now().Add(-24 * time.Hour)}, "certificate has expired: subject kms-party-3"},
		{"repaired", "kms-party-3", ValidFor(time.Hour), ""},
	} {
		if _, err := Reissue(rand.Reader, dir, 3, tc.identity, tc.v); err != nil {
			t.Fatal(err)
		}
		err := authOf(t, res, 3).SelfCheck()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}
