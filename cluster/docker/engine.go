package docker

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/kmschaos/kmschaos/cluster"
)

// Start brings up a cluster on the Docker engine and returns once every
// party reports Optimal, sweeping first what killed runs left behind. The
// images are built (or found unchanged) unless given. On error everything
// created so far is removed.
func Start(ctx context.Context, opts ...cluster.Option) (*cluster.Cluster, error) {
	o, err := cluster.OptionsOf(opts...)
	if err != nil {
		return nil, err
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	dc, err := Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the container engine: %w", err)
	}
	if rep, err := Sweep(ctx, dc, SweepOptions{}); err != nil {
		progress("sweeping leftovers of earlier runs failed: " + err.Error())
	} else if rep != (SweepReport{}) {
		progress("swept leftovers of killed runs: " + rep.String())
	}
	return cluster.StartOn(ctx, newDriver(dc), opts...)
}

// Attach returns a handle on a cluster another process started (kmschaos
// up --detach, or a test suite), by its run id; with an empty runID the
// only running cluster. See AttachOn.
func Attach(ctx context.Context, runID string) (*cluster.Cluster, error) {
	dc, err := Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the container engine: %w", err)
	}
	running, err := Runs(ctx, dc)
	if err != nil {
		return nil, err
	}
	if runID, err = pickRun(running, runID); err != nil {
		return nil, err
	}
	d := newDriver(dc)
	byRole, err := d.containers(ctx, runID)
	if err != nil {
		return nil, err
	}
	if len(byRole["keeper"]) != 1 || len(byRole["toxiproxy"]) != 1 {
		return nil, fmt.Errorf("run %s is incomplete: %d keeper and %d toxiproxy containers", runID, len(byRole["keeper"]), len(byRole["toxiproxy"]))
	}
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, err
	}
	keeper, err := provider.ContainerFromType(ctx, byRole["keeper"][0])
	if err != nil {
		return nil, fmt.Errorf("attaching to the keeper: %w", err)
	}
	return cluster.AttachOn(ctx, d, runID, newDockerWorkload(dc, firstName(byRole["keeper"][0].Names), keeper))
}

// Runs lists the run ids of the clusters on this engine whose keeper
// runs: the clusters one can attach to.
func Runs(ctx context.Context, dc client.APIClient) ([]string, error) {
	res, err := dc.ContainerList(ctx, client.ContainerListOptions{Filters: client.Filters{}.
		Add("label", cluster.LabelManaged+"=true").Add("label", cluster.LabelRole+"=keeper").Add("status", "running")})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ctr := range res.Items {
		if r := ctr.Labels[cluster.LabelRun]; r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out, nil
}

// pickRun chooses the cluster to attach to among the running ones: the
// one asked for, or the only one.
func pickRun(running []string, want string) (string, error) {
	if want != "" {
		if !slices.Contains(running, want) {
			if len(running) == 0 {
				return "", &cluster.AttachError{Msg: fmt.Sprintf("no cluster to attach to: run %s is not running (start one with 'kmschaos up --detach')", want)}
			}
			return "", &cluster.AttachError{Msg: fmt.Sprintf("no cluster to attach to: run %s is not running (running: %s)", want, strings.Join(running, ", "))}
		}
		return want, nil
	}
	switch len(running) {
	case 0:
		return "", &cluster.AttachError{Msg: "no cluster to attach to: start one with 'kmschaos up --detach'"}
	case 1:
		return running[0], nil
	}
	count := strconv.Itoa(len(running))
	if len(running) == 2 {
		count = "two"
	}
	return "", &cluster.AttachError{Msg: fmt.Sprintf("%s clusters, pass --run: %s are running", count, strings.Join(running, ", "))}
}
