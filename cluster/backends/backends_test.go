package backends

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
)

// A backend is chosen by name, and a wrong choice is the user's to fix,
// told before anything is reached.
func TestOpenRefusesWhatNoBackendIs(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Name: "k8s"}, `unknown backend "k8s": docker or kubernetes`},
		{Config{Name: Docker, Namespace: "x"}, "--kubeconfig, --namespace and --node-faults are for --backend kubernetes"},
		{Config{NodeFaults: true}, "--kubeconfig, --namespace and --node-faults are for --backend kubernetes"},
		{Config{Name: Kubernetes, Namespace: "Chaos_1"}, `--namespace "Chaos_1" is not a namespace name`},
	} {
		b, err := Open(context.Background(), c.cfg)
		var in *cluster.InputError
		if b != nil || !errors.As(err, &in) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%+v) = %v, %v; want an InputError saying %q", c.cfg, b, err, c.want)
		}
	}
}

// The flags a printed command line carries reach the backend the
// command ran on: none for Docker, the default.
func TestFlagsNameTheBackend(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{Name: Docker}, ""},
		{Config{Name: Kubernetes}, " --backend kubernetes"},
		{Config{Name: Kubernetes, Kubeconfig: "/k/config", Namespace: "chaos", NodeFaults: true}, " --backend kubernetes --kubeconfig /k/config --namespace chaos --node-faults"},
	} {
		if got := c.cfg.Flags(); got != c.want {
			t.Errorf("%+v.Flags() = %q, want %q", c.cfg, got, c.want)
		}
	}
}

// Only the chooser names a backend: no other package of the module
// imports cluster/docker or cluster/kube (tests aside), so the CLI and
// the suite choose one in one place. (The suite's own test files may:
// the clean-up spec counts what a killed run left on the engine.)
func TestOnlyTheChooserImportsABackend(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/kmschaos/kmschaos/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/kmschaos/kmschaos/"
	docker, kube := mod+"cluster/docker", mod+"cluster/kube"
	allowed := map[string][]string{mod + "cluster/backends": {docker, kube}}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, im := range f[1:] {
			if (im == docker || im == kube) && !slices.Contains(allowed[f[0]], im) {
				t.Errorf("%s imports %s: a backend is chosen by cluster/backends alone", strings.TrimPrefix(f[0], mod), strings.TrimPrefix(im, mod))
			}
		}
	}
}
