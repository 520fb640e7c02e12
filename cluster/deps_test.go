package cluster

import (
	"os/exec"
	"strings"
	"testing"
)

// The neutral package knows no backend: neither the Docker engine's
// client, testcontainers nor Kubernetes' client is among what it builds
// with, and it imports none of the backends' packages. A backend is a
// package beside it (cluster/docker, cluster/kube) that implements its
// interfaces, never a branch in it.
func TestTheNeutralPackageBuildsWithNoBackend(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	backends := []string{
		"github.com/docker/", "github.com/moby/", "github.com/testcontainers/", "github.com/containerd/",
		"k8s.io/", "sigs.k8s.io/", "helm.sh/",
		"github.com/kmschaos/kmschaos/cluster/docker", "github.com/kmschaos/kmschaos/cluster/kube",
		"github.com/kmschaos/kmschaos/cluster/backends", "github.com/kmschaos/kmschaos/cluster/fakebackend",
	}
	var found []string
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range backends {
			if strings.HasPrefix(dep, b) {
				found = append(found, dep)
			}
		}
	}
	if len(found) > 0 {
		t.Errorf("package cluster builds with %d packages of a backend: %s", len(found), strings.Join(found, ", "))
	}
}
