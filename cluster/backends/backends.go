// Package backends chooses where clusters run, from a name and its
// settings: the one place the CLI and the scenario suite name a backend.
// Each backend manages its runs through Backend: start one, attach to
// one, list, remove and sweep them.
package backends

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/docker"
	"github.com/kmschaos/kmschaos/cluster/kube"
)

// The backends, by name: Docker is the default.
const (
	Docker     = docker.Name
	Kubernetes = kube.Name
)

// Names are the backends' names, the default first.
var Names = []string{Docker, Kubernetes}

// Backend is where runs live: the Docker engine of this machine, or a
// Kubernetes cluster.
type Backend interface {
	// Start brings up a cluster and returns once every party reports
	// Optimal; the images are built where the backend runs them when opts
	// give none.
	Start(ctx context.Context, opts ...cluster.Option) (*cluster.Cluster, error)
	// Attach returns a handle on run, or on the only run when run is "".
	Attach(ctx context.Context, run string) (*cluster.Cluster, error)
	// Runs lists the runs, as 'kmschaos ls' shows them.
	Runs(ctx context.Context) (cluster.RunList, error)
	// Remove removes run and everything it made (kmschaos down), its
	// images too unless keepImages, and says what it removed. A run the
	// backend has nothing of is a *cluster.InputError.
	Remove(ctx context.Context, run string, keepImages bool) (string, error)
	// Sweep removes what runs whose process is gone left behind, or with
	// all every run's, with images the harness's images too, and says
	// what it removed.
	Sweep(ctx context.Context, all, images bool) (string, error)
	// Images builds the images (or finds them unchanged) and puts them
	// where the backend runs them.
	Images(ctx context.Context, progress func(string)) (cluster.Images, error)
}

// Config chooses a backend and says how to reach it.
type Config struct {
	Name string // one of Names; "" is Docker
	// Kubeconfig, Namespace and NodeFaults are Kubernetes' (kube.Config).
	Kubeconfig, Namespace string
	NodeFaults            bool
}

// Validate tells, as a *cluster.InputError, what is wrong with c before
// anything is done: an unknown name, settings of another backend, a
// namespace that cannot be one.
func (c Config) Validate() error {
	switch c.Name {
	case "", Docker:
		if c.Kubeconfig != "" || c.Namespace != "" || c.NodeFaults {
			return inputf("--kubeconfig, --namespace and --node-faults are for --backend %s", Kubernetes)
		}
	case Kubernetes:
		// Told before minutes of building images, not by the API server after.
		if errs := validation.IsDNS1123Label(c.Namespace); c.Namespace != "" && len(errs) > 0 {
			return inputf("--namespace %q is not a namespace name: %s", c.Namespace, strings.Join(errs, "; "))
		}
	default:
		return inputf("unknown backend %q: %s", c.Name, strings.Join(Names, " or "))
	}
	return nil
}

func inputf(format string, args ...any) error {
	return &cluster.InputError{Msg: fmt.Sprintf(format, args...)}
}

// Flags are the command-line flags that reach the same backend, for a
// printed command line ("" on Docker, the default).
func (c Config) Flags() string {
	if args := c.Args(); len(args) > 0 {
		return " " + strings.Join(args, " ")
	}
	return ""
}

// Args are the same flags as arguments, for a kmschaos this one starts
// (a heal when a fault's --for runs out, a game day's background
// process): it must reach the same cluster. None on Docker, the default.
func (c Config) Args() []string {
	if c.Name != Kubernetes {
		return nil
	}
	out := []string{"--backend", Kubernetes}
	if c.Kubeconfig != "" {
		out = append(out, "--kubeconfig", c.Kubeconfig)
	}
	if c.Namespace != "" {
		out = append(out, "--namespace", c.Namespace)
	}
	if c.NodeFaults {
		out = append(out, "--node-faults")
	}
	return out
}

// Open is the backend c chooses, once c is valid. The Docker engine's
// client is made once, and kept for every call; a Kubernetes cluster is
// connected to by every call, since each hands a driver of its own to the
// cluster it starts or attaches to.
func Open(ctx context.Context, c Config) (Backend, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Name == Kubernetes {
		return kubernetes{kube.Config{Kubeconfig: c.Kubeconfig, Namespace: c.Namespace, NodeFaults: c.NodeFaults}}, nil
	}
	e, err := docker.Open(ctx)
	if err != nil {
		return nil, err // not a Backend holding a nil *Engine
	}
	return e, nil
}
