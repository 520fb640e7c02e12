package manual

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

// A kind the cluster's backend does not offer is refused by hand too, in
// one line, and nothing is recorded: not a fault that fails half-way.
func TestInjectRefusesAKindTheBackendLacks(t *testing.T) {
	ctx := context.Background()
	c, _, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	keeper.OnExec = keeper.Files
	_, err = Inject(ctx, c, Request{Kind: "evict", Party: 2}, time.Now())
	var in *InputError
	if !errors.As(err, &in) || !strings.HasPrefix(err.Error(), "fault kind evict is not offered on the fake backend (only on kubernetes)") {
		t.Fatalf("evict on a backend without a scheduler: %v, want a one-line input error", err)
	}
	if active, err := Active(ctx, c); err != nil || len(active) != 0 {
		t.Errorf("after the refusal: %d faults recorded (%v)", len(active), err)
	}
}
