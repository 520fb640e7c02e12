package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/kube"
)

// backend is where clusters run: the Docker engine (the default) or a
// Kubernetes cluster (--backend kubernetes), chosen for every command by
// the root's persistent flags.
type backend struct {
	name, kubeconfig, namespace string
}

var be backend

func backendFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&be.name, "backend", "docker", "where clusters run: docker (this machine's engine) or kubernetes")
	f.StringVar(&be.kubeconfig, "kubeconfig", "", "with --backend kubernetes: the cluster's kubeconfig (default: $KUBECONFIG, ~/.kube/config; the local cluster's when make k8s-up made one and neither is set)")
	f.StringVar(&be.namespace, "namespace", "", "with --backend kubernetes: the run's namespace, created and deleted by kmschaos (default: kmschaos-<run id>)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return be.validate() }
}

func (b backend) validate() error {
	switch b.name {
	case "docker":
		if b.kubeconfig != "" || b.namespace != "" {
			return badInputf("--kubeconfig and --namespace are for --backend kubernetes")
		}
	case kube.Name:
	default:
		return badInputf("unknown backend %q: docker or kubernetes", b.name)
	}
	return nil
}

func (b backend) kubernetes() bool { return b.name == kube.Name }

// driver connects to the Kubernetes cluster.
func (b backend) driver(ctx context.Context, progress func(string)) (*kube.Driver, error) {
	cfg := kube.Config{Kubeconfig: b.kubeconfig, Namespace: b.namespace, Progress: progress}
	if cfg.Kubeconfig == "" && !hasDefaultKubeconfig() {
		cfg.Kubeconfig = kube.LocalKubeconfig()
	}
	return kube.New(ctx, cfg)
}

// start brings up a cluster on the backend.
func (b backend) start(ctx context.Context, progress func(string), opts ...cluster.Option) (*cluster.Cluster, error) {
	if !b.kubernetes() {
		return cluster.Start(ctx, append(opts, cluster.WithProgress(progress))...)
	}
	d, err := b.driver(ctx, progress)
	if err != nil {
		return nil, err
	}
	im, err := b.images(ctx, progress)
	if err != nil {
		return nil, err
	}
	return cluster.StartOn(ctx, d, append(opts, cluster.WithProgress(progress), cluster.WithImages(im))...)
}

// images builds the images on the Docker engine and, for the local
// Kubernetes cluster, imports them into its containerd.
func (b backend) images(ctx context.Context, progress func(string)) (cluster.Images, error) {
	dc, err := cluster.DockerClient(ctx)
	if err != nil {
		return cluster.Images{}, fmt.Errorf("connecting to the container engine (the images are built there): %w", err)
	}
	im, err := cluster.BuildImages(ctx, dc, progress)
	if err != nil {
		return im, err
	}
	if b.kubeconfig == "" || b.kubeconfig == kube.LocalKubeconfig() {
		progress("importing the images into the local cluster's containerd")
		if err := kube.ImportLocal(ctx, im.Party, im.Toxiproxy, im.Toolbox); err != nil {
			return im, err
		}
	}
	return im, nil
}

// attachTo attaches to a run on the backend.
func (b backend) attachTo(ctx context.Context, run string) (*cluster.Cluster, error) {
	if !b.kubernetes() {
		return cluster.Attach(ctx, run)
	}
	d, err := b.driver(ctx, nil)
	if err != nil {
		return nil, err
	}
	return d.Attach(ctx, run)
}

// hasDefaultKubeconfig tells whether client-go would find a kubeconfig
// of its own ($KUBECONFIG or ~/.kube/config).
func hasDefaultKubeconfig() bool {
	if os.Getenv("KUBECONFIG") != "" {
		return true
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(home, ".kube", "config"))
	return err == nil
}

// down removes a run from the backend.
func (b backend) down(ctx context.Context, run string, keepImages bool) error {
	if !b.kubernetes() {
		dc, err := cluster.DockerClient(ctx)
		if err != nil {
			return err
		}
		rep, err := cluster.Sweep(ctx, dc, cluster.SweepOptions{Run: run, Images: !keepImages})
		fmt.Printf("removed %s\n", rep)
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
