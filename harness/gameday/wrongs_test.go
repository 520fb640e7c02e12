package gameday

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/report"
)

// fakeGameDay begins a game day on a fake cluster whose keeper keeps the
// records: one fault, a kill, injected a minute ago.
func fakeGameDay(t *testing.T) (*cluster.Cluster, []*fakebackend.Party, *fakebackend.Keeper, *State) {
	t.Helper()
	c, parties, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	keeper.OnExec = keeper.Files
	s, err := Begin(context.Background(), c, Options{Seed: 1, Faults: 1, Every: time.Hour, Limit: time.Hour, Kinds: []string{"kill"}, Dir: t.TempDir()}, time.Now().Add(-2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s.Faults[0].InjectedAt = time.Now().Add(-time.Minute).UTC()
	return c, parties, keeper, s
}

// ended is the game day as 'gameday end' reads it in a process of its
// own — not the one that saw anything — after the final audit found
// nothing left and the key material intact.
func ended(t *testing.T, c *cluster.Cluster, parties []*fakebackend.Party, keeper *fakebackend.Keeper, s *State) (*State, []Note) {
	t.Helper()
	ctx := context.Background()
	s.Keys, s.Ended = report.KeysIntact, time.Now().UTC()
	if err := Save(ctx, c, s); err != nil {
		t.Fatal(err)
	}
	end, err := fakebackend.Attach(c, parties, keeper)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(ctx, end)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := Notes(ctx, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(oracle.WitnessOf(end).Since(time.Time{})) != 0 {
		t.Fatal("the process that ends the game day saw a wrong value itself")
	}
	return got, notes
}

// failedBy asserts that every report of the game day says WRONG with
// want (party, values, who saw it) and fails it, and so does 'end'.
func failedBy(t *testing.T, s *State, notes []Note, want string) {
	t.Helper()
	var text bytes.Buffer
	WriteText(&text, s, nil, notes)
	if !strings.Contains(text.String(), "WRONG: "+want) || !strings.Contains(text.String(), "the game day FAILED") {
		t.Errorf("the text report does not fail the game day on %q:\n%s", want, text.String())
	}
	f := Build(s, nil, notes)
	if f.Passed || !strings.Contains(f.Error, "WRONG") || !slices.ContainsFunc(f.Wrongs, func(w oracle.Wrong) bool { return strings.HasPrefix(w.String(), want) }) ||
		!strings.HasPrefix(f.Summary[0].Text, "WRONG decryptions") {
		t.Errorf("the findings: passed %v, error %q, wrongs %q, summary %+v; want failed on %q, said first", f.Passed, f.Error, f.Wrongs, f.Summary, want)
	}
	b, err := JSON(s, nil, notes)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Wrongs []oracle.Wrong `json:"wrongs"`
		Passed bool           `json:"passed"`
	}
	if err := json.Unmarshal(b, &j); err != nil || j.Passed || !slices.ContainsFunc(j.Wrongs, func(w oracle.Wrong) bool { return strings.HasPrefix(w.String(), want) }) {
		t.Errorf("the JSON report (%v) does not fail the game day on %q:\n%s", err, want, b)
	}
	if err := Failed(s, notes); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("'gameday end' would exit with %v, want a failure naming %q", err, want)
	}
}

// A wrong value the runner's steady check sees is no "not recovered
// yet": it reaches the report and fails the game day, even though the
// players recover the fault the tick after.
func TestRunnerSteadyCheckWrongFailsTheGameDay(t *testing.T) {
	ctx := context.Background()
	c, parties, keeper, s := fakeGameDay(t)
	lies := true
	r := &Runner{C: c, s: s, test: &checks{
		audit: func(*cluster.Cluster, context.Context) (cluster.ResetReport, error) {
			return cluster.ResetReport{}, nil
		},
		steady: func(_ context.Context, c *cluster.Cluster) error {
			if lies {
				// What the oracle does when party 3 returns 43 for 42.
				return oracle.Record(c, 3, "the steady-state check", 42, 43)
			}
			return nil
		},
		keys: func(context.Context, *cluster.Cluster) error { return nil },
	}}
	r.step(ctx, time.Now())
	if f := s.Faults[0]; !f.RecoveredAt.IsZero() {
		t.Fatalf("fault recovered (by %s) on a wrong value", f.RecoveredBy)
	}
	lies = false
	r.step(ctx, time.Now())
	if f := s.Faults[0]; f.RecoveredBy != ByPlayers {
		t.Fatalf("fault not recovered by the players once the cluster is right: %+v", f)
	}
	got, notes := ended(t, c, parties, keeper, s)
	failedBy(t, got, notes, "party 3 returned 43 for 42 (seen by the steady-state check at ")
}

// A wrong value a player's runbook saw in the player's own process — a
// handle of its own on the cluster, its own witness — reaches the report
// through the runbook's record and fails the game day.
func TestPlayersWrongFailsTheGameDay(t *testing.T) {
	ctx := context.Background()
	c, parties, keeper, s := fakeGameDay(t)
	s.Faults[0].RecoveredAt, s.Faults[0].RecoveredBy = time.Now().UTC(), ByPlayers
	if err := Save(ctx, c, s); err != nil {
		t.Fatal(err)
	}
	player, err := fakebackend.Attach(c, parties, keeper)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// What the oracle does when the runbook's decrypt check gets 8 for 7.
	seen := oracle.Record(player, 3, "probe: decrypts right through parties [3]", 7, 8)
	// What 'kmschaos runbook run' records when it ends.
	ran, err := AddNote(ctx, player, Note{At: time.Now(), Took: time.Since(start), Runbook: "coordinated-restart", Party: 1, Detail: seen.Error()})
	if err != nil || !ran {
		t.Fatalf("the runbook was not recorded (game day running %v): %v", ran, err)
	}
	got, notes := ended(t, c, parties, keeper, s)
	failedBy(t, got, notes, "party 3 returned 8 for 7 (seen by the players' runbook coordinated-restart on party 1: probe: decrypts right through parties [3] at ")
}
