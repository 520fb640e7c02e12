package gameday

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/report"
)

// An escalation is the party operator's move for a fault that is not
// theirs to fix (fault.FixCoordinator: the network between parties and
// between clients and a party): they ask the network coordinator to act
// on a party's network, as the guide says to. The players record it in
// the keeper as said, like a diagnosis; the runner — the process that
// holds the key and the faults — answers it on its tick, standing for
// the coordinator: it undoes the hidden faults that are the
// coordinator's, on (a link: at either end of) that party, and no other.
// A wrong escalation changes nothing and is recorded; the report lists
// it. A fault undone so is recovered "by the players, through the
// coordinator" once the cluster is back (the runner's usual watch), for
// what they did besides — kms-init after a party was cut off — still
// counts.

const escPrefix = "gameday-esc-"

// ByCoordinator: recovered by the players, through the coordinator — the
// harness undid the fault on their escalation.
const ByCoordinator = "coordinator"

// Escalation is what a player asked the coordinator about a party, and
// the answer.
type Escalation struct {
	At    time.Time `json:"at"`
	Party int       `json:"party"`
	Ask   string    `json:"ask"`
	// The coordinator's answer (the runner's), as the players are told it.
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	Answer     string    `json:"answer,omitempty"`
	// Healed are the faults the coordinator undid, numbered from 1: in
	// the sealed state only, never in the record the players read.
	Healed []int `json:"healed,omitempty"`
}

// Right tells whether the escalation had the coordinator undo a fault.
func (e Escalation) Right() bool { return len(e.Healed) > 0 }

// answerText is what the coordinator says back. A real coordinator asked
// about party N looks at N's network and says whether they found
// something there and acted on it; so does this one, and no more. The
// players learn that a fault of the coordinator's touched party N (or
// that none did, then): what a real coordinator tells anyone who asks.
// They do not learn the kind (latency, resets, a refused or hanging
// link), the other end of a link, when it came, how many faults there
// were, nor anything of a fault that is the operator's own: "nothing to
// fix" is also the answer about a party that was killed, as a network
// team would give it. The record the players can read holds only this
// text; which faults were undone is in the sealed state. Asking about
// every party in turn would find them — as it would bother a real
// coordinator — so every wrong escalation is in the report.
func answerText(party int, acted bool) string {
	if acted {
		return fmt.Sprintf("the coordinator acted on party %d's network", party)
	}
	return fmt.Sprintf("the coordinator found nothing to fix on party %d's network", party)
}

// answerPoll: how often a player's process reads the record for the
// answer (the runner answers every Tick).
var answerPoll = Tick / 4

// Ask records a player's escalation about party, as asked, with its time:
// an *InputError, nothing recorded, for an empty request, a party out of
// range or no game day running. It returns the record's name for Await.
func Ask(ctx context.Context, c *cluster.Cluster, party int, ask string, now time.Time) (string, Escalation, error) {
	ask = strings.TrimSpace(ask)
	if ask == "" {
		return "", Escalation{}, inputf("say what you ask the coordinator: kmschaos gameday escalate --party N \"what we ask\"")
	}
	if party < 1 || party > c.Topology.N {
		return "", Escalation{}, inputf("--party %d is out of range: the cluster has parties 1 to %d", party, c.Topology.N)
	}
	h, err := LoadHeader(ctx, c)
	if err != nil {
		return "", Escalation{}, err
	}
	if !h.Running() {
		return "", Escalation{}, inputf("no game day is running on cluster %s: an escalation is a game day's move (outside one, heal a fault injected by hand with 'kmschaos heal')", c.RunID)
	}
	e := Escalation{At: now.UTC(), Party: party, Ask: ask}
	name := fmt.Sprintf("%s%d", escPrefix, now.UnixNano())
	b, err := json.Marshal(e)
	if err != nil {
		return "", e, err
	}
	return name, e, c.PutRecord(ctx, name, b)
}

// Await reads the escalation's record until the coordinator has answered
// it, for at most wait; answered is false if it has not by then (the
// record stays: the runner answers it when it runs).
func Await(ctx context.Context, c *cluster.Cluster, name string, wait time.Duration) (e Escalation, answered bool, err error) {
	deadline := time.Now().Add(wait)
	for {
		b, ok, err := c.Record(ctx, name)
		if err != nil {
			return e, false, err
		}
		if !ok {
			return e, false, fmt.Errorf("the escalation's record %s is gone (the game day ended?)", name)
		}
		if err := json.Unmarshal(b, &e); err != nil {
			return e, false, err
		}
		if !e.AnsweredAt.IsZero() {
			return e, true, nil
		}
		if !time.Now().Before(deadline) {
			return e, false, nil
		}
		select {
		case <-ctx.Done():
			return e, false, ctx.Err()
		case <-time.After(answerPoll):
		}
	}
}

// StepEscalate is a runbook's escalate step for a runbook run by hand
// about party: during a game day an escalation, awaited for at most wait
// (the step fails if the coordinator found nothing to fix, or did not
// answer); outside one, heal — the harness, standing for the
// coordinator, undoes the faults injected by hand.
func StepEscalate(c *cluster.Cluster, party int, wait time.Duration, heal func(context.Context) error) func(context.Context, string) (string, error) {
	return func(ctx context.Context, ask string) (string, error) {
		h, err := LoadHeader(ctx, c)
		if err != nil {
			return "", err
		}
		if !h.Running() {
			return "no game day running: the harness, standing for the coordinator, heals the faults injected by hand", heal(ctx)
		}
		name, _, err := Ask(ctx, c, party, ask, time.Now())
		if err != nil {
			return "", err
		}
		e, answered, err := Await(ctx, c, name, wait)
		switch {
		case err != nil:
			return "", err
		case !answered:
			return "", fmt.Errorf("the coordinator did not answer within %s (is the game day's background process running?)", wait)
		case e.Answer != answerText(party, true):
			return e.Answer, fmt.Errorf("%s", e.Answer)
		}
		return e.Answer, nil
	}
}

// pending are the escalations not answered yet, by record name.
func pending(ctx context.Context, c *cluster.Cluster) (map[string]Escalation, error) {
	recs, err := c.Records(ctx, escPrefix)
	if err != nil {
		return nil, err
	}
	out := map[string]Escalation{}
	for name, b := range recs {
		var e Escalation
		if err := json.Unmarshal(b, &e); err != nil {
			return out, fmt.Errorf("reading the cluster's record %s: %w", name, err)
		}
		if e.AnsweredAt.IsZero() {
			out[name] = e
		}
	}
	return out, nil
}

// answer answers the escalations not answered yet, oldest first, as the
// coordinator: each undoes the hidden faults on now that are the
// coordinator's and touch its party. The state is saved before the
// answer is written: an answer the players read is in the report.
func (r *Runner) answer(ctx context.Context, now time.Time) {
	esc, err := pending(ctx, r.C)
	if err != nil {
		r.logf("reading the escalations: %v", err)
	}
	var names []string
	for n := range esc {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return esc[names[i]].At.Before(esc[names[j]].At) })
	for _, name := range names {
		e, ok := r.answered(esc[name])
		if !ok {
			e = r.answerOne(ctx, esc[name], now)
		}
		if err := Save(ctx, r.C, r.s); err != nil {
			r.logf("saving the state: %v", err)
			continue // written on a later tick, from the record still pending
		}
		public := e
		public.Healed = nil
		b, _ := json.Marshal(public)
		if err := r.C.PutRecord(ctx, name, b); err != nil {
			r.logf("writing the answer to %s: %v", name, err)
		}
	}
}

// answered is escalation e as already answered in the state — its
// answer's save or record failed on an earlier tick, or an earlier
// runner died before writing it — so that it is written again, not
// answered twice (the second time, with its faults undone, wrongly).
func (r *Runner) answered(e Escalation) (Escalation, bool) {
	for _, a := range r.s.Escalations {
		if a.At.Equal(e.At) && a.Party == e.Party && a.Ask == e.Ask {
			return a, true
		}
	}
	return e, false
}

// answerOne answers escalation e now: it undoes the coordinator's faults
// on e's party and adds e, answered, to the state.
func (r *Runner) answerOne(ctx context.Context, e Escalation, now time.Time) Escalation {
	for i := range r.s.Faults {
		f := &r.s.Faults[i]
		k, _ := fault.LookupKind(f.Kind)
		if k.Fix != fault.FixCoordinator || !f.Active(now) || f.InjectError != "" || !f.EscalatedAt.IsZero() || !f.Touches(e.Party) {
			continue
		}
		if err := r.undo(ctx, i); err != nil {
			f.HealError = err.Error()
			r.logf("the coordinator undoing fault %d: %v", i+1, err)
		}
		f.EscalatedAt = now.UTC()
		e.Healed = append(e.Healed, i+1)
		r.event(report.LaneFaults, fmt.Sprintf("the coordinator undoes fault %d", i+1), report.Info, f.Name, now, time.Time{})
	}
	e.AnsweredAt, e.Answer = now.UTC(), answerText(e.Party, e.Right())
	label, status := fmt.Sprintf("escalation: party %d (wrong: nothing to fix)", e.Party), report.Fail
	if e.Right() {
		label, status = fmt.Sprintf("escalation: party %d (right, fault %s)", e.Party, joinInts(e.Healed)), report.OK
	}
	r.event(report.LanePlayers, label, status, e.Ask, e.At, time.Time{})
	r.s.Escalations = append(r.s.Escalations, e)
	r.logf("escalation about party %d answered: %s (faults undone: %v)", e.Party, e.Answer, e.Healed)
	return e
}

// undo undoes fault i from the cluster alone (a test's stand-in if set).
func (r *Runner) undo(ctx context.Context, i int) error {
	f := r.s.Faults[i]
	if r.testUndo != nil {
		return r.testUndo(f)
	}
	k, _ := fault.LookupKind(f.Kind)
	return k.Undo(context.WithoutCancel(ctx), r.C, f.args(), f.Tag)
}

// recoveredBy is who recovered fault f once the cluster is back: the
// players, through the coordinator if they escalated it.
func recoveredBy(f Fault) string {
	if !f.EscalatedAt.IsZero() {
		return ByCoordinator
	}
	return ByPlayers
}

// Who tells who recovered, for people.
func Who(by string) string {
	switch by {
	case ByPlayers:
		return "the players"
	case ByCoordinator:
		return "the players, through the coordinator"
	case ByHarness:
		return "the harness"
	}
	return by
}

// writeEscalations lists the escalations in the text report, wrong ones
// said so.
func writeEscalations(w io.Writer, started time.Time, escs []Escalation) {
	wrong := 0
	for _, e := range escs {
		if !e.Right() {
			wrong++
		}
	}
	fmt.Fprintf(w, "escalations to the coordinator (%d, %d wrong):\n", len(escs), wrong)
	for _, e := range escs {
		fmt.Fprintf(w, "  +%-9s party %d: %s%s\n", e.At.Sub(started).Round(100*time.Millisecond), e.Party, e.Verdict(), quoted(e.Ask))
	}
}

// Verdict is how the report scores the escalation.
func (e Escalation) Verdict() string {
	if e.Right() {
		return "right: the coordinator undid fault " + joinInts(e.Healed)
	}
	return "WRONG: nothing to fix, nothing changed"
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
