package runbook

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

const captureDoc = `name: uncordon
origin: repaired
steps:
  - name: Find the cordoned node
    exec:
      command: [nodes]
    expect: {output: SchedulingDisabled}
    capture:
      node: '(?m)^(\S+)\s+\S*SchedulingDisabled'
  - name: Uncordon it
    exec:
      command: [uncordon, "{{node}}"]
`

// A step reads a value off its output, as an operator reads a node's name
// off kubectl get nodes, and the next step acts on it.
func TestCaptureFeedsLaterSteps(t *testing.T) {
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	nodes := "NAME     STATUS\nnode-a   Ready\nnode-b   Ready,SchedulingDisabled\n"
	var got [][]string
	parties[1].OnExec = func(_ string, cmd []string) cluster.ExecResult {
		got = append(got, cmd)
		if cmd[0] == "nodes" {
			return cluster.ExecResult{Stdout: nodes}
		}
		return cluster.ExecResult{}
	}
	rb, err := Parse("runbooks/u.yaml", []byte(captureDoc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Run(context.Background(), &Env{C: c, Party: 2}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.Equal(got[1], []string{"uncordon", "node-b"}) {
		t.Fatalf("commands run: %q, want the second to be uncordon node-b", got)
	}

	// Output the capture finds nothing in fails the step that captures,
	// before a later step acts on an empty name.
	nodes = "NAME     STATUS\nnode-a   Ready\nSchedulingDisabled\n"
	got = nil
	_, err = rb.Run(context.Background(), &Env{C: c, Party: 2})
	if err == nil || !strings.Contains(err.Error(), `step "Find the cordoned node"`) || !strings.Contains(err.Error(), "capture node:") || len(got) != 1 {
		t.Fatalf("capture that finds nothing: %v (commands %q)", err, got)
	}
}

// A capture is refused at load where it cannot work.
func TestCaptureValidation(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{`'(?m)^(\S+)\s+\S*SchedulingDisabled'`, `'(?m)^\S+\s+SchedulingDisabled'`, "has 0 groups: give one"},
		{`'(?m)^(\S+)\s+\S*SchedulingDisabled'`, `'(\S+'`, "capture.node: error parsing regexp"},
		{"    capture:\n      node:", "    capture:\n      party:", "party is built in"},
		{`[uncordon, "{{node}}"]`, `[uncordon, all]`, `step 1 "Find the cordoned node": capture.node: no later step uses {{node}}`},
		{"      command: [nodes]\n    expect: {output: SchedulingDisabled}\n", "      command: [\"{{node}}\"]\n    expect: {output: SchedulingDisabled}\n", "exec.command[0]: unknown variable {{node}}"},
		{"    exec:\n      command: [nodes]\n    expect: {output: SchedulingDisabled}\n", "    expect: {optimal: true}\n", "capture.node: reads a step's output: the step needs an exec"},
	} {
		if !strings.Contains(captureDoc, c.from) {
			t.Fatalf("fixture lacks %q", c.from)
		}
		_, err := Parse("runbooks/u.yaml", []byte(strings.Replace(captureDoc, c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: got %v, want %q", c.from, c.to, err, c.want)
		}
	}
}
