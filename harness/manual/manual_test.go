package manual

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

var n4 = cluster.Topology{N: 4, T: 1}

func TestPrepareRefusesBadInputInOneLine(t *testing.T) {
	one := []Record{{ID: "kill-aaaaaa", Parties: []int{2}}}
	cases := []struct {
		req    Request
		active []Record
		want   string
	}{
		{Request{Kind: "latncy", Party: 1}, nil, `unknown fault kind "latncy": did you mean "latency"?`},
		{Request{Kind: "kill", Party: 7}, nil, "party 7 is out of range: the cluster has parties 1 to 4"},
		{Request{Kind: "link-refused", Link: [2]int{3, 3}}, nil, "--link 3-3 is a link to itself"},
		{Request{Kind: "kill", Party: 1, For: -time.Second}, nil, "negative"},
		// t=1: a second party is over the budget...
		{Request{Kind: "pause", Party: 3}, one, "over the fault budget: pause (freeze) parties [3] would bring the parties faulted to [2 3], more than t=1 (active: kill-aaaaaa on [2]); pass --beyond-threshold"},
	}
	for _, c := range cases {
		_, _, err := Prepare(c.req, n4, c.active)
		var ie *InputError
		if err == nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %v, want one line saying %q", c.req, err, c.want)
		}
	}
	// ...unless declared, and the same party again is not a new one.
	for _, req := range []Request{{Kind: "pause", Party: 3, BeyondThreshold: true}, {Kind: "latency", Party: 2}} {
		if _, _, err := Prepare(req, n4, one); err != nil {
			t.Errorf("%+v: %v", req, err)
		}
	}
}

func TestBudgetAndTouched(t *testing.T) {
	active := []Record{{Parties: []int{3}}, {Parties: []int{1, 3}}}
	if got := Touched(active, []int{4}); !slices.Equal(got, []int{1, 3, 4}) {
		t.Errorf("Touched = %v", got)
	}
	if b := Budget(cluster.Topology{N: 13, T: 4}, active); b != 2 {
		t.Errorf("Budget = %d, want 2", b)
	}
	if b := Budget(n4, active); b != -1 {
		t.Errorf("Budget beyond t = %d, want -1", b)
	}
}

func TestOverdue(t *testing.T) {
	now := time.Now()
	if (Record{}).Overdue(now) {
		t.Error("a fault without --for is never overdue")
	}
	if !(Record{ExpiresAt: now}).Overdue(now) || (Record{ExpiresAt: now.Add(time.Second)}).Overdue(now) {
		t.Error("overdue at its expiry, not before")
	}
}
