package runbook

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

// Key material that cannot be read after a step is not key material
// intact: the step fails, naming what could not be read.
func TestUnreadableKeyMaterialFailsTheStep(t *testing.T) {
	c, _, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Parse("runbooks/look.yaml", []byte(`name: look
origin: repaired
steps:
  - name: Look at the party
    exec: {command: [ls]}
`))
	if err != nil {
		t.Fatal(err)
	}
	keeper.Gone = true // the operator's debug pod cannot be reached
	steps, err := rb.Run(context.Background(), &Env{C: c, Party: 2})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "Look at the party" || !strings.Contains(err.Error(), "reading the key material after the step") {
		t.Fatalf("run with unreadable key material: %v; want the step failed, naming the read", err)
	}
	if len(steps) != 1 || steps[0].OK {
		t.Errorf("steps %+v; want the one step, not OK", steps)
	}
}
