package gameday

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/verdict"
)

// failedLeft is the verdict of a runbook whose only failure is what the
// cluster still differs in: it would name a hidden fault.
func failedLeft() *verdict.Verdict {
	return &verdict.Verdict{Runbook: "coordinated-restart", Party: 1, Took: time.Second,
		Left: verdict.Check{Name: verdict.LeftCheck, Err: errors.New("left behind: party 2: not running (exited)")}}
}

const hidden = "nothing left different from the baseline: the cluster still differs from its baseline (what is hidden while a game day runs)"

// Without a game day, a runbook run by hand is told everything and
// recorded nowhere.
func TestRunbookRanWithoutGameDay(t *testing.T) {
	ctx := context.Background()
	c := fakeCluster(t)
	got, notes := RunbookRan(ctx, c, failedLeft())
	if want := []string{"nothing left different from the baseline: left behind: party 2: not running (exited)"}; !slices.Equal(got, want) || len(notes) != 0 {
		t.Errorf("problems %q, notes %q; want %q and no note", got, notes, want)
	}
	if notes, err := Notes(ctx, c); err != nil || len(notes) != 0 {
		t.Errorf("notes %+v (%v), want none", notes, err)
	}
}

const hiddenNote = hidden + "; not held against this runbook, judged on its steps and the parties it touches"

// While a game day runs, a runbook is judged on what it touches: that the
// cluster still differs from its baseline — another hidden fault — is a
// note, what differs hidden, not a failure. Its own steps and checks
// still fail it. Each is recorded in the players' lane with what they saw.
func TestRunbookRanDuringGameDay(t *testing.T) {
	ctx := context.Background()
	c, _, _, _ := fakeGameDay(t)
	got, notes := RunbookRan(ctx, c, failedLeft())
	if len(got) != 0 || !slices.Equal(notes, []string{hiddenNote}) {
		t.Errorf("problems %q, notes %q; want no problem and the note %q", got, notes, hiddenNote)
	}
	steps := failedLeft()
	steps.Runbook, steps.Err = "graceful-restart", errors.New(`runbook "graceful-restart", step "Stop": exit status 1, want 0`)
	if got, _ := RunbookRan(ctx, c, steps); !slices.Equal(got, []string{steps.Err.Error()}) {
		t.Errorf("a runbook whose step failed: problems %q, want its step's", got)
	}
	recorded, err := Notes(ctx, c)
	if err != nil || len(recorded) != 2 {
		t.Fatalf("notes %+v (%v), want the two runbooks", recorded, err)
	}
	if n := recorded[0]; n.Runbook != "coordinated-restart" || n.Party != 1 || !n.Passed || n.Detail != "note: "+hiddenNote || n.Took != time.Second {
		t.Errorf("record of the runbook that passed with a note: %+v", n)
	}
	if n := recorded[1]; n.Runbook != "graceful-restart" || n.Passed || n.Detail != steps.Err.Error() {
		t.Errorf("record of the runbook that failed: %+v", n)
	}
}

// Where it cannot be told whether a game day runs, what differs is
// hidden as if one did, and the unread record is a failure of its own.
func TestRunbookRanWithTheRecordUnread(t *testing.T) {
	ctx := context.Background()
	c, _, keeper, _ := fakeGameDay(t)
	keeper.Gone = true
	got, _ := RunbookRan(ctx, c, failedLeft())
	if len(got) != 2 || got[0] != hidden || !strings.HasPrefix(got[1], "reading the game day's record (is one running?): ") {
		t.Errorf("problems %q, want the hidden one and the unread record", got)
	}
}
