package gameday

import (
	"context"
	"errors"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/verdict"
)

// errHidden is what the players are told of what the cluster still
// differs in from its baseline while a game day runs: what differs would
// tell them the game day's other faults.
var errHidden = errors.New("the cluster still differs from its baseline (what is hidden while a game day runs)")

// RunbookRan takes the verdict of a runbook run by hand ('kmschaos
// runbook run') as a game day on c does, if one runs: what the cluster
// still differs in is hidden from it — where it cannot be told whether a
// game day runs, as if one did — and the runbook is recorded in the
// players' lane with every wrong value this process saw (AddNote). It
// returns why the runbook did not pass, as the players may read it: a
// record the game day did not take is a failure too.
func RunbookRan(ctx context.Context, c *cluster.Cluster, v *verdict.Verdict) []string {
	h, err := LoadHeader(ctx, c)
	if v.Left.Err != nil && (h.Running() || err != nil) {
		v.Left.Err = errHidden
	}
	problems := v.Problems()
	if err != nil {
		problems = append(problems, "reading the game day's record (is one running?): "+err.Error())
	}
	if !h.Running() {
		return problems
	}
	n := Note{At: time.Now(), Took: v.Took, Runbook: v.Runbook, Party: v.Party, Passed: len(problems) == 0}
	if len(problems) > 0 {
		n.Detail = problems[0]
	}
	if _, err := AddNote(ctx, c, n); err != nil {
		problems = append(problems, "the game day did not record this runbook: "+err.Error())
	}
	return problems
}
