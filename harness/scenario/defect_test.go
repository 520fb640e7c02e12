package scenario

import (
	"errors"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/harness/runbook"
)

func TestJudgeDefect(t *testing.T) {
	want := Defect{Step: "prss-reinit-as-written/kms-init as written", Reason: `exits 0|decrypts right.*not found`}
	stepErr := func(step, msg string) error {
		return &runbook.StepError{Runbook: "prss-reinit-as-written", Step: step, Err: errors.New(msg)}
	}
	for _, tc := range []struct {
		name     string
		rb       string
		err      error
		expected bool
		problem  string // substring of the problem, "" for none
	}{
		{"the described defect", "prss-reinit-as-written", stepErr("kms-init as written", "decrypts right through parties [7]: Epoch abc not found"), true, ""},
		{"the right step failing for another reason", "prss-reinit-as-written", stepErr("kms-init as written", "exec: Error response from daemon: container not running"), false, "not as the scenario expects"},
		{"another step failing", "prss-reinit-as-written", stepErr("something else", "exits 0"), false, "runbook step failed"},
		{"the defect's runbook working", "prss-reinit-as-written", nil, false, "and it worked"},
		{"another runbook working", "prss-reinit", nil, false, ""},
		{"data lost at the expected step, for the expected reason", "prss-reinit-as-written",
			&runbook.DataLoss{Runbook: "prss-reinit-as-written", Step: "kms-init as written", Objects: []string{"exits 0"}}, true, ""},
		{"not a step's failure at all", "prss-reinit-as-written", errors.New("loading: no such file"), false, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := judgeDefect(want, tc.rb, tc.err, nil)
			if j.Expected != tc.expected {
				t.Errorf("expected = %v, want %v", j.Expected, tc.expected)
			}
			switch {
			case tc.problem == "" && j.Problem != nil:
				t.Errorf("unexpected problem: %v", j.Problem)
			case tc.problem != "" && (j.Problem == nil || !strings.Contains(j.Problem.Error(), tc.problem)):
				t.Errorf("problem = %v, want one containing %q", j.Problem, tc.problem)
			}
		})
	}
	if j := judgeDefect(Defect{Step: want.Step}, "prss-reinit-as-written", stepErr("kms-init as written", "anything"), nil); j.Expected || j.Problem == nil {
		t.Errorf("a defect with no reason matched: %+v", j)
	}
}

func TestRecoveredBy(t *testing.T) {
	for _, tc := range []struct {
		reset, undone bool
		origins       []string
		want          string
	}{
		{false, false, []string{runbook.OriginGuide}, "guide"},
		{false, false, []string{runbook.OriginGuide, runbook.OriginRepaired}, "repaired"},
		{false, true, []string{runbook.OriginGuide}, "harness"},
		{false, false, []string{runbook.OriginHarness}, "harness"},
		{false, false, []string{runbook.OriginOperations}, "operations"},
		{false, false, []string{runbook.OriginGuide, runbook.OriginOperations}, "operations"},
		{true, false, []string{runbook.OriginGuide}, "reset"},
		{false, false, nil, ""},
	} {
		if got := recoveredBy(tc.reset, tc.undone, tc.origins); got != tc.want {
			t.Errorf("recoveredBy(%v, %v, %v) = %q, want %q", tc.reset, tc.undone, tc.origins, got, tc.want)
		}
	}
}

func TestJudgeDefectReadsTheStepsOutput(t *testing.T) {
	// kms-init's error quotes its last line; the refusal the defect is
	// about may stand on any line of its output.
	want := Defect{Step: "rb/kms-init", Reason: `(?s)exit status 1, want 0.*Epoch \w+ already exists`}
	err := &runbook.StepError{Runbook: "rb", Step: "kms-init", Err: errors.New("exit status 1, want 0: party 4: no PRSS contribution")}
	out := func(step string) string {
		if step != "kms-init" {
			t.Errorf("asked for the output of %q", step)
		}
		return "party 1: Epoch 01 already exists\nparty 4: no PRSS contribution"
	}
	if j := judgeDefect(want, "rb", err, out); !j.Expected || j.Problem != nil {
		t.Errorf("the reason on another line of the output was not matched: %+v", j)
	}
	if j := judgeDefect(want, "rb", err, func(string) string { return "party 4: no PRSS contribution" }); j.Expected {
		t.Errorf("matched an output without the reason")
	}
}
