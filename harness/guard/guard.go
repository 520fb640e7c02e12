// Package guard holds the guard rails of a cluster under chaos: the
// conditions under which every fault is to be halted at once. It judges
// observations — which parties a client cannot decrypt through, the wrong
// values seen, the faults still on — and says when one trips and why; it
// neither reads the cluster nor heals it (harness/lever does), so each
// rail is tested without a cluster.
package guard

import (
	"fmt"
	"slices"
	"time"

	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/workload"
)

// DefaultGrace is how long more than t parties may be out of reach before
// the guard halts: long enough for a coordinated restart of every party
// (a runbook the players may rightly run), short enough that a cascade
// does not run on unwatched.
var DefaultGrace = fixtures.Intervals.Guard.Grace

// Limits are what the facilitator (or the command line) set.
type Limits struct {
	T int // the cluster's threshold: more than T parties out of reach trips
	// Grace is how long more than T parties may stay out of reach; zero
	// turns the reachability rail off.
	Grace time.Duration
	// Deadline is when every fault watched must be off; zero: none.
	Deadline time.Time
}

// Observation is what was seen at one moment.
type Observation struct {
	At         time.Time
	OutOfReach []int          // parties a client cannot decrypt through now
	Wrongs     []oracle.Wrong // every wrong value seen so far
	On         int            // faults watched that are still on
}

// Guard judges a stream of observations against its limits.
type Guard struct {
	l     Limits
	since time.Time // first observation of the unbroken run with more than T out of reach
}

// New is a guard with these limits.
func New(l Limits) *Guard { return &Guard{l: l} }

// Check judges one observation; it returns why the guard tripped, or ""
// if it did not. A wrong value trips at once; more than T parties out
// of reach trip once that has lasted longer than the grace; the deadline
// trips when it has come with a fault still on.
func (g *Guard) Check(o Observation) string {
	if len(o.Wrongs) > 0 {
		return "wrong decryption: " + o.Wrongs[0].String()
	}
	if len(o.OutOfReach) > g.l.T && g.l.Grace > 0 {
		if g.since.IsZero() {
			g.since = o.At
		}
		if out := o.At.Sub(g.since); out > g.l.Grace {
			return fmt.Sprintf("%d parties out of reach (%v) for %s > grace %s: more than t=%d",
				len(o.OutOfReach), o.OutOfReach, out.Round(time.Second), g.l.Grace, g.l.T)
		}
	} else {
		g.since = time.Time{}
	}
	if !g.l.Deadline.IsZero() && !o.At.Before(g.l.Deadline) && o.On > 0 {
		return DeadlineCause(g.l.Deadline, o.On)
	}
	return ""
}

// DeadlineCause is the deadline rail's cause: deadline d passed with on
// faults still on.
func DeadlineCause(d time.Time, on int) string {
	return fmt.Sprintf("deadline %s passed with %d fault(s) still on", d.UTC().Format(time.TimeOnly), on)
}

// OutOfReach tells, from a workload's operations, the parties whose last
// decryption failed: a client cannot decrypt through them now. A party
// with no operation yet is not judged.
func OutOfReach(ops []workload.Op) []int {
	last := map[int]workload.Op{}
	for _, op := range ops {
		if l, ok := last[op.Party]; !ok || op.End.After(l.End) {
			last[op.Party] = op
		}
	}
	var out []int
	for p, op := range last {
		if op.Outcome != workload.OK {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
