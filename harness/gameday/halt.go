package gameday

import (
	"context"
	"io"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/guard"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/report"
)

// A halt ends the game day; it does not pause it. Its heal is a reset of
// the whole cluster, so nothing is left of the hidden faults to recover,
// diagnose or score from there on; and what made someone pull the lever
// (or a guard trip) is reason enough not to resume the exercise on its
// own. Lifting the halt ('kmschaos unhalt') lets a new game day start.

// halted is the halt in force on the cluster, nil if none; a record that
// cannot be read is logged and taken for none this tick (the next reads
// it again; the heartbeat's reach judges a cluster gone).
func (r *Runner) halted(ctx context.Context) *halt.Halt {
	h, err := halt.Current(ctx, r.C)
	if err != nil {
		r.logf("reading the halt: %v", err)
	}
	return h
}

// guardLimits are the game day's guard rails on a cluster of threshold
// t: the grace the facilitator set, and a deadline by which every hidden
// fault is past its limit (a few ticks for the harness's heal of the last).
func (s *State) guardLimits(t int) guard.Limits {
	var last time.Duration
	for _, f := range s.Faults {
		last = max(last, f.At)
	}
	return guard.Limits{T: t, Grace: s.Grace, Deadline: s.Started.Add(last + s.Limit + 5*Tick)}
}

// guardTripped judges this tick's observations — the parties the
// workload cannot decrypt through, the wrong values seen, the faults
// still on — and, if a guard trips, halts the cluster (the halt record:
// this runner and any process that injects read it). It says whether
// the cluster is halted now.
func (r *Runner) guardTripped(ctx context.Context, now time.Time) bool {
	if r.guard == nil {
		r.guard = guard.New(r.s.guardLimits(r.C.Topology.T))
	}
	o := guard.Observation{At: now, Wrongs: r.s.Wrongs}
	if r.w != nil {
		o.OutOfReach = guard.OutOfReach(r.w.Snapshot().Ops)
	}
	for _, f := range r.s.Faults {
		if f.Active(now) || f.HealError != "" {
			o.On++
		}
	}
	cause := r.guard.Check(o)
	if cause == "" {
		return false
	}
	h, err := halt.Set(ctx, r.C, halt.Halt{Cause: cause, At: now.UTC(), By: halt.ByGuard})
	if err != nil {
		r.logf("a guard tripped (%s) but the halt could not be recorded: %v", cause, err)
		return false
	}
	r.logf("guard tripped: %s", h)
	return true
}

// endHalted ends the game day a halt stopped: every fault still on is
// healed at once (the cluster back to its baseline), the halt goes into
// the sealed state and the timeline, and the game day ends as an abort
// does, its stage "halted".
func (r *Runner) endHalted(ctx context.Context, base report.Ops, h halt.Halt) error {
	r.logf("the cluster is %s: ending the game day, every fault healed", h)
	r.s.Halt, r.s.Halted = &h, true
	r.event(report.LaneFaults, "HALTED by "+h.By+": every fault healed", report.Fail, h.Cause, h.At, time.Time{})
	return r.finish(ctx, base, true)
}

// EndHalted ends, from any facilitator's process, a running game day
// whose runner is gone, for halt h: what the lever does when nobody else
// will. A *KeyError if this user cannot read the game day's key; nil if
// no game day runs.
func EndHalted(ctx context.Context, c *cluster.Cluster, h halt.Halt, log io.Writer) error {
	s, err := Load(ctx, c)
	if err != nil || !s.Running() {
		return err
	}
	s.WorkloadLost = true
	r := &Runner{C: c, Log: log, s: s, rec: report.NewRecorder()}
	return r.endHalted(ctx, s.Ops, h)
}
