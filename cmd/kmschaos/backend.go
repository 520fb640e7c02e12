package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/backends"
)

// be is where clusters run: the Docker engine (the default) or a
// Kubernetes cluster (--backend kubernetes), chosen for every command by
// the root's persistent flags.
var be backends.Config

func backendFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	def := os.Getenv("KMSCHAOS_BACKEND")
	if def == "" {
		def = backends.Docker
	}
	f.StringVar(&be.Name, "backend", def, "where clusters run: docker (this machine's engine) or kubernetes (default: $KMSCHAOS_BACKEND, else docker)")
	f.StringVar(&be.Kubeconfig, "kubeconfig", "", "with --backend kubernetes: the cluster's kubeconfig (default: $KUBECONFIG, ~/.kube/config; the local cluster's when make k8s-up made one and neither is set)")
	f.StringVar(&be.Namespace, "namespace", "", "with --backend kubernetes: the run's namespace, created and deleted by kmschaos (default: kmschaos-<run id>)")
	f.BoolVar(&be.NodeFaults, "node-faults", false, "with --backend kubernetes: allow the evict fault to cordon a party's node, which stops scheduling for every workload on it (allowed on the local cluster without it; elsewhere bind rbac.yaml's kmschaos-node-faults role)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return be.Validate() }
}

// backend is the backend the flags chose.
func backend(ctx context.Context) (backends.Backend, error) { return backends.Open(ctx, be) }

// attachTo attaches to a run on the backend.
func attachTo(ctx context.Context, run string) (*cluster.Cluster, error) {
	b, err := backend(ctx)
	if err != nil {
		return nil, err
	}
	return b.Attach(ctx, run)
}
