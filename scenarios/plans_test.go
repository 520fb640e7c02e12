package scenarios

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// Every plan of the catalog loads as the runner loads it, at both sizes
// the project runs: each runbook valid with its variables, faults with a
// detection (or the reason there is none), an expected defect naming a
// step its runbooks have. A plan refused here would be refused at the
// start of its scenario; this finds it without an engine.
func TestEveryPlanLoads(t *testing.T) {
	root, err := localcluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "runbooks")
	for _, n := range []int{4, 13} {
		c, _, _, err := fakebackend.Cluster(n, cluster.Resources{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range Catalog() {
			plan := e.Scenario.Build(&scenario.Env{C: c, Rng: rand.New(rand.NewPCG(1, 2)), N: n, T: c.Topology.T})
			if err := plan.Check(dir); err != nil {
				t.Errorf("n=%d: %q: %v", n, e.Name, err)
			}
		}
	}
}
