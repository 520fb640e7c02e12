package runbook

import (
	"context"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

const operatorDoc = `name: restart-with-kubectl
guide: zama-ai/kms docs/operations/advanced/kubernetes-deployment.md
origin: operations
steps:
  - name: Roll the party
    exec:
      in: operator
      command: [kubectl, rollout, status, "statefulset/kms-threshold-{{party}}"]
`

// An operator's step is kubectl or helm on the operator's machine; what
// cannot run there is refused when the runbook is loaded.
func TestOperatorStepsAreKubectlOrHelm(t *testing.T) {
	if _, err := Parse("runbooks/k.yaml", []byte(operatorDoc)); err != nil {
		t.Fatalf("a kubectl step: %v", err)
	}
	for _, c := range []struct{ from, to, want string }{
		{"command: [kubectl,", "command: [ls,", `exec.command: "ls": an operator's command is kubectl or helm`},
		{"in: operator\n", "in: operator\n      party: \"2\"\n", "an operator's command runs on the operator's machine"},
		{"in: operator", "in: laptop", `"laptop": must be party, keeper or operator`},
		{"origin: operations", "origin: vendor", `"vendor": must be guide, repaired, harness or operations`},
	} {
		_, err := Parse("runbooks/k.yaml", []byte(strings.Replace(operatorDoc, c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: got %v, want %q", c.from, c.to, err, c.want)
		}
	}
}

// On a backend with no kubectl (Docker, the fake) the step is
// unsupported, which the scenario runner reports as skipped, never as
// passed or as the runbook's defect.
func TestOperatorStepIsUnsupportedOffKubernetes(t *testing.T) {
	c, _, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Parse("runbooks/k.yaml", []byte(operatorDoc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rb.Run(context.Background(), &Env{C: c, Party: 2})
	if !cluster.IsUnsupported(err) || !strings.Contains(err.Error(), "running kubectl is not supported") {
		t.Fatalf("kubectl on the fake backend: %v", err)
	}
}
