package fault

import (
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/keygen"
	"github.com/kmschaos/kmschaos/kms/p2p"
)

// PeerRenamed renames exactly the next peer in the list of the party it
// is applied to (party 13's next is party 1, not 13), and the party's
// start-up check refuses the result with the real message.
func TestPeerRenamed(t *testing.T) {
	res, err := keygen.Generate(rand.Reader, keygen.Options{N: 13, T: 4, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster.Cluster{Topology: cluster.Topology{N: 13, T: 4}}
	orig, err := os.ReadFile(res.Configs[12])
	if err != nil {
		t.Fatal(err)
	}
	bad := PeerRenamed.Apply(string(orig), c, 13)
	if k := RenamedPeer(13, 13); k != 1 {
		t.Fatalf("RenamedPeer(13, 13) = %d, want 1", k)
	}
	cfg, err := config.Parse([]byte(bad), []string{})
	if err != nil {
		t.Fatalf("the renamed list no longer parses: %v", err)
	}
	for _, p := range cfg.Threshold.Peers {
		want := "kms-party-" + strings.TrimPrefix(p.Address, "kms-party-")
		if p.PartyID == 1 {
			want = "kms-party-1.renamed"
		}
		if p.MPCIdentity != want {
			t.Errorf("peer %d: mpc_identity %q, want %q", p.PartyID, p.MPCIdentity, want)
		}
	}
	if _, err := p2p.AuthFromConfig(cfg); err == nil || err.Error() != "Certificate subject kms-party-1 does not match mpc_identity kms-party-1.renamed" {
		t.Fatalf("party 13's start-up check: %v", err)
	}
}
