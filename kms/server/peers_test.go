package server

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"testing"

	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/keygen"
	"github.com/kmschaos/kmschaos/kms/p2p"
)

// A party checks every peer's pinned certificate against the peer's
// mpc_identity (the address when none is set) before it serves, as the
// real kms-server's build_tls_config does: a peer renamed in one party's
// list only stops that party, with the real message; an address changed
// under an explicit mpc_identity passes the check.
func TestPeerIdentityCheckedAtStart(t *testing.T) {
	res, err := keygen.Generate(rand.Reader, keygen.Options{N: 4, T: 1, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		change func(p *config.Peer)
		want   string
	}{
		{"unchanged", func(*config.Peer) {}, ""},
		{"address changed, mpc_identity kept", func(p *config.Peer) { p.Address = "kms-party-2.elsewhere" }, ""},
		{"mpc_identity changed", func(p *config.Peer) { p.MPCIdentity = "kms-party-2.renamed" },
			"Certificate subject kms-party-2 does not match mpc_identity kms-party-2.renamed"},
		{"address changed, no mpc_identity", func(p *config.Peer) { p.MPCIdentity = ""; p.Address = "kms-party-2.elsewhere" },
			"Certificate subject kms-party-2 does not match mpc_identity kms-party-2.elsewhere"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Load(res.Configs[0], []string{})
			if err != nil {
				t.Fatal(err)
			}
			c.change(&cfg.Threshold.Peers[1])
			if c.want == "" {
				if _, err := p2p.AuthFromConfig(cfg); err != nil {
					t.Fatalf("the peer list of party 1 was refused: %v", err)
				}
				return
			}
			// Run stops before it binds a port: the party never serves.
			// Cancelled: a party that passed the check would drain and
			// return nil at once.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err = Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil || err.Error() != c.want {
				t.Fatalf("party 1 started with error %v, want %q", err, c.want)
			}
		})
	}
}
