package runbook

import (
	"context"
	"slices"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

const actsDoc = `name: acts
origin: harness
steps:
  - name: Health
    exec: {command: [kms-health-check, live, --endpoint, "x:50100"]}
    expect: {any_exit: true}
    diagnostic: true
  - name: Listing
    exec: {in: keeper, command: [kms-admin, ls, -R, /keys]}
  - name: Inspect
    engine: {action: inspect}
    diagnostic: true
  - name: Pods
    exec: {in: operator, command: [kubectl, get, pods]}
  - name: Copy
    exec: {in: keeper, command: [kms-admin, cp, a, b]}
  - name: Restart
    engine: {action: restart}
  - name: Health again
    exec: {command: [kms-health-check, live, --endpoint, "x:50100"]}
    expect: {any_exit: true}
    diagnostic: true
  - name: Apply
    exec: {in: operator, command: [kubectl, apply, -f, x]}
  - name: Unknown tool
    exec: {command: [kms-init, --help]}
  - name: Fix it
    undoes_fault: true
    exec: {in: keeper, command: [kms-admin, ls, /keys]}
  - name: Heal
    heal: true
  - name: Pause
    wait: 1s
`

// A step acts unless its action is known to only look: the scenario
// runner's observation of the fault goes on through the steps that look.
func TestWhichStepsAct(t *testing.T) {
	rb, err := Parse("acts.yaml", []byte(actsDoc))
	if err != nil {
		t.Fatal(err)
	}
	var acting []string
	for _, s := range rb.Steps {
		if s.Acts() {
			acting = append(acting, s.Name)
		}
	}
	if want := []string{"Copy", "Restart", "Apply", "Unknown tool", "Fix it", "Heal"}; !slices.Equal(acting, want) {
		t.Errorf("steps that act: %q, want %q", acting, want)
	}
}

// BeforeActing is called once, right before the first step that acts,
// after the steps that only look have run; its error stops the runbook
// there.
func TestBeforeActingComesBeforeTheFirstAct(t *testing.T) {
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	var ran []string
	parties[1].OnExec = func(_ string, cmd []string) cluster.ExecResult {
		ran = append(ran, cmd[0]+" "+cmd[1])
		return cluster.ExecResult{}
	}
	doc := `name: look-then-act
origin: repaired
steps:
  - name: Look
    exec: {command: [kms-health-check, live]}
  - name: Act
    exec: {command: [kms-admin, cp, a, b]}
  - name: Act again
    exec: {command: [kms-admin, rm, b]}
`
	rb, err := Parse("l.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	env := &Env{C: c, Party: 2, BeforeActing: func(context.Context) error {
		calls = append(calls, "before acting, after: "+slices.Clone(ran)[len(ran)-1])
		return nil
	}}
	if _, err := rb.Run(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	if want := []string{"before acting, after: kms-health-check live"}; !slices.Equal(calls, want) {
		t.Errorf("BeforeActing calls: %q, want %q", calls, want)
	}

	ran = nil
	env.BeforeActing = func(context.Context) error { return context.Canceled }
	steps, err := rb.Run(t.Context(), env)
	if err == nil || len(steps) != 1 || !slices.Equal(ran, []string{"kms-health-check live"}) {
		t.Errorf("BeforeActing failing: error %v, %d steps reported, commands %q; want an error before the first act, one step, one command", err, len(steps), ran)
	}
}
