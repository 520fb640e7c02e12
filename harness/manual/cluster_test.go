package manual

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/docker"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// TestEveryKindIsUndoneByAnotherProcess injects every kind of the table
// through one handle on an n=4 cluster and heals it by id through another,
// attached afresh as a new process would be: the audit must see the fault
// (red) before the heal and nothing after it (green), every party Optimal.
// The undo of each kind thus works from the cluster alone.
func TestEveryKindIsUndoneByAnotherProcess(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c, err := docker.Start(ctx, cluster.WithTopology(4, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := c.Terminate(tctx); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})
	for _, k := range fault.Kinds() {
		if err := k.OfferedOn(fault.PlatformOf(c)); err != nil {
			// evict: Inject refuses it, one line.
			if _, err := Inject(ctx, c, Request{Kind: k.Name, Party: 2}, time.Now()); !strings.Contains(fmt.Sprint(err), "is not offered on the docker backend") {
				t.Errorf("%s on Docker: %v, want it refused as not offered", k.Name, err)
			}
			continue
		}
		req := Request{Kind: k.Name, Party: 2}
		if k.Target == fault.AtLink {
			req = Request{Kind: k.Name, Link: [2]int{1, 3}}
		}
		start := time.Now()
		r, err := Inject(ctx, c, req, time.Now())
		if err != nil {
			t.Errorf("%s: inject: %v", k.Name, err)
			if _, err := c.Reset(ctx); err != nil {
				t.Fatalf("reset after a failed inject: %v", err)
			}
			continue
		}
		before, err := c.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if before.Clean() {
			t.Errorf("%s: the audit does not see the fault %s", k.Name, r.Name)
		}
		other, err := docker.Attach(ctx, c.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if act, err := Active(ctx, other); err != nil || len(act) != 1 || act[0].ID != r.ID {
			t.Fatalf("%s: another handle finds %v (%v), want %s", k.Name, act, err, r.ID)
		}
		if _, err := Heal(ctx, other, r.ID); err != nil {
			t.Errorf("%s: heal from another handle: %v", k.Name, err)
		}
		actx, acancel := context.WithTimeout(ctx, 90*time.Second)
		err = other.AwaitOptimal(actx)
		acancel()
		if err != nil {
			t.Errorf("%s: not Optimal after the heal: %v", k.Name, err)
		}
		after, err := other.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if act, _ := Active(ctx, other); len(act) != 0 || !after.Clean() {
			t.Errorf("%s: after the heal, audit: %s; records: %v", k.Name, after, act)
		}
		t.Logf("%-14s red then green in %s (audit before the heal: %s)", k.Name, time.Since(start).Round(time.Millisecond), before)
		if !after.Clean() {
			if _, err := c.Reset(ctx); err != nil {
				t.Fatalf("reset: %v", err)
			}
		}
	}
}
