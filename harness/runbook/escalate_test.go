package runbook

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/report"
)

const escalateDoc = `name: ask
origin: harness
steps:
  - name: Contact the network coordinator
    escalate: "party {{party}} is cut off: please check its links"
`

// An escalate step asks Env.Escalate about the runbook's party, its
// placeholders filled in; the answer is the step's output, and an answer
// that is an error fails the step. Without Env.Escalate (a scenario, or
// outside a game day) it heals as a heal step does. It undoes the
// harness's fault: a harness runbook may end in one.
func TestEscalateStep(t *testing.T) {
	c, _, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Parse("runbooks/ask.yaml", []byte(escalateDoc))
	if err != nil {
		t.Fatal(err)
	}
	if !rb.Steps[0].UndoesHarnessFault() || rb.Steps[0].Command() != "[escalate] party {{party}} is cut off: please check its links" {
		t.Errorf("escalate step: undoes the fault %v, command %q", rb.Steps[0].UndoesHarnessFault(), rb.Steps[0].Command())
	}
	var asked []string
	var steps []report.Step
	env := &Env{C: c, Party: 3, OnStep: func(s report.Step) { steps = append(steps, s) },
		Escalate: func(_ context.Context, ask string) (string, error) {
			asked = append(asked, ask)
			return "the coordinator acted on party 3's network", nil
		}}
	if _, err := rb.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []string{"party 3 is cut off: please check its links"}) || steps[0].Output != "the coordinator acted on party 3's network" ||
		steps[0].Command != "[escalate] party 3 is cut off: please check its links" {
		t.Errorf("asked %q, step %+v", asked, steps[0])
	}
	env.Escalate = func(context.Context, string) (string, error) {
		return "", errors.New("the coordinator found nothing to fix on party 3's network")
	}
	if _, err := rb.Run(context.Background(), env); err == nil || !strings.Contains(err.Error(), `step "Contact the network coordinator": the coordinator found nothing to fix`) {
		t.Errorf("an escalation with nothing to fix: %v, want the step failed", err)
	}
	healed := 0
	env.Escalate, env.Heal = nil, func(context.Context) error { healed++; return nil }
	if _, err := rb.Run(context.Background(), env); err != nil || healed != 1 {
		t.Errorf("without Escalate: %v, healed %d times; want one heal", err, healed)
	}
	// One action per step.
	if _, err := Parse("runbooks/ask.yaml", []byte(escalateDoc+"    heal: true\n")); err == nil || !strings.Contains(err.Error(), "two actions: give one of exec, engine, heal, escalate, wait") {
		t.Errorf("escalate and heal in one step: %v", err)
	}
	if _, err := Parse("runbooks/ask.yaml", []byte(strings.Replace(escalateDoc, "{{party}}", "{{nope}}", 1))); err == nil || !strings.Contains(err.Error(), "escalate: unknown variable {{nope}}") {
		t.Errorf("escalate with an unknown variable: %v", err)
	}
}

// What a runbook touches: its party, and the parties its engine steps
// and party execs act on — all of them for "all" — not those it only
// looks at (inspect, checks, keeper execs).
func TestTouches(t *testing.T) {
	c, _, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		steps string
		vars  map[string]string
		want  []int
	}{
		{"  - name: Look\n    engine: {action: inspect, parties: all}\n    expect: {output: running}\n  - name: Check\n    expect: {optimal: true, decrypt: all}\n", nil, []int{2}},
		{"  - name: Raise\n    engine: {action: update, memory: 256m}\n", nil, []int{2}},
		{"  - name: Start\n    engine: {action: start, parties: \"{{targets}}\"}\n", map[string]string{"targets": "3,4"}, []int{2, 3, 4}},
		{"  - name: Restart\n    engine: {action: restart, parties: all}\n", nil, []int{1, 2, 3, 4}},
		{"  - name: Peer\n    exec: {party: \"1\", command: [x]}\n  - name: Keeper\n    exec: {in: keeper, command: [y]}\n", nil, []int{1, 2}},
	} {
		doc := "name: t\norigin: repaired\n"
		if tc.vars != nil {
			doc += "vars: [targets]\n"
		}
		rb, err := Parse("runbooks/t.yaml", []byte(doc+"steps:\n"+tc.steps))
		if err != nil {
			t.Fatal(err)
		}
		if got := rb.Touches(&Env{C: c, Party: 2, Vars: tc.vars}); !slices.Equal(got, tc.want) {
			t.Errorf("%s: touches %v, want %v", tc.steps, got, tc.want)
		}
	}
}
