package cluster

import (
	"context"
	"slices"
	"testing"
)

// imageDriver records the image of every party it starts.
type imageDriver struct {
	Driver
	started []string
}

func (d *imageDriver) StartParty(_ context.Context, s Spec, i int, _ []string, _ bool) (Workload, error) {
	d.started = append(d.started, s.PartyImage(i))
	return nil, nil
}

// Upgrades and rollbacks move a party along its revisions as helm
// upgrade and helm rollback move a release: each rollback to the image
// before the last upgrade, down to the baseline, and no further.
func TestUpgradeAndRollbackFollowTheRevisions(t *testing.T) {
	ctx := context.Background()
	d := &imageDriver{}
	c := &Cluster{driver: d, Images: Images{Party: "party:base"}}
	for _, step := range []func() error{
		func() error { return c.Upgrade(ctx, 2, "party:next") },
		func() error { return c.Upgrade(ctx, 2, "party:bad") },
		func() error { return c.Rollback(ctx, 2) },
		func() error { return c.Rollback(ctx, 2) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"party:next", "party:bad", "party:next", "party:base"}; !slices.Equal(d.started, want) {
		t.Fatalf("party 2 started on %q, want %q", d.started, want)
	}
	if err := c.Rollback(ctx, 2); err == nil {
		t.Fatal("a party on the baseline image was rolled back further")
	}
	if im := c.spec().PartyImage(1); im != "party:base" {
		t.Fatalf("party 1, never upgraded, runs %q", im)
	}
}

// Reset and the audit take a party on another image than the baseline's
// for a fault; a backend that does not name the image is not one.
func TestOtherImageIsADifference(t *testing.T) {
	c := &Cluster{Images: Images{Party: "party:base"}}
	for im, want := range map[string]bool{"party:next": true, "party:base": false, "": false} {
		if got := c.otherImage(State{Image: im}); got != want {
			t.Errorf("image %q: other %v, want %v", im, got, want)
		}
	}
}
