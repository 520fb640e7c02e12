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
	got := RunbookRan(ctx, c, failedLeft())
	if want := []string{"nothing left different from the baseline: left behind: party 2: not running (exited)"}; !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
	if notes, err := Notes(ctx, c); err != nil || len(notes) != 0 {
		t.Errorf("notes %+v (%v), want none", notes, err)
	}
}

// While a game day runs, what differs is hidden from the players and the
// runbook is recorded in their lane, failed, with the reason they saw.
func TestRunbookRanDuringGameDay(t *testing.T) {
	ctx := context.Background()
	c, _, _, _ := fakeGameDay(t)
	got := RunbookRan(ctx, c, failedLeft())
	if !slices.Equal(got, []string{hidden}) {
		t.Errorf("problems %q, want only %q", got, hidden)
	}
	passed := &verdict.Verdict{Runbook: "graceful-restart", Party: 3}
	if got := RunbookRan(ctx, c, passed); len(got) != 0 {
		t.Errorf("a runbook that passed: problems %q", got)
	}
	notes, err := Notes(ctx, c)
	if err != nil || len(notes) != 2 {
		t.Fatalf("notes %+v (%v), want the two runbooks", notes, err)
	}
	if n := notes[0]; n.Runbook != "coordinated-restart" || n.Party != 1 || n.Passed || n.Detail != hidden || n.Took != time.Second {
		t.Errorf("note of the failed runbook: %+v", n)
	}
	if n := notes[1]; n.Runbook != "graceful-restart" || !n.Passed || n.Detail != "" {
		t.Errorf("note of the runbook that passed: %+v", n)
	}
}

// Where it cannot be told whether a game day runs, what differs is
// hidden as if one did, and the unread record is a failure of its own.
func TestRunbookRanWithTheRecordUnread(t *testing.T) {
	ctx := context.Background()
	c, _, keeper, _ := fakeGameDay(t)
	keeper.Gone = true
	got := RunbookRan(ctx, c, failedLeft())
	if len(got) != 2 || got[0] != hidden || !strings.HasPrefix(got[1], "reading the game day's record (is one running?): ") {
		t.Errorf("problems %q, want the hidden one and the unread record", got)
	}
}
