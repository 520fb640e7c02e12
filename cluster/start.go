package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// Making a handle: StartOn brings a cluster up on a backend's Driver,
// AttachOn finds a running one again, Assemble takes one a backend (a
// fake) made by itself.

// StartOn brings up a cluster on d and returns once every party reports
// Optimal. The images are Options.Images, already where d runs them, or,
// when none are given, built by d (a Builder). On error everything
// created so far is removed.
func StartOn(ctx context.Context, d Driver, opts ...Option) (c *Cluster, err error) {
	start := time.Now()
	o, progress, err := options(opts)
	if err != nil {
		return nil, err
	}
	b, builds := d.(Builder)
	if o.Images == nil && !builds {
		return nil, fmt.Errorf("the %s backend runs images built beforehand: none given", d.Name())
	}
	c = newCluster(newRunID(), o)
	c.driver = d
	defer func() {
		if err != nil {
			c.abandon(progress, err)
			c = nil
		}
	}()

	step := time.Now()
	if o.Images == nil {
		if c.Images, err = b.BuildImages(ctx, progress); err != nil {
			return c, err
		}
	}
	c.Timings.Images = time.Since(step)
	s := c.spec()

	step = time.Now()
	progress(fmt.Sprintf("run %s: creating storage and the keeper on %s", c.RunID, d.Name()))
	if c.keeper, err = d.Provision(ctx, s); err != nil {
		return c, err
	}
	progress(fmt.Sprintf("run %s: generating keys for %s in the keeper", c.RunID, o.Topology))
	if err := c.deal(ctx); err != nil {
		return c, err
	}
	c.Timings.Storage = time.Since(step)

	step = time.Now()
	_, proxies := s.MeshPorts()
	progress(fmt.Sprintf("starting toxiproxy with %d proxies", len(proxies)))
	acc, err := d.StartMesh(ctx, s)
	if err != nil {
		return c, err
	}
	if err := c.useMesh(acc); err != nil {
		return c, err
	}
	if err := c.mesh.populate(c.Topology, c.Profile); err != nil {
		return c, err
	}
	c.Timings.Toxiproxy = time.Since(step)

	step = time.Now()
	progress(fmt.Sprintf("starting %d parties", o.Topology.N))
	c.parties = make([]*Party, c.Topology.N)
	if err := c.EachParty(func(i int) error {
		w, err := d.StartParty(ctx, s, i, nil, true)
		if w != nil {
			c.parties[i-1] = c.newParty(i, w)
		}
		return err
	}); err != nil {
		return c, err
	}
	c.Timings.Parties = time.Since(step)
	if err := c.settle(ctx, progress); err != nil {
		return c, err
	}
	c.Timings.Total = time.Since(start)
	progress(fmt.Sprintf("cluster %s is Optimal on %s (%s)", c.RunID, d.Name(), c.Timings.Total.Round(time.Millisecond)))
	return c, nil
}

// settle sets up PRSS, waits for Optimal and records the baseline and
// the cluster's state in the keeper: the end of every bring-up.
func (c *Cluster) settle(ctx context.Context, progress func(string)) error {
	step := time.Now()
	// PRSS set-up needs every party to reach every other through the
	// mesh within its window. A party's health is what it reaches, so
	// every party Optimal is that condition, awaited before kms-init
	// rather than kms-init retried: on Kubernetes a peer's Service name
	// can take a DNS cache's lifetime to resolve in the mesh.
	progress("waiting for every party to reach every peer through the mesh")
	mctx, cancel := context.WithTimeout(ctx, c.opts.ReadyTimeout)
	err := c.AwaitOptimal(mctx)
	cancel()
	if err != nil {
		return fmt.Errorf("before PRSS set-up: %w", err)
	}
	progress("initialising PRSS with kms-init")
	if res, err := c.InitPRSS(ctx); err != nil {
		return err
	} else if res.ExitCode != 0 {
		return fmt.Errorf("kms-init failed:\n%s", res.Output())
	}
	c.Timings.Init = time.Since(step)

	step = time.Now()
	progress("waiting for every party to report Optimal")
	rctx, cancel := context.WithTimeout(ctx, c.opts.ReadyTimeout)
	defer cancel()
	if err := c.AwaitOptimal(rctx); err != nil {
		return err
	}
	if err := c.captureGolden(ctx); err != nil {
		return fmt.Errorf("recording the baseline: %w", err)
	}
	if err := c.saveState(ctx); err != nil {
		return fmt.Errorf("recording the cluster's state in the keeper: %w", err)
	}
	c.Timings.Optimal = time.Since(step)
	return nil
}

func (c *Cluster) useMesh(acc MeshAccess) error {
	if len(acc.Client) != c.Topology.N || len(acc.Metrics) != c.Topology.N {
		return fmt.Errorf("the %s backend's mesh has %d client and %d metrics links for %s", c.driver.Name(), len(acc.Client), len(acc.Metrics), c.Topology)
	}
	c.mesh = newMesh(acc.Control)
	c.toxiIP, c.netName = acc.PeerAddr, acc.Network
	c.clientEndpoints, c.metricsEndpoints = acc.Client, acc.Metrics
	return nil
}

// AttachOn returns a handle on a cluster that runs on d, from its keeper
// (which the backend found by the run's labels): the same Cluster the
// process that started it has, with its baseline read back from the
// cluster itself, so Reset, Audit, the key audit and every fault work from
// here. Terminate on the handle removes the cluster.
func AttachOn(ctx context.Context, d Driver, runID string, keeper Shell) (*Cluster, error) {
	c := &Cluster{RunID: runID, driver: d, keeper: keeper}
	if err := c.loadState(ctx); err != nil {
		return nil, err
	}
	acc, ws, err := d.Reconnect(ctx, c.spec())
	if err != nil {
		return nil, err
	}
	if err := c.useMesh(acc); err != nil {
		return nil, err
	}
	if len(ws) != c.Topology.N {
		return nil, fmt.Errorf("run %s: %d parties found on %s for %s", runID, len(ws), d.Name(), c.Topology)
	}
	c.parties = make([]*Party, c.Topology.N)
	for i, w := range ws {
		c.parties[i] = c.newParty(i+1, w)
	}
	if err := c.loadPublic(ctx, c.keyID); err != nil {
		return nil, err
	}
	if c.golden, err = c.manifestOf(ctx, goldenRoot); err != nil {
		return nil, fmt.Errorf("reading the baseline: %w", err)
	}
	return c, nil
}

// NewSpec describes a cluster of run runID with opts as a backend would
// be asked to run it (tests, and rendering a cluster without running it).
func NewSpec(runID string, opts ...Option) Spec {
	o, _, _ := options(opts)
	return newCluster(runID, o).spec()
}

// abandon removes what a bring-up that failed with err made, on any
// backend, whatever became of the bring-up's own context.
func (c *Cluster) abandon(progress func(string), err error) {
	progress("bring-up failed, removing what was created: " + err.Error())
	ctx, cancel := context.WithTimeout(context.Background(), fixtures.Intervals.Cluster.FailedBringupTeardown)
	defer cancel()
	_ = c.Terminate(ctx)
}

// Parts are what a backend brought up, for Assemble.
type Parts struct {
	Topology Topology
	Profile  Profile
	RunID    string
	// Parties holds party i's workload at index i-1.
	Parties []Workload
	// Keeper mounts every party's storage under KeeperPath.
	Keeper Shell
	// MeshAddr is toxiproxy's control API, and ClientEndpoints and
	// MetricsEndpoints party i's API and HTTP endpoint through it, at
	// index i-1, as the harness reaches them.
	MeshAddr                          string
	ClientEndpoints, MetricsEndpoints []string
	// Baseline is every party's resources at bring-up; zero: the
	// defaults (DefaultOptions).
	Baseline Resources
	// Key is the cluster's public threshold key (the runbooks' key_id,
	// the oracle's encryptions). Required.
	Key *tss.PublicKey
	// Driver answers the cluster-wide verbs (Recreate, Terminate, Operate,
	// VolumesSized, ...). Required.
	Driver Driver
}

// Assemble makes a cluster handle of what a backend brought up. It checks
// the parts' shape, not that the cluster is healthy (AwaitOptimal does).
func Assemble(p Parts) (*Cluster, error) {
	if err := p.Topology.Validate(); err != nil {
		return nil, err
	}
	if len(p.Parties) != p.Topology.N {
		return nil, fmt.Errorf("assembling %s: %d party workloads", p.Topology, len(p.Parties))
	}
	for _, eps := range [][]string{p.ClientEndpoints, p.MetricsEndpoints} {
		if eps != nil && len(eps) != p.Topology.N {
			return nil, fmt.Errorf("assembling %s: %d endpoints", p.Topology, len(eps))
		}
	}
	if p.Keeper == nil {
		return nil, errors.New("assembling a cluster: no keeper")
	}
	if p.Key == nil {
		return nil, errors.New("assembling a cluster: no public key")
	}
	if p.Driver == nil {
		return nil, errors.New("assembling a cluster: no driver")
	}
	c := &Cluster{Topology: p.Topology, Profile: p.Profile, RunID: p.RunID, Key: p.Key, keeper: p.Keeper, driver: p.Driver,
		clientEndpoints: p.ClientEndpoints, metricsEndpoints: p.MetricsEndpoints}
	c.opts = DefaultOptions()
	c.opts.Topology, c.opts.Profile = p.Topology, p.Profile
	if p.Baseline != (Resources{}) {
		c.opts.MemoryLimit, c.opts.NanoCPUs = p.Baseline.Memory, p.Baseline.NanoCPUs
	}
	if p.MeshAddr != "" {
		c.mesh = newMesh(p.MeshAddr)
	}
	c.parties = make([]*Party, p.Topology.N)
	for i, w := range p.Parties {
		if w == nil {
			return nil, fmt.Errorf("assembling %s: party %d has no workload", p.Topology, i+1)
		}
		c.parties[i] = c.newParty(i+1, w)
	}
	return c, nil
}
