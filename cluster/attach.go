package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	kmsclient "github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
)

// A cluster keeps what a later process needs to attach to it inside
// itself, never on the host's disk: the golden copy (keys, configs, PRSS)
// is already in the keeper's golden volume, and StatePath beside it holds
// the rest of the handle (topology, profile, options, key id). The
// baseline manifest is not stored at all: it is read again from the
// golden copy, which captureGolden proved identical to it line by line.
const (
	stateDir  = goldenRoot + "/state"
	statePath = stateDir + "/cluster.json"
	// StateDir is where the keeper keeps small records of the cluster's
	// life (the cluster's own description, faults injected by hand): on
	// the golden volume's tmpfs, outside the per-party trees the manifest
	// and the secret scan read.
	StateDir = stateDir
)

// state is what Attach rebuilds a handle from. It holds no secret.
type state struct {
	Version  int
	Topology Topology
	Profile  Profile
	Images   Images
	// ImagesGiven: the images were handed in (WithImages) and belong to
	// whoever built them, so Terminate leaves them.
	ImagesGiven bool
	KeyID       string

	StorageSize      string
	MemoryLimit      int64
	NanoCPUs         int64
	NetworkTimeout   int
	StragglerGraceMs int
	SetupTimeout     int
	KeepImages       bool
	DirectLinks      bool
	Detached         bool
	// Baseline: parties whose resources a runbook changed on purpose.
	Baseline map[int]Resources `json:",omitempty"`
}

const stateVersion = 1

func (c *Cluster) saveState(ctx context.Context) error {
	s := state{
		Version: stateVersion, Topology: c.Topology, Profile: c.Profile, Images: c.Images, ImagesGiven: c.opts.Images != nil,
		KeyID: c.Key.KeyID, StorageSize: c.opts.StorageSize, MemoryLimit: c.opts.MemoryLimit, NanoCPUs: c.opts.NanoCPUs,
		NetworkTimeout: c.opts.NetworkTimeout, StragglerGraceMs: c.opts.StragglerGraceMs, SetupTimeout: c.opts.SetupTimeout,
		KeepImages: c.opts.KeepImages, DirectLinks: c.opts.DirectLinks, Detached: c.opts.Detached,
		Baseline: c.baseline,
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return c.keeper.CopyIn(ctx, b, statePath, 0o600)
}

// AttachError is why Attach found no single cluster, or a run id that
// names nothing on the engine (Sweep of a run): the CLI's bad input (exit
// 2), not a failure of the engine.
type AttachError struct{ Msg string }

func (e *AttachError) Error() string { return e.Msg }

// Runs lists the run ids of the clusters on this engine whose keeper
// runs: the clusters one can attach to.
func Runs(ctx context.Context, dc client.APIClient) ([]string, error) {
	res, err := dc.ContainerList(ctx, client.ContainerListOptions{Filters: client.Filters{}.
		Add("label", LabelManaged+"=true").Add("label", LabelRole+"=keeper").Add("status", "running")})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ctr := range res.Items {
		if r := ctr.Labels[LabelRun]; r != "" && !slices.Contains(out, r) {
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
				return "", &AttachError{fmt.Sprintf("no cluster to attach to: run %s is not running (start one with 'kmschaos up --detach')", want)}
			}
			return "", &AttachError{fmt.Sprintf("no cluster to attach to: run %s is not running (running: %s)", want, strings.Join(running, ", "))}
		}
		return want, nil
	}
	switch len(running) {
	case 0:
		return "", &AttachError{"no cluster to attach to: start one with 'kmschaos up --detach'"}
	case 1:
		return running[0], nil
	}
	count := strconv.Itoa(len(running))
	if len(running) == 2 {
		count = "two"
	}
	return "", &AttachError{fmt.Sprintf("%s clusters, pass --run: %s are running", count, strings.Join(running, ", "))}
}

// loadState reads the cluster's description from the keeper, as
// saveState wrote it, into the handle.
func (c *Cluster) loadState(ctx context.Context) error {
	raw, err := c.ReadFile(ctx, statePath)
	if err != nil {
		return fmt.Errorf("run %s keeps no state (started by an older kmschaos?): %w", c.RunID, err)
	}
	var s state
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("run %s: reading %s: %w", c.RunID, statePath, err)
	}
	if s.Version != stateVersion {
		return fmt.Errorf("run %s was started by another kmschaos version (state version %d, want %d)", c.RunID, s.Version, stateVersion)
	}
	c.Topology, c.Profile, c.Images, c.baseline, c.keyID = s.Topology, s.Profile, s.Images, s.Baseline, s.KeyID
	c.opts = Options{Topology: s.Topology, Profile: s.Profile, StorageSize: s.StorageSize, MemoryLimit: s.MemoryLimit, NanoCPUs: s.NanoCPUs,
		NetworkTimeout: s.NetworkTimeout, StragglerGraceMs: s.StragglerGraceMs, SetupTimeout: s.SetupTimeout,
		KeepImages: s.KeepImages, DirectLinks: s.DirectLinks, Detached: s.Detached}
	if s.ImagesGiven {
		im := s.Images
		c.opts.Images = &im
	}
	return nil
}

// Attach returns a handle on a cluster another process started (kmschaos
// up --detach, or a test suite): the same Cluster that process has, with
// its baseline read back from the cluster itself, so Reset, Audit, the key
// audit and every fault work from here. With an empty runID it attaches to
// the only running cluster. Terminate on the handle removes the cluster.
func Attach(ctx context.Context, runID string) (*Cluster, error) {
	dc, err := DockerClient(ctx)
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
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, err
	}
	res, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.
		Add("label", LabelManaged+"=true").Add("label", LabelRun+"="+runID)})
	if err != nil {
		return nil, err
	}
	byRole := map[string][]container.Summary{}
	for _, s := range res.Items {
		byRole[s.Labels[LabelRole]] = append(byRole[s.Labels[LabelRole]], s)
	}
	if len(byRole["keeper"]) != 1 || len(byRole["toxiproxy"]) != 1 {
		return nil, fmt.Errorf("run %s is incomplete: %d keeper and %d toxiproxy containers", runID, len(byRole["keeper"]), len(byRole["toxiproxy"]))
	}
	c := &Cluster{RunID: runID, dc: dc, owner: byRole["keeper"][0].Labels[LabelOwner]}
	keeper, err := provider.ContainerFromType(ctx, byRole["keeper"][0])
	if err != nil {
		return nil, fmt.Errorf("attaching to the keeper: %w", err)
	}
	c.keeper = newDockerWorkload(dc, firstName(byRole["keeper"][0].Names), keeper)
	if err := c.loadState(ctx); err != nil {
		return nil, err
	}
	if c.toxiproxy, err = provider.ContainerFromType(ctx, byRole["toxiproxy"][0]); err != nil {
		return nil, fmt.Errorf("attaching to toxiproxy: %w", err)
	}
	if err := c.attachMesh(ctx); err != nil {
		return nil, err
	}
	c.parties = make([]*Party, c.Topology.N)
	for _, s := range byRole["party"] {
		i, err := strconv.Atoi(s.Labels["org.kmschaos.party"])
		if err != nil || i < 1 || i > c.Topology.N || c.parties[i-1] != nil {
			return nil, fmt.Errorf("run %s: unexpected party container %v", runID, s.Names)
		}
		ctr, err := provider.ContainerFromType(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("attaching to party %d: %w", i, err)
		}
		c.parties[i-1] = &Party{ID: i, Name: strings.TrimPrefix(firstName(s.Names), "/"), c: c, w: newDockerWorkload(dc, firstName(s.Names), ctr)}
	}
	for i, p := range c.parties {
		if p == nil {
			return nil, fmt.Errorf("run %s: party %d has no container (recreate it with Reset from the process that owns it, or remove the run)", runID, i+1)
		}
	}
	if err := c.loadPublic(ctx, c.keyID); err != nil {
		return nil, err
	}
	if c.golden, err = c.manifestOf(ctx, goldenRoot); err != nil {
		return nil, fmt.Errorf("reading the baseline: %w", err)
	}
	return c, nil
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// meshEndpoints finds toxiproxy's published ports: its control API, and
// every party's client and metrics links as the harness reaches them.
func (c *Cluster) meshEndpoints(ctx context.Context) error {
	host, err := c.toxiproxy.Host(ctx)
	if err != nil {
		return err
	}
	mapped := func(port int) (string, error) {
		p, err := c.toxiproxy.MappedPort(ctx, strconv.Itoa(port)+"/tcp")
		if err != nil {
			return "", fmt.Errorf("toxiproxy port %d: %w", port, err)
		}
		return net.JoinHostPort(host, p.Port()), nil
	}
	ctl, err := mapped(toxiproxyControlPort())
	if err != nil {
		return err
	}
	c.mesh = newMesh(ctl)
	c.clientEndpoints, c.metricsEndpoints = nil, nil
	for i := 1; i <= c.Topology.N; i++ {
		ce, err := mapped(clientProxyPort(i))
		if err != nil {
			return err
		}
		me, err := mapped(metricsProxyPort(i))
		if err != nil {
			return err
		}
		c.clientEndpoints = append(c.clientEndpoints, ce)
		c.metricsEndpoints = append(c.metricsEndpoints, me)
	}
	return nil
}

// attachMesh finds toxiproxy's published ports and its address on the
// cluster network, as startToxiproxy recorded them.
func (c *Cluster) attachMesh(ctx context.Context) error {
	if err := c.meshEndpoints(ctx); err != nil {
		return err
	}
	ins, err := c.dc.ContainerInspect(ctx, c.toxiproxy.GetContainerID(), client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	if ns := ins.Container.NetworkSettings; ns != nil {
		for name, ep := range ns.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				c.netName, c.toxiIP = name, ep.IPAddress.String()
			}
		}
	}
	if c.toxiIP == "" {
		return errors.New("toxiproxy has no address on the cluster network")
	}
	return nil
}

// loadPublic reads the cluster's public key and verification keys from
// the golden copy, as generate did at bring-up.
func (c *Cluster) loadPublic(ctx context.Context, keyID string) error {
	raw, err := c.ReadFile(ctx, path.Join(goldenPath(1, keysVolume), "PUB-p1", material.PublicKey, keyID))
	if err != nil {
		return fmt.Errorf("reading the public key: %w", err)
	}
	pub, err := storage.Open("PUB-p1/"+material.PublicKey+"/"+keyID, material.PublicKey, keyID, raw)
	if err != nil {
		return err
	}
	if c.Key, err = material.DecodePublicKey(pub); err != nil {
		return err
	}
	verf, err := c.loadVerfKeys(ctx)
	if err != nil {
		return fmt.Errorf("reading the verification keys: %w", err)
	}
	c.public = &kmsclient.PublicMaterial{Key: c.Key, VerfKeys: verf}
	return nil
}
