package gameday

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

// escalationGameDay is a game day on a fake cluster with two hidden
// faults on: latency on party 2's links (the coordinator's to fix) and a
// kill of party 3 (its operator's). Its runner's checks stand in for the
// cluster's: the audit shows each fault until it is undone (the kill
// never is), and what the runner undoes is recorded.
func escalationGameDay(t *testing.T) (*cluster.Cluster, *Runner, func() []string) {
	t.Helper()
	c, _, _, s := fakeGameDay(t)
	on := time.Now().Add(-time.Minute).UTC()
	s.Faults = []Fault{
		{Kind: "latency", Party: 2, Name: "latency 300ms ± 50ms on the links of party 2", Parties: []int{2}, Tag: "gd-" + s.ID + "-1", InjectedAt: on},
		{Kind: "kill", Party: 3, Name: "kill party 3", Parties: []int{3}, Tag: "gd-" + s.ID + "-2", InjectedAt: on},
	}
	if err := Save(context.Background(), c, s); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var undone []string
	r := &Runner{C: c, s: s,
		testUndo: func(f Fault) error {
			mu.Lock()
			defer mu.Unlock()
			undone = append(undone, f.Kind)
			return nil
		},
		test: &checks{
			audit: func(*cluster.Cluster, context.Context) (cluster.ResetReport, error) {
				mu.Lock()
				defer mu.Unlock()
				rep := cluster.ResetReport{Repaired: map[int][]string{3: {"not running (exited)"}}}
				if len(undone) == 0 {
					rep.Mesh = []string{"peer-p1-p2 has toxic gd-" + s.ID + "-1 (latency)"}
				}
				return rep, nil
			},
			steady: func(context.Context, *cluster.Cluster) error { return nil },
			keys:   func(context.Context, *cluster.Cluster) error { return nil },
		}}
	return c, r, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), undone...)
	}
}

// ticking runs the runner's ticks, fast, until the test ends.
func ticking(t *testing.T, r *Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			r.step(ctx, time.Now())
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// A wrong escalation — party 3's fault is its operator's — changes
// nothing and is told "nothing to fix"; the right one has the
// coordinator undo party 2's latency, and once the cluster is back the
// fault is recovered by the players, through the coordinator. The report
// says so and lists the wrong escalation; what the players can read in
// the keeper holds the answers and nothing of the truth.
func TestEscalation(t *testing.T) {
	ctx := context.Background()
	c, r, undone := escalationGameDay(t)
	stop := ticking(t, r)

	name, _, err := Ask(ctx, c, 3, "party 3 is gone from its peers: please check its network", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e, answered, err := Await(ctx, c, name, 10*time.Second)
	if err != nil || !answered {
		t.Fatalf("no answer (%v)", err)
	}
	if e.Answer != "the coordinator found nothing to fix on party 3's network" || len(undone()) != 0 {
		t.Fatalf("wrong escalation: answer %q, faults undone %v; want nothing to fix, nothing undone", e.Answer, undone())
	}
	// The runbook's escalate step, about party 2.
	answer, err := StepEscalate(c, 2, 10*time.Second, nil)(ctx, "party 2's links are slow: please check them")
	if err != nil || answer != "the coordinator acted on party 2's network" {
		t.Fatalf("right escalation: answer %q, %v", answer, err)
	}
	if got := undone(); len(got) != 1 || got[0] != "latency" {
		t.Fatalf("faults undone %v, want the latency alone", got)
	}
	// Asked again: nothing left to fix.
	if _, err := StepEscalate(c, 2, 10*time.Second, nil)(ctx, "again"); err == nil || err.Error() != "the coordinator found nothing to fix on party 2's network" {
		t.Errorf("a second escalation: %v, want nothing to fix", err)
	}
	stop()

	s := r.s
	if f := s.Faults[0]; f.RecoveredBy != ByCoordinator {
		t.Errorf("the latency: recovered by %q, want %q", f.RecoveredBy, ByCoordinator)
	}
	if f := s.Faults[1]; !f.RecoveredAt.IsZero() {
		t.Errorf("the kill recovered (by %s): no escalation fixes it", f.RecoveredBy)
	}
	var text bytes.Buffer
	WriteText(&text, s, nil, nil)
	for _, want := range []string{
		"recovered       by the players, through the coordinator, ",
		"escalations to the coordinator (3, 2 wrong):",
		`party 3: WRONG: nothing to fix, nothing changed — "party 3 is gone from its peers: please check its network"`,
		`party 2: right: the coordinator undid fault 1 — "party 2's links are slow: please check them"`,
		`party 2: WRONG: nothing to fix, nothing changed — "again"`,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, text.String())
		}
	}
	recs, err := c.Records(ctx, escPrefix)
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d escalation records (%v), want 3", len(recs), err)
	}
	for name, b := range recs {
		if rec := string(b); !strings.Contains(rec, `"answer":"the coordinator `) || strings.Contains(rec, "healed") || strings.Contains(rec, "latency") || strings.Contains(rec, "gd-") {
			t.Errorf("record %s tells the players more than the answer: %s", name, rec)
		}
	}
}

// Bad input — an empty request, a party out of range, no game day
// running — is an *InputError in one line, and nothing is recorded.
func TestEscalationBadInput(t *testing.T) {
	ctx := context.Background()
	c, _, _, _ := fakeGameDay(t)
	none := fakeCluster(t)
	for _, tc := range []struct {
		c     *cluster.Cluster
		party int
		ask   string
		want  string
	}{
		{c, 2, "  ", `say what you ask the coordinator: kmschaos gameday escalate --party N "what we ask"`},
		{c, 5, "please", "--party 5 is out of range: the cluster has parties 1 to 4"},
		{c, 0, "please", "--party 0 is out of range: the cluster has parties 1 to 4"},
		{none, 2, "please", "no game day is running on cluster " + none.RunID + ": an escalation is a game day's move (outside one, heal a fault injected by hand with 'kmschaos heal')"},
	} {
		_, _, err := Ask(ctx, tc.c, tc.party, tc.ask, time.Now())
		var in *InputError
		if !errors.As(err, &in) || err.Error() != tc.want {
			t.Errorf("Ask(party %d, %q): %v; want the input error %q", tc.party, tc.ask, err, tc.want)
		}
		if recs, err := tc.c.Records(ctx, escPrefix); err != nil || len(recs) != 0 {
			t.Errorf("Ask(party %d, %q) recorded %d escalations (%v)", tc.party, tc.ask, len(recs), err)
		}
	}
	// Outside a game day a runbook's escalate step heals as a heal step.
	healed := false
	if _, err := StepEscalate(none, 2, time.Second, func(context.Context) error { healed = true; return nil })(ctx, "please"); err != nil || !healed {
		t.Errorf("escalate step outside a game day: %v, healed %v; want the heal", err, healed)
	}
}

// An escalation answered in the state whose answer was never written (a
// save or the record failed, the runner died) is written on a later
// tick as it was answered — not answered again, wrongly, with its faults
// already undone.
func TestEscalationAnsweredOnce(t *testing.T) {
	ctx := context.Background()
	c, r, undone := escalationGameDay(t)
	name, _, err := Ask(ctx, c, 2, "party 2's links are slow", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	asked, _, err := c.Record(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	r.answer(ctx, time.Now())
	// The answer lost: the players' record still asks.
	if err := c.PutRecord(ctx, name, asked); err != nil {
		t.Fatal(err)
	}
	r.answer(ctx, time.Now())
	e, answered, err := Await(ctx, c, name, time.Second)
	if err != nil || !answered || e.Answer != "the coordinator acted on party 2's network" {
		t.Errorf("the answer written again: %q (answered %v, %v); want the coordinator acted", e.Answer, answered, err)
	}
	if len(r.s.Escalations) != 1 || !r.s.Escalations[0].Right() || len(undone()) != 1 {
		t.Errorf("escalations in the state %+v, faults undone %v; want one, right, one fault undone", r.s.Escalations, undone())
	}
}
