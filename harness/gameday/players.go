package gameday

import (
	"context"
	"errors"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/runbook"
	"github.com/kmschaos/kmschaos/harness/verdict"
)

// errHidden is what the players are told of what the cluster still
// differs in from its baseline while a game day runs: what differs would
// tell them the game day's other faults.
var errHidden = errors.New("the cluster still differs from its baseline (what is hidden while a game day runs)")

// JudgedOn are the parties a runbook run by hand on env is judged on
// (runbook.Env.Scope): while a game day runs, what it touches
// (Runbook.Touches) — the players fix one fault at a time, and another
// hidden fault is not their runbook's failure; otherwise, or where it
// cannot be told whether one runs, nil: every party, as a scenario judges.
func JudgedOn(ctx context.Context, rb *runbook.Runbook, env *runbook.Env) []int {
	if h, err := LoadHeader(ctx, env.C); err != nil || !h.Running() {
		return nil
	}
	return rb.Touches(env)
}

// RunbookRan takes the verdict of a runbook run by hand ('kmschaos
// runbook run') as a game day on c does, if one runs: what the cluster
// still differs in is hidden from it — where it cannot be told whether a
// game day runs, as if one did — and, while one runs, is a note rather
// than a failure (the steady state and key material were judged on the
// parties the runbook touches, JudgedOn). The runbook is recorded in the
// players' lane with every wrong value this process saw (AddNote). It
// returns why the runbook did not pass, as the players may read it — a
// record the game day did not take is a failure too — and the notes.
func RunbookRan(ctx context.Context, c *cluster.Cluster, v *verdict.Verdict) (problems, notes []string) {
	h, err := LoadHeader(ctx, c)
	if v.Left.Err != nil && (h.Running() || err != nil) {
		v.Left.Err = errHidden
	}
	if err == nil && h.Running() && v.Left.Err != nil {
		notes = append(notes, v.Left.Name+": "+v.Left.Err.Error()+"; not held against this runbook, judged on its steps and the parties it touches")
		v.Left.Err = nil
	}
	problems = v.Problems()
	if err != nil {
		problems = append(problems, "reading the game day's record (is one running?): "+err.Error())
	}
	if !h.Running() {
		return problems, notes
	}
	n := Note{At: time.Now(), Took: v.Took, Runbook: v.Runbook, Party: v.Party, Passed: len(problems) == 0}
	if len(problems) > 0 {
		n.Detail = problems[0]
	} else if len(notes) > 0 {
		n.Detail = "note: " + notes[0]
	}
	if _, err := AddNote(ctx, c, n); err != nil {
		problems = append(problems, "the game day did not record this runbook: "+err.Error())
	}
	return problems, notes
}
