package backends

import (
	"context"
	"errors"
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
