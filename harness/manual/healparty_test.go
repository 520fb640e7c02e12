package manual

import (
	"context"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

// A runbook's heal step run by hand heals the faults by hand that touch
// its party, and only those; with none, it fails, saying so.
func TestHealParty(t *testing.T) {
	ctx := context.Background()
	c, parties, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	keeper.OnExec = keeper.Files
	for _, p := range []int{2, 3} {
		if _, err := Inject(ctx, c, Request{Kind: "kill", Party: p, BeyondThreshold: true}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := HealParty(ctx, c, 2); err != nil {
		t.Fatal(err)
	}
	active, err := Active(ctx, c)
	if err != nil || len(active) != 1 || active[0].Party != 3 {
		t.Fatalf("active after healing party 2: %+v (%v), want the kill of party 3 alone", active, err)
	}
	if st, _ := parties[1].State(ctx); !st.Running {
		t.Error("party 2 is still down")
	}
	if err := HealParty(ctx, c, 4); err == nil || err.Error() != "no fault injected by hand touches party 4" {
		t.Errorf("healing party 4: %v", err)
	}
}
