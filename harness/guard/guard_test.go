package guard

import (
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/workload"
)

var t0 = time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)

// feed gives the guard one observation per second from t0 with out of
// reach, and returns the first cause and the second it came at (-1: none).
func feed(g *Guard, seconds int, out []int) (string, int) {
	for s := 0; s <= seconds; s++ {
		if cause := g.Check(Observation{At: t0.Add(time.Duration(s) * time.Second), OutOfReach: out}); cause != "" {
			return cause, s
		}
	}
	return "", -1
}

func TestReachTripsOnlyBeyondTForLongerThanTheGrace(t *testing.T) {
	// More than t out of reach, one second past the grace: trips, naming them.
	cause, at := feed(New(Limits{T: 1, Grace: 20 * time.Second}), 30, []int{2, 3})
	if at != 21 || cause != "2 parties out of reach ([2 3]) for 21s > grace 20s: more than t=1" {
		t.Fatalf("tripped at %ds: %q; want at 21s, naming parties 2 and 3", at, cause)
	}
	// Just under: exactly the grace is not longer than it.
	if cause, _ := feed(New(Limits{T: 1, Grace: 20 * time.Second}), 20, []int{2, 3}); cause != "" {
		t.Fatalf("tripped within the grace: %q", cause)
	}
	// t parties out of reach, however long, is within the budget.
	if cause, _ := feed(New(Limits{T: 1, Grace: 20 * time.Second}), 600, []int{2}); cause != "" {
		t.Fatalf("tripped with t parties out of reach: %q", cause)
	}
	// Zero grace turns the rail off.
	if cause, _ := feed(New(Limits{T: 1}), 600, []int{1, 2, 3}); cause != "" {
		t.Fatalf("tripped with the rail off: %q", cause)
	}
}

func TestReachRestartsItsClockWhenBackWithinT(t *testing.T) {
	g := New(Limits{T: 1, Grace: 10 * time.Second})
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for s := 0; s <= 9; s++ {
		if c := g.Check(Observation{At: at(s), OutOfReach: []int{1, 2}}); c != "" {
			t.Fatalf("second %d: %q", s, c)
		}
	}
	g.Check(Observation{At: at(10), OutOfReach: []int{1}}) // back within t: the clock restarts
	for s := 11; s <= 21; s++ {
		if c := g.Check(Observation{At: at(s), OutOfReach: []int{1, 2}}); c != "" {
			t.Fatalf("second %d, %ds after the clock restarted: %q", s, s-11, c)
		}
	}
	if c := g.Check(Observation{At: at(22), OutOfReach: []int{1, 2}}); c == "" {
		t.Fatal("11s out of reach after the restart did not trip a 10s grace")
	}
}

func TestAWrongValueTripsAtOnce(t *testing.T) {
	g := New(Limits{T: 1, Grace: time.Hour})
	if c := g.Check(Observation{At: t0}); c != "" {
		t.Fatalf("no wrong value, tripped: %q", c)
	}
	w := oracle.Wrong{At: t0, Party: 3, Sent: 7, Got: 9, By: workload.By}
	c := g.Check(Observation{At: t0, Wrongs: []oracle.Wrong{w}})
	if !strings.HasPrefix(c, "wrong decryption: party 3 returned 9 for 7 (seen by the workload") {
		t.Fatalf("a wrong value: %q", c)
	}
}

func TestTheDeadlineTripsWithAFaultStillOn(t *testing.T) {
	dl := t0.Add(time.Minute)
	g := New(Limits{T: 1, Deadline: dl})
	if c := g.Check(Observation{At: dl.Add(-time.Millisecond), On: 1}); c != "" {
		t.Fatalf("just before the deadline: %q", c)
	}
	if c := g.Check(Observation{At: dl.Add(time.Hour), On: 0}); c != "" {
		t.Fatalf("past the deadline with nothing on: %q", c)
	}
	if c := g.Check(Observation{At: dl, On: 2}); c != "deadline 03:01:00 passed with 2 fault(s) still on" {
		t.Fatalf("at the deadline with two faults on: %q", c)
	}
}

func TestOutOfReachIsTheLastOutcomeOfEachParty(t *testing.T) {
	op := func(p, s int, outcome string) workload.Op {
		return workload.Op{Party: p, End: t0.Add(time.Duration(s) * time.Second), Outcome: outcome}
	}
	got := OutOfReach([]workload.Op{
		op(1, 1, workload.Failed), op(1, 2, workload.OK), // back
		op(2, 3, workload.Failed), op(2, 1, workload.OK), // the failure is the later, recorded first or not
		op(3, 1, workload.OK), op(3, 2, workload.Failed),
		op(4, 1, workload.OK),
	})
	if len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Fatalf("out of reach: %v, want [2 3]", got)
	}
}
