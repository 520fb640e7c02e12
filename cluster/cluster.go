// Package cluster is a threshold KMS cluster as the harness sees it,
// whatever runs it: handles on its parties and links, every link routed
// through toxiproxy. StartOn brings one up on a backend's Driver and
// returns once it reports Optimal, AttachOn finds one again from its
// keeper, Reset returns a used cluster to its baseline, and Terminate
// removes everything it made. The backends are packages of their own
// (cluster/docker, cluster/kube); this one imports neither.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kmschaos/kmschaos/fixtures"
	kmsclient "github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/tss"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// Cluster is a running cluster.
type Cluster struct {
	Topology Topology
	Profile  Profile
	RunID    string
	Images   Images
	Key      *tss.PublicKey // the cluster's threshold key
	public   *kmsclient.PublicMaterial
	Timings  Timings // how long bring-up took, step by step

	opts  Options
	owner string // the owner label: this process, or detachedOwner
	// driver runs the cluster on its backend.
	driver  Driver
	keyID   string // the key's id, as the state records it
	netName string
	keeper  Shell // every party's storage
	toxiIP  string
	mesh    *Mesh
	parties []*Party

	golden Manifest
	// watch is told of every manifest of the parties' storage this handle
	// reads (WatchStorage).
	watch atomic.Pointer[func(context.Context, Manifest)]
	// baseline holds the parties whose resources a runbook changed on
	// purpose (SetBaseline): their new baseline, kept in the cluster's state.
	baseline         map[int]Resources
	clientEndpoints  []string
	metricsEndpoints []string
}

// Timings of a bring-up.
type Timings struct {
	Images, Storage, Toxiproxy, Parties, Init, Optimal, Total time.Duration
}

// options applies opts to the defaults and checks them; progress is
// Options.Progress, or silent.
func options(opts []Option) (o Options, progress func(string), err error) {
	o = DefaultOptions()
	for _, f := range opts {
		f(&o)
	}
	progress = o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	return o, progress, o.Topology.Validate()
}

// newCluster is the handle of a new run with options o, before any
// backend made anything of it.
func newCluster(runID string, o Options) *Cluster {
	c := &Cluster{Topology: o.Topology, Profile: o.Profile, RunID: runID, opts: o, owner: owner()}
	if o.Detached {
		c.owner = detachedOwner
	}
	if o.Images != nil {
		c.Images = *o.Images
	}
	return c
}

// abandon removes what a bring-up that failed with err made, on any
// backend, whatever became of the bring-up's own context.
func (c *Cluster) abandon(progress func(string), err error) {
	progress("bring-up failed, removing what was created: " + err.Error())
	ctx, cancel := context.WithTimeout(context.Background(), fixtures.Intervals.Cluster.FailedBringupTeardown)
	defer cancel()
	c.Terminate(ctx)
}

func (c *Cluster) all() []int {
	out := make([]int, c.Topology.N)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// generate deals the key inside the keeper, with kms-gen-keys of the party
// image, straight into the golden volume, and lays it out like the
// parties' volumes. The key shares, signing keys and (later) PRSS keys
// thus never touch the host: they exist in tmpfs volumes on the engine,
// which Terminate and Sweep remove with the cluster, and not in a folder
// a killed run leaves behind. Only the public key comes back.
//
// Peers are reached through their proxy: party i dials peer j at
// kms-peer-j (the toxiproxy container, by /etc/hosts) on the port of link
// i->j.
func (c *Cluster) generate(ctx context.Context) error {
	p := c.Profile
	peerAddr, peerPort := "kms-peer-{i}", "2{me:02}{i:02}"
	if c.opts.DirectLinks {
		peerAddr, peerPort = "kms-party-{i}", strconv.Itoa(p.P2PPort)
	}
	gen := path.Join(goldenRoot, "gen")
	res, err := c.KeeperExec(ctx, append(append([]string{}, p.GenKeys...),
		"--parties", strconv.Itoa(c.Topology.N), "--threshold", strconv.Itoa(c.Topology.T), "--out", gen,
		"--storage-path", p.KeysDir, "--backup-path", p.BackupDir,
		"--peer-address-template", peerAddr, "--peer-port-template", peerPort,
		"--p2p-port-template", strconv.Itoa(p.P2PPort), "--service-port-template", strconv.Itoa(p.APIPort),
		"--metrics-address-template", "0.0.0.0:"+strconv.Itoa(p.MetricsPort), "--listen-address", "0.0.0.0",
		"--network-timeout", strconv.Itoa(c.opts.NetworkTimeout), "--straggler-grace-ms", strconv.Itoa(c.opts.StragglerGraceMs),
		"--setup-timeout", strconv.Itoa(c.opts.SetupTimeout))...)
	if err != nil {
		return err
	}
	var keyID string
	if res.ExitCode == 0 {
		_, err = fmt.Sscanf(res.Stdout, "Generated key %s", &keyID)
	}
	if res.ExitCode != 0 || err != nil {
		return fmt.Errorf("kms-gen-keys in the keeper: %s", res.Output())
	}
	// Lay out the golden copy like the volumes: the config goes to the
	// config volume and, as the "known good configuration" the guide's
	// configuration recovery restores, to the backup volume.
	var pairs, owned, configs []string
	cfgName := path.Base(p.ConfigFile)
	for i := 1; i <= c.Topology.N; i++ {
		cfg := path.Join(gen, fmt.Sprintf("config-p%d.toml", i))
		pairs = append(pairs,
			path.Join(gen, fmt.Sprintf("PUB-p%d", i)), path.Join(goldenPath(i, keysVolume), fmt.Sprintf("PUB-p%d", i)),
			path.Join(gen, fmt.Sprintf("PRIV-p%d", i)), path.Join(goldenPath(i, keysVolume), fmt.Sprintf("PRIV-p%d", i)),
			path.Join(gen, fmt.Sprintf("BACKUP-p%d", i)), path.Join(goldenPath(i, backupVolume), fmt.Sprintf("BACKUP-p%d", i)),
			cfg, path.Join(goldenPath(i, configVolume), cfgName),
			cfg, path.Join(goldenPath(i, backupVolume), cfgName))
		owned = append(owned, path.Join(goldenRoot, "p"+strconv.Itoa(i)))
		configs = append(configs, path.Join(goldenPath(i, configVolume), cfgName), path.Join(goldenPath(i, backupVolume), cfgName))
	}
	uid := p.UID()
	for _, step := range []struct {
		sub  string
		args []string
	}{
		{"mirror", pairs},
		{"rm", []string{"-r", gen}},
		{"chown", append([]string{"-R", uid + ":" + uid}, owned...)},
		{"chmod", append([]string{"700"}, owned...)},
		{"chmod", append([]string{"600"}, configs...)},
	} {
		if err := c.admin(ctx, step.sub, step.args...); err != nil {
			return err
		}
	}
	if err := c.loadPublic(ctx, keyID); err != nil {
		return err
	}
	if c.Key.N != c.Topology.N || c.Key.T != c.Topology.T || c.Key.KeyID != keyID {
		return fmt.Errorf("the dealt key %s is for n=%d t=%d", c.Key.KeyID, c.Key.N, c.Key.T)
	}
	return nil
}

// BaselineResources are the resources every party starts with.
func (c *Cluster) BaselineResources() Resources {
	return Resources{Memory: c.opts.MemoryLimit, NanoCPUs: c.opts.NanoCPUs}
}

// Resources are a party's limits: memory in bytes (swap included, so
// the limit is the limit) and CPUs in billionths; 0: no limit, or left
// as it is by Update. A backend's own type, not the engine's: faults and
// runbooks speak it whatever runs the parties.
type Resources struct {
	Memory   int64 `json:"memory"`
	NanoCPUs int64 `json:"nano_cpus"`
}

// Over is r applied over cur, as Update applies it: a zero field keeps
// cur's.
func (r Resources) Over(cur Resources) Resources {
	if r.Memory != 0 {
		cur.Memory = r.Memory
	}
	if r.NanoCPUs != 0 {
		cur.NanoCPUs = r.NanoCPUs
	}
	return cur
}

// BaselineOf is party i's baseline resources: what it started with, or
// what a runbook declared as its new baseline (SetBaseline).
func (c *Cluster) BaselineOf(i int) Resources {
	if r, ok := c.baseline[i]; ok {
		return r
	}
	return c.BaselineResources()
}

// SetBaseline makes r party i's baseline resources from now on, for this
// handle and every process that attaches later: a runbook that raises a
// limit on purpose (and says so) leaves no fault behind, and Reset and the
// audit hold the party to the new limit.
func (c *Cluster) SetBaseline(ctx context.Context, i int, r Resources) error {
	if i < 1 || i > c.Topology.N {
		return fmt.Errorf("no party %d in %s", i, c.Topology)
	}
	if c.baseline == nil {
		c.baseline = map[int]Resources{}
	}
	c.baseline[i] = r
	return c.saveState(ctx)
}

// Recreate creates party i's container anew from the cluster's definition
// (docker-compose up -d after rm), removing the old one if it is still
// there. It does not wait for the party to be ready.
func (c *Cluster) Recreate(ctx context.Context, i int) error { return c.recreate(ctx, i, nil) }

func (c *Cluster) recreate(ctx context.Context, i int, args []string) error {
	w, err := c.driver.StartParty(ctx, c.spec(), i, args, false)
	if err != nil {
		return fmt.Errorf("recreating party %d: %w", i, err)
	}
	c.parties[i-1].setWorkload(w)
	return nil
}

// InitPRSS runs kms-init from the keeper over every party's API.
func (c *Cluster) InitPRSS(ctx context.Context, epochID string) (ExecResult, error) {
	cmd := append(append([]string{}, c.Profile.Init...), "--epoch-id", epochID, "--timeout", strconv.Itoa(c.opts.SetupTimeout+int(fixtures.Intervals.Cluster.Party.InitMargin/time.Second))+"s", "--addresses")
	for i := 1; i <= c.Topology.N; i++ {
		cmd = append(cmd, fmt.Sprintf("http://%s:%d", partyAlias(i), c.Profile.APIPort))
	}
	return c.KeeperExec(ctx, cmd...)
}

// AwaitOptimal polls every party's health until all report Optimal.
func (c *Cluster) AwaitOptimal(ctx context.Context) error {
	var last error
	for {
		last = c.CheckOptimal(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not Optimal: %w", last)
		case <-time.After(fixtures.Intervals.Cluster.OptimalPoll):
		}
	}
}

// CheckOptimal fails unless every party reports Optimal right now.
func (c *Cluster) CheckOptimal(ctx context.Context) error {
	return c.EachParty(func(i int) error {
		s, err := c.Health(ctx, i)
		if err == nil && s.GetStatus() != kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL {
			err = fmt.Errorf("reaches %d of %d nodes", s.GetNodesReachable(), c.Topology.N)
		}
		return err
	})
}

// Health asks party i for its health through its client link.
func (c *Cluster) Health(ctx context.Context, i int) (*kmsv1.PeersFromContext, error) {
	cl, err := c.Client(i)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Cluster.HealthCall)
	defer cancel()
	hs, err := cl.GetHealthStatus(ctx, &kmsv1.Empty{})
	if err != nil {
		return nil, err
	}
	if len(hs.GetPeersFromAllContexts()) == 0 {
		return nil, errors.New("no context in health status")
	}
	return hs.GetPeersFromAllContexts()[0], nil
}

// Client dials party i's API through its client link.
// Every result it returns is verified against the cluster's public
// material: signed by the coordinator's verification key, for this
// request, with t+1 contributors.
func (c *Cluster) Client(i int) (*kmsclient.Client, error) {
	return kmsclient.DialVerified(c.clientEndpoints[i-1], c.public)
}

// ClientProxyAddr is party i's client link as seen on the cluster network
// (toxiproxy:<port>), where an operator's tools in the network reach it.
func (c *Cluster) ClientProxyAddr(i int) string {
	return fmt.Sprintf("toxiproxy:%d", clientProxyPort(i))
}

// PeerProxyAddr is the address party i dials for peer j, by IP: what an
// operator tests with nc when the name does not resolve.
func (c *Cluster) PeerProxyAddr(i, j int) string {
	return net.JoinHostPort(c.toxiIP, strconv.Itoa(peerProxyPort(i, j)))
}

// Party returns the handle of party i (1-based).
func (c *Cluster) Party(i int) *Party { return c.parties[i-1] }

// Parties returns every party.
func (c *Cluster) Parties() []*Party { return c.parties }

// Link returns the proxy of the directed peer link i->j.
func (c *Cluster) Link(i, j int) *Link { return c.mesh.proxy(peerProxyName(i, j)) }

// Mesh is the toxiproxy of the cluster.
func (c *Cluster) Mesh() *Mesh { return c.mesh }

// NetworkName is the cluster's private network.
func (c *Cluster) NetworkName() string { return c.netName }

// ToxiproxyIP is toxiproxy's address where the parties reach it.
func (c *Cluster) ToxiproxyIP() string { return c.toxiIP }

// Terminate removes everything the run made: every container, volume and
// network of the cluster (a namespace on Kubernetes), and the images the
// backend built for it unless they are kept (WithKeptImages) or in use.
func (c *Cluster) Terminate(ctx context.Context) error { return c.driver.Terminate(ctx) }

// RecreateWith creates party i's container anew like Recreate, with extra
// arguments for kms-server after the baseline's (the meta-specs' lying
// coordinator). Recreate returns it to the baseline.
func (c *Cluster) RecreateWith(ctx context.Context, i int, args ...string) error {
	return c.recreate(ctx, i, args)
}
