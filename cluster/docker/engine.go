package docker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/kmschaos/kmschaos/cluster"
)

// Engine is a Docker engine as the place runs live: it starts them,
// attaches to them, lists, removes and sweeps them (cluster/backends
// chooses it by name, beside Kubernetes).
type Engine struct{ dc client.APIClient }

// Open connects to the engine with the harness's settings.
func Open(ctx context.Context) (*Engine, error) {
	dc, err := Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the container engine: %w", err)
	}
	return &Engine{dc: dc}, nil
}

// Start is Engine.Start on this machine's engine.
func Start(ctx context.Context, opts ...cluster.Option) (*cluster.Cluster, error) {
	e, err := Open(ctx)
	if err != nil {
		return nil, err
	}
	return e.Start(ctx, opts...)
}

// Attach is Engine.Attach on this machine's engine.
func Attach(ctx context.Context, run string) (*cluster.Cluster, error) {
	e, err := Open(ctx)
	if err != nil {
		return nil, err
	}
	return e.Attach(ctx, run)
}

// Start brings up a cluster on the engine and returns once every party
// reports Optimal, sweeping first what killed runs left behind. The images
// are built (or found unchanged) unless given. On error everything created
// so far is removed.
func (e *Engine) Start(ctx context.Context, opts ...cluster.Option) (*cluster.Cluster, error) {
	o, err := cluster.OptionsOf(opts...)
	if err != nil {
		return nil, err
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if rep, err := Sweep(ctx, e.dc, SweepOptions{}); err != nil {
		progress("sweeping leftovers of earlier runs failed: " + err.Error())
	} else if rep != (SweepReport{}) {
		progress("swept leftovers of killed runs: " + rep.String())
	}
	return cluster.StartOn(ctx, newDriver(e.dc), opts...)
}

// Attach returns a handle on a cluster another process started (kmschaos
// up --detach, or a test suite), by its run id; with an empty run the
// only running cluster. See cluster.AttachOn.
func (e *Engine) Attach(ctx context.Context, run string) (*cluster.Cluster, error) {
	running, err := runningRuns(ctx, e.dc)
	if err != nil {
		return nil, err
	}
	if run, err = pickRun(running, run); err != nil {
		return nil, err
	}
	d := newDriver(e.dc)
	byRole, err := d.containers(ctx, run)
	if err != nil {
		return nil, err
	}
	if len(byRole["keeper"]) != 1 || len(byRole["toxiproxy"]) != 1 {
		return nil, fmt.Errorf("run %s is incomplete: %d keeper and %d toxiproxy containers", run, len(byRole["keeper"]), len(byRole["toxiproxy"]))
	}
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, err
	}
	keeper, err := provider.ContainerFromType(ctx, byRole["keeper"][0])
	if err != nil {
		return nil, fmt.Errorf("attaching to the keeper: %w", err)
	}
	return cluster.AttachOn(ctx, d, run, newDockerWorkload(e.dc, firstName(byRole["keeper"][0].Names), keeper))
}

// Runs lists every run with a container on the engine, whatever its
// state: its owner and its containers' states.
func (e *Engine) Runs(ctx context.Context) (cluster.RunList, error) {
	res, err := e.dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", cluster.LabelManaged+"=true")})
	if err != nil {
		return cluster.RunList{}, err
	}
	states := map[string][]string{}
	owners := map[string]string{}
	for _, ctr := range res.Items {
		r := ctr.Labels[cluster.LabelRun]
		states[r] = append(states[r], string(ctr.State))
		owners[r] = ctr.Labels[cluster.LabelOwner]
	}
	list := cluster.RunList{Columns: []string{"CONTAINERS"}}
	for _, r := range slices.Sorted(maps.Keys(states)) {
		list.Runs = append(list.Runs, cluster.Run{ID: r, Owner: owners[r], Values: []string{fmt.Sprintf("%d (%s)", len(states[r]), summarize(states[r]))}})
	}
	return list, nil
}

// summarize counts states: "1 exited, 4 running".
func summarize(states []string) string {
	n := map[string]int{}
	for _, s := range states {
		n[s]++
	}
	var parts []string
	for s, k := range n {
		parts = append(parts, fmt.Sprintf("%d %s", k, s))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// Remove removes run's containers, networks and volumes (kmschaos down),
// and the images its containers ran unless keepImages; it says what it
// removed. A run the engine has nothing of is a *cluster.InputError, and
// nothing is removed.
func (e *Engine) Remove(ctx context.Context, run string, keepImages bool) (string, error) {
	rep, err := Sweep(ctx, e.dc, SweepOptions{Run: run, Images: !keepImages})
	if err != nil && rep == (SweepReport{}) {
		return "", err
	}
	return rep.String(), err
}

// Sweep removes what killed runs left behind, or with all every run's,
// and with images the harness's images no container uses; it says what
// it removed.
func (e *Engine) Sweep(ctx context.Context, all, images bool) (string, error) {
	rep, err := Sweep(ctx, e.dc, SweepOptions{All: all, Images: images})
	return rep.String(), err
}

// Images builds the images on the engine, or finds them unchanged.
func (e *Engine) Images(ctx context.Context, progress func(string)) (cluster.Images, error) {
	return BuildImages(ctx, e.dc, progress)
}

// runningRuns lists the run ids of the clusters on the engine whose
// keeper runs: the clusters one can attach to.
func runningRuns(ctx context.Context, dc client.APIClient) ([]string, error) {
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
				return "", &cluster.InputError{Msg: fmt.Sprintf("no cluster to attach to: run %s is not running (start one with 'kmschaos up --detach')", want)}
			}
			return "", &cluster.InputError{Msg: fmt.Sprintf("no cluster to attach to: run %s is not running (running: %s)", want, strings.Join(running, ", "))}
		}
		return want, nil
	}
	switch len(running) {
	case 0:
		return "", &cluster.InputError{Msg: "no cluster to attach to: start one with 'kmschaos up --detach'"}
	case 1:
		return running[0], nil
	}
	count := strconv.Itoa(len(running))
	if len(running) == 2 {
		count = "two"
	}
	return "", &cluster.InputError{Msg: fmt.Sprintf("%s clusters, pass --run: %s are running", count, strings.Join(running, ", "))}
}
