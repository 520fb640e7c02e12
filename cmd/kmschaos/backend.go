package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/docker"
	"github.com/kmschaos/kmschaos/cluster/kube"
)

// backend is where clusters run: the Docker engine (the default) or a
// Kubernetes cluster (--backend kubernetes), chosen for every command by
// the root's persistent flags.
type backend struct {
	name, kubeconfig, namespace string
	nodeFaults                  bool
}

var be backend

func backendFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	def := os.Getenv("KMSCHAOS_BACKEND")
	if def == "" {
		def = "docker"
	}
	f.StringVar(&be.name, "backend", def, "where clusters run: docker (this machine's engine) or kubernetes (default: $KMSCHAOS_BACKEND, else docker)")
	f.StringVar(&be.kubeconfig, "kubeconfig", "", "with --backend kubernetes: the cluster's kubeconfig (default: $KUBECONFIG, ~/.kube/config; the local cluster's when make k8s-up made one and neither is set)")
	f.StringVar(&be.namespace, "namespace", "", "with --backend kubernetes: the run's namespace, created and deleted by kmschaos (default: kmschaos-<run id>)")
	f.BoolVar(&be.nodeFaults, "node-faults", false, "with --backend kubernetes: allow the evict fault to cordon a party's node, which stops scheduling for every workload on it (allowed on the local cluster without it; elsewhere bind rbac.yaml's kmschaos-node-faults role)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return be.validate() }
}

func (b backend) validate() error {
	switch b.name {
	case "docker":
		if b.kubeconfig != "" || b.namespace != "" || b.nodeFaults {
			return badInputf("--kubeconfig, --namespace and --node-faults are for --backend kubernetes")
		}
	case kube.Name:
		// Told before minutes of building images, not by the API server after.
		if errs := validation.IsDNS1123Label(b.namespace); b.namespace != "" && len(errs) > 0 {
			return badInputf("--namespace %q is not a namespace name: %s", b.namespace, strings.Join(errs, "; "))
		}
	default:
		return badInputf("unknown backend %q: docker or kubernetes", b.name)
	}
	return nil
}

func (b backend) kubernetes() bool { return b.name == kube.Name }

// flags are the backend flags a printed command line needs to reach the
// same cluster ("" on Docker, the default).
func (b backend) flags() string {
	if !b.kubernetes() {
		return ""
	}
	out := " --backend kubernetes"
	if b.kubeconfig != "" {
		out += " --kubeconfig " + b.kubeconfig
	}
	if b.namespace != "" {
		out += " --namespace " + b.namespace
	}
	if b.nodeFaults {
		out += " --node-faults"
	}
	return out
}

// driver connects to the Kubernetes cluster.
func (b backend) driver(ctx context.Context, progress func(string)) (*kube.Driver, error) {
	return kube.New(ctx, b.config(progress))
}

// start brings up a cluster on the backend.
func (b backend) start(ctx context.Context, progress func(string), opts ...cluster.Option) (*cluster.Cluster, error) {
	opts = append(opts, cluster.WithProgress(progress))
	if !b.kubernetes() {
		return docker.Start(ctx, opts...)
	}
	d, err := b.driver(ctx, progress)
	if err != nil {
		return nil, err
	}
	dc, err := docker.Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the container engine (the images are built there): %w", err)
	}
	im, err := docker.BuildImages(ctx, dc, progress)
	if err != nil {
		return nil, err
	}
	return d.Start(ctx, im, opts...)
}

func (b backend) config(progress func(string)) kube.Config {
	return kube.Config{Kubeconfig: b.kubeconfig, Namespace: b.namespace, NodeFaults: b.nodeFaults, Progress: progress}
}

// attachTo attaches to a run on the backend.
func (b backend) attachTo(ctx context.Context, run string) (*cluster.Cluster, error) {
	if !b.kubernetes() {
		return docker.Attach(ctx, run)
	}
	d, err := b.driver(ctx, nil)
	if err != nil {
		return nil, err
	}
	return d.Attach(ctx, run)
}

// down removes a run from the backend.
func (b backend) down(ctx context.Context, run string, keepImages bool) error {
	if !b.kubernetes() {
		dc, err := docker.Client(ctx)
		if err != nil {
			return err
		}
		rep, err := docker.Sweep(ctx, dc, docker.SweepOptions{Run: run, Images: !keepImages})
		if err == nil || rep != (docker.SweepReport{}) {
			fmt.Printf("removed %s\n", rep)
		}
		return err
	}
	d, err := b.driver(ctx, nil)
	if err != nil {
		return err
	}
	ns, err := d.RemoveRun(ctx, run)
	if err == nil {
		fmt.Printf("removed run %s (namespace %s and its volumes)\n", run, ns)
	}
	return err
}
