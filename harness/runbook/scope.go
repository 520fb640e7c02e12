package runbook

import (
	"context"
	"fmt"
	"slices"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/probe"
)

// OptimalAmong is an expect optimal judged on the parties of scope
// (cluster.CheckOptimalAmong; none: every party Optimal).
func OptimalAmong(scope []int) probe.Probe {
	name := "every party Optimal"
	if len(scope) > 0 {
		name = fmt.Sprintf("parties %v Optimal (or missing only parties beyond them)", scope)
	}
	return probe.New(name, func(ctx context.Context, c *cluster.Cluster) error {
		return c.CheckOptimalAmong(ctx, scope)
	})
}

// Touches are the parties a run of the runbook with e acts on: the party
// it is about ({{party}}), and every party its engine steps (but inspect,
// which only looks) and its execs in a party name — all of them for
// "all". A runbook that names no party of its own (only checks, keeper
// commands, heal or escalate steps) touches the party it is about alone:
// that is the party the person who runs it says it is for. A party list
// that does not resolve is left out: Run fails on it anyway.
func (rb *Runbook) Touches(e *Env) []int {
	v := e.vars()
	out := []int{e.Party}
	add := func(spec string) {
		ids, err := parties(spec, e.C.Topology.N, v)
		if err == nil {
			out = append(out, ids...)
		}
	}
	for _, s := range rb.Steps {
		switch {
		case s.Engine != nil && !s.inspects():
			add(s.Engine.Parties)
		case s.Exec != nil && (s.Exec.In == "" || s.Exec.In == "party"):
			add(s.Exec.Party)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
