package lever

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/guard"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/workload"
)

// Every is how often Watch looks.
var Every = fixtures.Intervals.Guard.Every

// unreadable is how long the halt record may stay unreadable before
// Watch takes the cluster for gone.
var unreadable = fixtures.Intervals.Guard.Unreadable

// Watch watches cluster c until ctx ends or c is halted — by a guard
// that tripped here (Watch pulls the lever, by guard) or by anyone else
// — and returns the halt; nil if ctx ended first. What it judges: every
// wrong value seen through c in this process from now on (oracle's
// witness: a scenario's workload and checks, its own), and, when l has a
// grace, the parties its own light workload (one decryption through each
// party per Every) cannot decrypt through. An error: the cluster stayed
// out of reach.
func Watch(ctx context.Context, c *cluster.Cluster, l guard.Limits) (*halt.Halt, error) {
	start := time.Now()
	var w *workload.Workload
	if l.Grace > 0 {
		var err error
		w, err = workload.Start(c, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), workload.Options{Pause: Every})
		if err != nil {
			return nil, fmt.Errorf("starting the guard's workload: %w", err)
		}
		defer w.Stop()
	}
	g := guard.New(l)
	lastRead := start
	t := time.NewTicker(Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, nil
		case <-t.C:
		}
		now := time.Now()
		h, err := halt.Current(ctx, c)
		switch {
		case ctx.Err() != nil:
			return nil, nil
		case err != nil && now.Sub(lastRead) > unreadable:
			return nil, fmt.Errorf("the cluster's halt record unreadable for %s: %w", unreadable, err)
		case err != nil:
			continue
		case h != nil:
			return h, nil
		}
		lastRead = now
		o := guard.Observation{At: now, Wrongs: oracle.WitnessOf(c).Since(start)}
		if w != nil {
			o.OutOfReach = guard.OutOfReach(w.Snapshot().Ops)
		}
		if cause := g.Check(o); cause != "" {
			p, err := Pull(context.WithoutCancel(ctx), c, cause, halt.ByGuard, now)
			return &p.Halt, err
		}
	}
}
