package gameday

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/report"
)

// A halted cluster takes no game day: refused with the halt, before
// anything is recorded or written.
func TestStartRefusesOnAHaltedCluster(t *testing.T) {
	fakeRunnerCommand(t, nil)
	ctx := context.Background()
	c := fakeCluster(t)
	if _, err := halt.Set(ctx, c, halt.Halt{Cause: "drill", At: time.Now(), By: halt.ByPerson}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err := Start(ctx, c, startOptions(dir), time.Now())
	var refused *halt.Error
	if !errors.As(err, &refused) || refused.Halt.Cause != "drill" {
		t.Fatalf("start on a halted cluster: %v; want a *halt.Error naming the halt", err)
	}
	if h, err := LoadHeader(ctx, c); h != nil || err != nil {
		t.Errorf("a game day was recorded: %+v (%v)", h, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files written: %v", ents)
	}
}

// A wrong value the runner saw trips its guard: the cluster is halted,
// by the guard, naming the value; the next turn ends the game day
// halted, its fault healed by the harness, the halt in its report.
func TestRunnerGuardHaltsAndEndsTheGameDay(t *testing.T) {
	ctx := context.Background()
	c, _, _ := meshCluster(t)
	s, err := Begin(ctx, c, startOptions(t.TempDir()), time.Now().Add(-2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s.Faults[0].InjectedAt = time.Now().Add(-time.Minute).UTC()
	r := &Runner{C: c, s: s, rec: report.NewRecorder()}
	if r.guardTripped(ctx, time.Now()) {
		t.Fatal("the guard tripped on a quiet game day")
	}
	s.Wrongs = []oracle.Wrong{{At: time.Now(), Party: 3, Sent: 7, Got: 9, By: "the workload"}}
	if !r.guardTripped(ctx, time.Now()) {
		t.Fatal("a wrong value did not trip the guard")
	}
	h := r.halted(ctx)
	if h == nil || h.By != halt.ByGuard || !strings.HasPrefix(h.Cause, "wrong decryption: party 3 returned 9 for 7") {
		t.Fatalf("halt %+v; want the guard's, naming the wrong value", h)
	}
	// The fake backend cannot reset (it recreates no party): logged, and
	// the game day ends all the same.
	if err := r.endHalted(ctx, s.Ops, *h); err != nil {
		t.Fatal(err)
	}
	end, err := Load(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if end.Stage() != "halted" || end.Halt == nil || end.Faults[0].RecoveredBy != ByHarness {
		t.Errorf("game day %s, halt %+v, fault 1 recovered by %q; want halted, the fault healed by the harness", end.Stage(), end.Halt, end.Faults[0].RecoveredBy)
	}
	b, err := os.ReadFile(end.Files().Text())
	if err != nil || !strings.Contains(string(b), "by guard: wrong decryption: party 3 returned 9 for 7") {
		t.Errorf("text report: %v\n%s", err, b)
	}
}
