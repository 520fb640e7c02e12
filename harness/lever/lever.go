// Package lever is the safety lever of a cluster under chaos: Pull halts
// it — records the halt (harness/halt), heals everything now and ends a
// game day running on it — and Watch watches a cluster's guard rails
// (harness/guard) and pulls the lever when one trips. 'kmschaos halt',
// the live view's halt button and every guard pull the same lever.
package lever

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/gameday"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/manual"
)

// Pulled is what a pull of the lever did.
type Pulled struct {
	halt.Halt
	// Already: the cluster was halted before (the halt in force is that
	// first one); it was healed again all the same.
	Already bool
	// Manual are the faults injected by hand that were healed.
	Manual []manual.Record
	// Repaired is what the reset found different from the baseline and
	// repaired: every fault, by hand, a game day's, a scenario's.
	Repaired cluster.ResetReport
	// GameDay is the id of the game day that was running, if one was;
	// GameDayEnded says whether it has ended (its runner ends it, or
	// Pull did when the runner was gone), GameDayNote why not.
	GameDay      string
	GameDayEnded bool
	GameDayNote  string
}

// Pull halts cluster c: it records the halt (the first cause stays if c
// was halted already), heals everything now — the cluster back to its
// baseline, faults by hand forgotten — and sees the game day running on
// c, if any, end: its runner heals its faults and records the halt in
// its report at its next tick; if the runner is gone, Pull ends it from
// here (that needs the game day's key; without it the facilitator's next
// 'gameday status' revives a runner, which ends it). Every process that
// injects refuses from the moment the record is written.
func Pull(ctx context.Context, c *cluster.Cluster, cause, by string, now time.Time) (Pulled, error) {
	var p Pulled
	asked := halt.Halt{Cause: cause, At: now.UTC(), By: by}
	var err error
	if p.Halt, err = halt.Set(ctx, c, asked); err != nil {
		return p, fmt.Errorf("recording the halt: %w", err)
	}
	// Set keeps a halt already in force and returns it.
	p.Already = p.Halt != asked
	p.Repaired, p.Manual, err = manual.HealAll(ctx, c)
	if err != nil {
		return p, fmt.Errorf("healing everything: %w", err)
	}
	h, err := gameday.LoadHeader(ctx, c)
	if err != nil || !h.Running() {
		return p, err
	}
	p.GameDay = h.ID
	if h, err = gameday.AwaitEnd(ctx, c, h); err != nil {
		return p, fmt.Errorf("waiting for game day %s to end: %w", p.GameDay, err)
	}
	if !h.Running() {
		p.GameDayEnded = true
		return p, nil
	}
	err = gameday.EndHalted(ctx, c, p.Halt, io.Discard)
	var k *gameday.KeyError
	switch {
	case errors.As(err, &k):
		p.GameDayNote = fmt.Sprintf("its runner is gone and only the facilitator can end it (%s): its faults are healed; the facilitator's 'kmschaos gameday status' ends it", k.Path)
		return p, nil
	case err != nil:
		return p, fmt.Errorf("ending game day %s: %w", p.GameDay, err)
	}
	p.GameDayEnded = true
	return p, nil
}
