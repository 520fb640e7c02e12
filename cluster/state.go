package cluster

import (
	"context"
	"encoding/json"
	"fmt"
)

// state is what AttachOn rebuilds a handle from. It holds no secret.
type state struct {
	Version int
	// Owner is the run's owner label (detachedOwner, or host/pid):
	// what a handle attached later labels what it makes with.
	Owner    string `json:",omitempty"`
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
		Version: stateVersion, Owner: c.owner, Topology: c.Topology, Profile: c.Profile, Images: c.Images, ImagesGiven: c.opts.Images != nil,
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
	c.Topology, c.Profile, c.Images, c.baseline, c.keyID, c.owner = s.Topology, s.Profile, s.Images, s.Baseline, s.KeyID, s.Owner
	c.opts = Options{Topology: s.Topology, Profile: s.Profile, StorageSize: s.StorageSize, MemoryLimit: s.MemoryLimit, NanoCPUs: s.NanoCPUs,
		NetworkTimeout: s.NetworkTimeout, StragglerGraceMs: s.StragglerGraceMs, SetupTimeout: s.SetupTimeout,
		KeepImages: s.KeepImages, DirectLinks: s.DirectLinks, Detached: s.Detached}
	if s.ImagesGiven {
		im := s.Images
		c.opts.Images = &im
	}
	return nil
}
