package cluster

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/kms/material"
)

// Driver is a backend that runs a whole cluster, not one party: it makes
// what a Spec describes (storage, the keeper, the mesh, the parties) and
// removes it. StartOn and AttachOn drive it, so that dealing keys,
// populating the mesh, PRSS set-up, the baseline and the state a later
// process attaches from are the same code on every backend. What only
// some backends offer is an optional interface (ConfigPublisher, Sizer,
// Operator, Scheduler, Builder, PortHolder, Toolboxes): a verb whose
// interface the driver lacks is Unsupported.
type Driver interface {
	// Name is the backend's name ("docker", "kubernetes"), as reports and
	// Unsupported errors give it.
	Name() string
	// Provision creates every party's storage (Spec.Volumes) and the golden
	// store, and starts the keeper with all of them mounted where
	// Spec.KeeperMounts says.
	Provision(ctx context.Context, s Spec) (Shell, error)
	// StartMesh starts toxiproxy where every Spec.PeerHost name and
	// Spec.PartyHost name used by the proxies resolve, with Spec.MeshPorts
	// open, and says how the harness and the parties reach it.
	StartMesh(ctx context.Context, s Spec) (MeshAccess, error)
	// StartParty runs party i (Spec.Party) with args after the profile's
	// command, replacing the one that runs, and with wait returns once it
	// serves its API.
	StartParty(ctx context.Context, s Spec, i int, args []string, wait bool) (Workload, error)
	// Reconnect finds a running cluster's mesh and parties (AttachOn).
	Reconnect(ctx context.Context, s Spec) (MeshAccess, []Workload, error)
	// Terminate removes everything the run made, storage included.
	Terminate(ctx context.Context) error
	// OperatorCommand is the command line an operator types to run verb
	// (exec, logs) on a party's workload named name, with args.
	OperatorCommand(name, verb, args string) string
}

// ConfigPublisher is a driver that deploys each party's config apart from
// its volumes, as Kubernetes does: a ConfigMap from the release's values,
// installed into the config volume when the pod starts. A config edited in
// the volume alone lasts until the party's next start there; the cluster
// deploys every config it writes or restores, and audits the deployed one.
type ConfigPublisher interface {
	// PublishConfig deploys config as party i's; the party starts with it
	// from its next start on.
	PublishConfig(ctx context.Context, s Spec, i int, config []byte) error
	// DeployedConfig is party i's deployed config, nil before it has one.
	DeployedConfig(ctx context.Context, i int) ([]byte, error)
}

// Builder is a backend that builds the images itself when a bring-up is
// given none (the Docker engine). Images it built are the run's:
// Terminate removes them unless kept (Options.KeepImages).
type Builder interface {
	BuildImages(ctx context.Context, progress func(string)) (Images, error)
}

// PortHolder is a backend that can make another process own a port a
// party binds at start, the way a leftover process or a sidecar in the
// same pod would (HoldPort).
type PortHolder interface {
	// HoldPort starts a holder listening on port in party i's place (its
	// name and address on the cluster's network) and party i again inside
	// the holder's network namespace, so that every start of the party
	// finds the port taken. It returns the holder (where the party's
	// network is seen from while it crash-loops) and the party's new
	// workload, each as soon as it exists, also when a later step fails.
	HoldPort(ctx context.Context, s Spec, i, port int) (holder Shell, party Workload, err error)
	// RemoveHolder removes the holder whose id a party's
	// State.SharesNetworkOf names.
	RemoveHolder(ctx context.Context, id string) error
}

// Toolboxes is a backend that opens an operator's shell on a party's
// host (OpenToolbox), where the guide's shell blocks run as written.
type Toolboxes interface {
	// OpenToolbox starts a shell of Spec.Images.Toolbox on party i's host,
	// as root, with the party's volumes where the party sees them; with
	// join it shares the party's namespaces while party (its workload)
	// runs.
	OpenToolbox(ctx context.Context, s Spec, i int, party Workload, join bool) (ToolboxShell, error)
}

// ToolboxShell is an open toolbox; Close removes it.
type ToolboxShell interface {
	Shell
	Close(ctx context.Context) error
}

// MeshAccess is where toxiproxy is: its control API and every party's
// client and metrics links as the harness reaches them, and the address
// the parties reach it at (what kms-peer-<j> resolves to).
type MeshAccess struct {
	// Network names where the cluster runs (a namespace).
	Network         string
	Control         string
	PeerAddr        string
	Client, Metrics []string
}

// Spec describes a cluster to its backend: names, images, commands,
// volumes and ports. It holds no secret; the keys are dealt inside the
// keeper after Provision.
type Spec struct {
	RunID    string
	Topology Topology
	Profile  Profile
	Images   Images
	Options  Options
	labels   map[string]string
	baseline func(i int) Resources
}

// NewSpec describes a cluster of run runID with opts as a backend would
// be asked to run it (tests, and rendering a cluster without running it).
func NewSpec(runID string, opts ...Option) Spec {
	o, _, _ := options(opts)
	return newCluster(runID, o).spec()
}

func (c *Cluster) spec() Spec {
	return Spec{RunID: c.RunID, Topology: c.Topology, Profile: c.Profile, Images: c.Images, Options: c.opts,
		labels: c.labels(""), baseline: c.BaselineOf}
}

// Labels are the labels of everything the run makes, with role.
func (s Spec) Labels(role string) map[string]string {
	l := maps.Clone(s.labels)
	l[LabelRole] = role
	return l
}

// PartyName is the name of party i's workload where the backend names it
// after the run (kmschaos-<run>-p<i>: a container's name).
func (s Spec) PartyName(i int) string { return partyName(s.RunID, i) }

// PartyHost is the name party i is reached by (kms-party-<i>): the mesh's
// upstreams and kms-init dial it.
func (s Spec) PartyHost(i int) string { return partyAlias(i) }

// PeerHosts are the names a party dials its peers by (kms-peer-<j>),
// each of which must resolve to the mesh (MeshAccess.PeerAddr).
func (s Spec) PeerHosts() []string {
	var out []string
	for j := 1; j <= s.Topology.N; j++ {
		out = append(out, peerHost(j))
	}
	return out
}

// Volume is one of a party's stores: its kind (keys, backup, config), where
// the party and the keeper mount it, and its size.
type Volume struct {
	Kind, InParty, InKeeper, Size string
}

// Volumes are party i's stores.
func (s Spec) Volumes(i int) []Volume {
	var out []Volume
	for _, k := range volumeKinds {
		size := s.Options.StorageSize
		if k == configVolume {
			size = "1m"
		}
		out = append(out, Volume{Kind: string(k), InParty: s.Profile.mountPoint(k), InKeeper: KeeperPath(i, k), Size: size})
	}
	return out
}

// KeeperConfigPath is where the keeper sees party i's config.
func (s Spec) KeeperConfigPath(i int) string { return keeperConfigPath(s.Profile, i) }

func keeperConfigPath(p Profile, i int) string {
	return path.Join(KeeperPath(i, configVolume), path.Base(p.ConfigFile))
}

// GoldenPath is where the keeper mounts the golden store (only it does).
func (s Spec) GoldenPath() string { return goldenRoot }

// KeeperCommand is what the keeper runs: nothing, as root, for ever.
func (s Spec) KeeperCommand() []string { return s.Profile.AdminCmd("hold") }

// KeeperImage is the toolbox image (the operator's debug pod).
func (s Spec) KeeperImage() string {
	if s.Images.Toolbox != "" {
		return s.Images.Toolbox
	}
	return s.Images.Party
}

// PartyCommand is party i's arguments: the profile's, then args.
func (s Spec) PartyCommand(args []string) []string { return slices.Concat(s.Profile.Command, args) }

// Baseline is party i's resources.
func (s Spec) Baseline(i int) Resources { return s.baseline(i) }

// MeshPorts are toxiproxy's control port and every proxy's port.
func (s Spec) MeshPorts() (control int, proxies []int) {
	for i := 1; i <= s.Topology.N; i++ {
		for j := 1; j <= s.Topology.N; j++ {
			if i != j {
				proxies = append(proxies, peerProxyPort(i, j))
			}
		}
		proxies = append(proxies, clientProxyPort(i), metricsProxyPort(i))
	}
	return toxiproxyControlPort(), proxies
}

// ClientProxyPort and MetricsProxyPort are the ports of party i's client
// and metrics links on toxiproxy.
func (s Spec) ClientProxyPort(i int) int  { return clientProxyPort(i) }
func (s Spec) MetricsProxyPort(i int) int { return metricsProxyPort(i) }

func (p Profile) mountPoint(k volumeKind) string {
	switch k {
	case keysVolume:
		return p.KeysDir
	case backupVolume:
		return p.BackupDir
	}
	return p.ConfigDir
}

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

// deal generates the key in the keeper and seeds every party's storage.
func (c *Cluster) deal(ctx context.Context) error {
	if err := c.generate(ctx); err != nil {
		return fmt.Errorf("generating keys: %w", err)
	}
	if err := c.seed(ctx, c.all()...); err != nil {
		return fmt.Errorf("seeding storage: %w", err)
	}
	return nil
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
	if res, err := c.InitPRSS(ctx, material.DefaultEpochID); err != nil {
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

// Backend is the name of the backend the cluster runs on.
func (c *Cluster) Backend() string { return c.driver.Name() }

// OperatorCommand is the command line an operator types to run verb
// (exec, logs) on party i's workload with args: docker exec, kubectl exec.
func (c *Cluster) OperatorCommand(i int, verb, args string) string {
	return c.driver.OperatorCommand(c.Party(i).Name, verb, args)
}

// Sizer is a backend that can tell whether each volume is a filesystem
// of its own, capped at its size.
type Sizer interface {
	VolumesSized() bool
}

// VolumesSized tells whether every party's volume is its own filesystem,
// capped at its size (a tmpfs volume on Docker, a provisioned volume on
// Kubernetes), so that filling one fills only that one.
func (c *Cluster) VolumesSized() bool {
	s, ok := c.driver.(Sizer)
	return ok && s.VolumesSized()
}

// Operator is a backend an operator drives with tools of their own
// machine (kubectl, helm) pointed at the run: Kubernetes.
type Operator interface {
	Operate(ctx context.Context, cmd []string) (ExecResult, error)
}

// Operate runs an operator's tool (kubectl, helm) on this machine against
// the cluster, as the operator's own context would: the run's cluster and
// namespace. A backend with no such tools (Docker) refuses it as
// unsupported, which a scenario reports as skipped.
func (c *Cluster) Operate(ctx context.Context, cmd ...string) (ExecResult, error) {
	if op, ok := c.driver.(Operator); ok {
		return op.Operate(ctx, cmd)
	}
	return ExecResult{}, c.unsupported("running "+strings.Join(cmd[:min(1, len(cmd))], ""),
		"kubectl and helm steps act on a Kubernetes cluster")
}

// unsupported is the error of a cluster-wide verb the cluster's backend
// does not offer.
func (c *Cluster) unsupported(verb, why string) error {
	return &Unsupported{Backend: c.Backend(), Verb: verb, Why: why}
}

// Scheduler is a backend whose parties a scheduler places on nodes
// (Kubernetes): a party's node can be cordoned and its pod evicted, so
// that the pod that replaces it waits for a node to take it.
type Scheduler interface {
	// Evict cordons the node party i runs on, marking it as the run's,
	// and evicts party i's pod; it returns the node's name.
	Evict(ctx context.Context, i int) (node string, err error)
	// Cordoned lists the nodes the run cordoned that are still cordoned.
	Cordoned(ctx context.Context) ([]string, error)
	// Uncordon makes every node the run cordoned schedulable again, and
	// returns their names.
	Uncordon(ctx context.Context) ([]string, error)
}

// Evict cordons the node party i runs on and evicts the party's pod
// (kubectl drain, for one pod); it returns the node's name. A backend
// with no scheduler (Docker) refuses it as unsupported.
func (c *Cluster) Evict(ctx context.Context, i int) (string, error) {
	if s, ok := c.driver.(Scheduler); ok {
		return s.Evict(ctx, i)
	}
	return "", c.unsupported("evicting a party from its node", "the backend has no scheduler: a party runs where the backend started it, and there is no node to cordon")
}

// Uncordon makes every node the run cordoned schedulable again and
// returns their names; on a backend with no scheduler there is none.
func (c *Cluster) Uncordon(ctx context.Context) ([]string, error) {
	if s, ok := c.driver.(Scheduler); ok {
		return s.Uncordon(ctx)
	}
	return nil, nil
}

// cordoned lists the nodes the run cordoned, for the audit.
func (c *Cluster) cordoned(ctx context.Context) ([]string, error) {
	if s, ok := c.driver.(Scheduler); ok {
		return s.Cordoned(ctx)
	}
	return nil, nil
}
