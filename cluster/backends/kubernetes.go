package backends

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/docker"
	"github.com/kmschaos/kmschaos/cluster/kube"
)

// kubernetes is a Kubernetes cluster as a Backend. The images are built
// on this machine's Docker engine and imported into the local cluster
// (kube.ImportLocal); a cluster of one's own pulls them from a registry.
type kubernetes struct{ cfg kube.Config }

// driver connects to the cluster; progress reports its waits.
func (k kubernetes) driver(ctx context.Context, progress func(string)) (*kube.Driver, error) {
	cfg := k.cfg
	cfg.Progress = progress
	return kube.New(ctx, cfg)
}

// Start connects first, so that a wrong kubeconfig is told before
// minutes of building.
func (k kubernetes) Start(ctx context.Context, opts ...cluster.Option) (*cluster.Cluster, error) {
	o, err := cluster.OptionsOf(opts...)
	if err != nil {
		return nil, err
	}
	d, err := k.driver(ctx, o.Progress)
	if err != nil {
		return nil, err
	}
	if o.Images != nil {
		return d.Start(ctx, *o.Images, opts...)
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	im, err := build(ctx, progress)
	if err != nil {
		return nil, err
	}
	return d.Start(ctx, im, opts...)
}

// build builds the images on this machine's Docker engine.
func build(ctx context.Context, progress func(string)) (cluster.Images, error) {
	dc, err := docker.Client(ctx)
	if err != nil {
		return cluster.Images{}, fmt.Errorf("connecting to the container engine (the images are built there): %w", err)
	}
	return docker.BuildImages(ctx, dc, progress)
}

func (k kubernetes) Attach(ctx context.Context, run string) (*cluster.Cluster, error) {
	d, err := k.driver(ctx, nil)
	if err != nil {
		return nil, err
	}
	return d.Attach(ctx, run)
}

// Runs lists the runs' namespaces, with their age.
func (k kubernetes) Runs(ctx context.Context) (cluster.RunList, error) {
	d, err := k.driver(ctx, nil)
	if err != nil {
		return cluster.RunList{}, err
	}
	runs, err := d.Runs(ctx)
	if err != nil {
		return cluster.RunList{}, err
	}
	list := cluster.RunList{Columns: []string{"NAMESPACE", "AGE"}}
	ids := make([]string, 0, len(runs))
	for r := range runs {
		ids = append(ids, r)
	}
	slices.Sort(ids)
	for _, r := range ids {
		ns := runs[r]
		list.Runs = append(list.Runs, cluster.Run{ID: r, Owner: ns.Annotations[kube.OwnerAnnotation],
			Values: []string{ns.Name, time.Since(ns.CreationTimestamp.Time).Round(time.Second).String()}})
	}
	return list, nil
}

// Remove removes the run's namespace and its volumes; images stay on the
// nodes.
func (k kubernetes) Remove(ctx context.Context, run string, _ bool) (string, error) {
	d, err := k.driver(ctx, nil)
	if err != nil {
		return "", err
	}
	ns, err := d.RemoveRun(ctx, run)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("run %s (namespace %s and its volumes)", run, ns), nil
}

// Sweep removes the runs whose process is gone, or every run with all;
// images stay on the nodes.
func (k kubernetes) Sweep(ctx context.Context, all, _ bool) (string, error) {
	d, err := k.driver(ctx, nil)
	if err != nil {
		return "", err
	}
	runs, err := d.Sweep(ctx, all)
	return fmt.Sprintf("%d runs %v from the Kubernetes cluster", len(runs), runs), err
}

// Images builds the images on this machine's engine and imports them into
// the local cluster's containerd, where pods find them without a
// registry; it says first when there is no local cluster to import into.
func (k kubernetes) Images(ctx context.Context, progress func(string)) (cluster.Images, error) {
	if err := kube.CheckLocal(); err != nil {
		return cluster.Images{}, err
	}
	im, err := build(ctx, progress)
	if err != nil {
		return im, err
	}
	return im, kube.ImportLocal(ctx, im.Party, im.Toxiproxy, im.Toolbox)
}

var (
	_ Backend = kubernetes{}
	_ Backend = (*docker.Engine)(nil)
)
