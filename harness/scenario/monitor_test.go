package scenario

import (
	"context"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

// The timeline labels a down party with its exit status where the
// backend saw it, and says "unknown" where it did not, never 0.
func TestMonitorLabelsAnUnknownExit(t *testing.T) {
	ctx := context.Background()
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	parties[1].ExitUnseen = true
	for i := 1; i <= 2; i++ {
		if err := c.Party(i).Kill(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range map[int]string{1: "exited (exit 137)", 2: "exited (exit unknown)"} {
		if got := sampleParty(ctx, c, i).label; got != want {
			t.Errorf("party %d: %q, want %q", i, got, want)
		}
	}
}
