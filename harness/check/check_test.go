package check

import (
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/workload"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func op(party int, from, to time.Duration, outcome string) workload.Op {
	return workload.Op{Party: party, Start: t0.Add(from), End: t0.Add(to), Outcome: outcome}
}

func TestTallyCountsOnlyOperationsInsideTheWindow(t *testing.T) {
	h := &workload.History{Ops: []workload.Op{
		op(1, 0, time.Second, workload.OK),                     // starts before the window
		op(1, 2*time.Second, 3*time.Second, workload.OK),       // inside
		op(2, 2*time.Second, 3*time.Second, workload.Failed),   // inside
		op(3, 2*time.Second, 3*time.Second, workload.Wrong),    // inside
		op(1, 9*time.Second, 11*time.Second, workload.Failed),  // ends after it
		op(4, 3*time.Second, 4*time.Second, workload.OK),       // inside, other party
		op(2, 10*time.Second, 10*time.Second, workload.Failed), // on the edge: inside
	}}
	w := Window{From: t0.Add(time.Second + time.Millisecond), To: t0.Add(10 * time.Second)}
	ok, failed, wrong := Tally(h, w, []int{1, 2, 3})
	if ok != 1 || failed != 2 || wrong != 1 {
		t.Fatalf("Tally(parties 1-3) = %d/%d/%d, want 1/2/1", ok, failed, wrong)
	}
	ok, failed, wrong = Tally(h, w, nil)
	if ok != 2 || failed != 2 || wrong != 1 {
		t.Fatalf("Tally(every party) = %d/%d/%d, want 2/2/1", ok, failed, wrong)
	}
}

func TestDuring(t *testing.T) {
	w := Window{From: t0, To: t0.Add(time.Minute)}
	ops := func(outcomes ...string) *workload.History {
		h := &workload.History{}
		for k, o := range outcomes {
			h.Ops = append(h.Ops, op(1+k%2, time.Duration(k)*time.Second, time.Duration(k)*time.Second+time.Millisecond, o))
		}
		return h
	}
	cases := []struct {
		name string
		h    *workload.History
		e    Expect
		want string // substring of the error, "" for none
	}{
		{"live parties served", ops(workload.OK, workload.OK, workload.OK, workload.OK), Expect{Live: []int{1, 2}}, ""},
		{"too many failures", ops(workload.OK, workload.Failed, workload.OK, workload.Failed), Expect{Live: []int{1, 2}}, "only 2 of 4 operations"},
		{"a lower bar", ops(workload.OK, workload.Failed, workload.OK, workload.OK, workload.OK), Expect{Live: []int{1, 2}, MinLive: 0.8}, ""},
		{"no traffic is not a pass", ops(), Expect{Live: []int{1}}, "no operation through parties [1]"},
		// Parties 1 and 2 served all four, 3 took none: the share alone
		// (100%) would pass a coordinator that never took a request.
		{"a live party that ran nothing", ops(workload.OK, workload.OK, workload.OK, workload.OK), Expect{Live: []int{1, 2, 3}}, "no operation through parties [3] ran during the fault (of the live parties [1 2 3])"},
		{"a down party that answered", ops(workload.OK, workload.OK), Expect{Live: []int{1}, Down: []int{2}}, "1 operations through parties [2] succeeded"},
		{"a down party that failed cleanly", ops(workload.OK, workload.Failed), Expect{Live: []int{1}, Down: []int{2}}, ""},
		// Party 3 took no request: nothing says it fails closed.
		{"a down party that ran nothing", ops(workload.OK, workload.Failed), Expect{Live: []int{1}, Down: []int{2, 3}}, "no operation through parties [3] ran during the fault (of the parties that must fail closed [2 3])"},
	}
	for _, c := range cases {
		err := During(c.h, w, c.e)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestNoWrongDecryptionNamesTheOperation(t *testing.T) {
	h := &workload.History{Ops: []workload.Op{op(1, 0, 1, workload.OK), {Seq: 7, Party: 3, Start: t0, Outcome: workload.Wrong, Err: "decrypted 1, the ciphertext holds 2"}}}
	err := NoWrongDecryption(h)
	if err == nil || !strings.Contains(err.Error(), "op 7 via party 3") || !strings.Contains(err.Error(), "decrypted 1") {
		t.Fatalf("NoWrongDecryption = %v, want the wrong operation named", err)
	}
	if err := NoWrongDecryption(&workload.History{Ops: h.Ops[:1]}); err != nil {
		t.Fatalf("NoWrongDecryption on a clean history = %v", err)
	}
}

// A window that closed before an operation through every party During
// judges ended has not all it judges: the observation must go on.
func TestObservedWaitsForAnOperationThroughEveryJudgedParty(t *testing.T) {
	h := &workload.History{Ops: []workload.Op{
		op(1, 0, 5*time.Second, workload.OK),                        // started before the fault
		op(1, 6*time.Second, 7*time.Second, workload.Failed),        // party 1's, inside
		op(2, 2*time.Second, 9*time.Second, workload.OK),            // still running when a 4 s window closes
		op(3, 2*time.Second, 3*time.Second, workload.OK),            // a Down party's
		op(1, 7*time.Second, 8*time.Second, workload.Wrong),         // no evidence of serving
		op(4, 8*time.Second, 8500*time.Millisecond, workload.Wrong), // nor this one
	}}
	e := Expect{Live: []int{1, 2}, Down: []int{3}}
	if Observed(h, Window{From: t0.Add(time.Second), To: t0.Add(4 * time.Second)}, e) {
		t.Error("observed, with no operation through parties 1-2 run whole inside the window")
	}
	if Observed(h, Window{From: t0.Add(time.Second), To: t0.Add(7 * time.Second)}, e) {
		t.Error("observed, with party 1's operation inside the window but not party 2's")
	}
	if !Observed(h, Window{From: t0.Add(time.Second), To: t0.Add(9 * time.Second)}, e) {
		t.Error("not observed, with an operation of parties 1 and 2 each run whole inside the window")
	}
	if Observed(h, Window{From: t0.Add(time.Second), To: t0.Add(9 * time.Second)}, Expect{Live: []int{1, 2, 4}}) {
		t.Error("observed, with party 4's only operation a wrong value")
	}
	if Observed(h, Window{From: t0.Add(time.Second), To: t0.Add(9 * time.Second)}, Expect{Live: []int{1, 2}, Down: []int{3, 5}}) {
		t.Error("observed, with no operation through party 5, which must fail closed")
	}
	if !Observed(h, Window{From: t0.Add(time.Second), To: t0.Add(4 * time.Second)}, Expect{Down: []int{3}}) {
		t.Error("not observed, with the one party that must fail closed judged on an operation inside the window")
	}
	if !Observed(nil, Window{}, e) {
		t.Error("no workload needs no operation")
	}
}
