package cluster

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// Topology is the size of a cluster: n = 3t+1 parties.
type Topology struct{ N, T int }

// MaxParties is the harness's own bound on n, below the scheme's (tss.MaxParties).
const MaxParties = 31

// Validate checks n = 3t+1 with t >= 1 and the harness's bound, and says
// which sizes are valid: a size is what a user types (up --parties
// --threshold, KMSCHAOS_N and KMSCHAOS_T).
func (t Topology) Validate() error {
	maxT := (MaxParties - 1) / 3
	if t.T < 1 || t.N != 3*t.T+1 || t.N > MaxParties {
		var hint []string
		if t.N >= 4 && t.N <= MaxParties && t.N%3 == 1 {
			hint = append(hint, fmt.Sprintf("n=%d goes with t=%d", t.N, (t.N-1)/3))
		}
		if t.T >= 1 && t.T <= maxT {
			hint = append(hint, fmt.Sprintf("t=%d goes with n=%d", t.T, 3*t.T+1))
		}
		msg := fmt.Sprintf("%s is not a size the harness runs: n = 3t+1 parties with t from 1 to %d (n = 4, 7, 10, 13, ..., %d)", t, maxT, MaxParties)
		if len(hint) > 0 {
			msg += "; " + strings.Join(hint, ", ")
		}
		return errors.New(msg)
	}
	return tss.ValidateTopology(t.N, t.T)
}

func (t Topology) String() string { return fmt.Sprintf("n=%d t=%d", t.N, t.T) }

// Parties lists the party ids, 1 to n.
func (t Topology) Parties() []int {
	ps := make([]int, t.N)
	for k := range ps {
		ps[k] = k + 1
	}
	return ps
}

// Options configure a cluster.
type Options struct {
	Topology Topology
	Profile  Profile
	Images   *Images // prebuilt images; built (or reused) by the backend when nil (Builder)

	StorageSize string // tmpfs size of each party's keys volume, e.g. "8m"
	MemoryLimit int64  // each party's memory limit in bytes (0: none)
	// NanoCPUs is each party's CPU limit. The engine can raise a CPU limit
	// but not remove one, so the baseline is an explicit limit of every
	// core: a CPU fault can then always be undone.
	NanoCPUs int64

	NetworkTimeout   int // party-to-party call timeout, seconds
	StragglerGraceMs int
	SetupTimeout     int // PRSS set-up deadline, seconds (max_elapsed_time)

	// KeepImages keeps the images when the cluster is terminated, so the
	// next bring-up reuses them (about 16 s saved). By default Terminate
	// removes them, as it removes everything else the run made; an image
	// another cluster still runs on is left to that cluster.
	KeepImages bool

	Detached     bool          // outlives this process: never swept as a killed run's
	DirectLinks  bool          // parties talk to each other directly, not through the mesh
	ReadyTimeout time.Duration // bound of bring-up to Optimal
	Progress     func(string)  // bring-up progress; nil: silent
}

// Option changes Options.
type Option func(*Options)

// OptionsOf is what opts make of the defaults, checked as a bring-up
// checks them: what a backend reads before it starts (the images given,
// the progress).
func OptionsOf(opts ...Option) (Options, error) {
	o, _, err := options(opts)
	return o, err
}

// Images names the images a cluster runs.
type Images struct {
	Party, Toxiproxy string
	// Toolbox is the operator's shell the guide's blocks run in
	// (docker/Dockerfile.toolbox, Cluster.OpenToolbox); the keeper runs
	// on it too.
	Toolbox string
}

// DefaultOptions are the n=13, t=4 cluster of the troubleshooting guide.
func DefaultOptions() Options {
	iv := fixtures.Intervals.Cluster
	return Options{
		Topology: Topology{N: 13, T: 4}, Profile: SimulatedParty,
		StorageSize: "8m", MemoryLimit: 256 << 20, NanoCPUs: int64(runtime.NumCPU()) * 1e9,
		NetworkTimeout: int(iv.Party.NetworkTimeout / time.Second), StragglerGraceMs: int(iv.Party.StragglerGrace / time.Millisecond),
		SetupTimeout: int(iv.Party.SetupTimeout / time.Second),
		ReadyTimeout: iv.Ready,
	}
}

// WithTopology sets n and t.
func WithTopology(n, t int) Option { return func(o *Options) { o.Topology = Topology{N: n, T: t} } }

// WithProfile runs another party software.
func WithProfile(p Profile) Option { return func(o *Options) { o.Profile = p } }

// WithImages uses images built beforehand (BuildImages).
func WithImages(im Images) Option { return func(o *Options) { o.Images = &im } }

// WithProgress reports bring-up steps.
func WithProgress(f func(string)) Option { return func(o *Options) { o.Progress = f } }

// WithStorageSize sets the size of each party's keys volume (tmpfs).
func WithStorageSize(s string) Option { return func(o *Options) { o.StorageSize = s } }

// WithMemoryLimit sets each party's baseline memory limit.
func WithMemoryLimit(b int64) Option { return func(o *Options) { o.MemoryLimit = b } }

// WithDetached marks the cluster as meant to outlive this process, so that
// sweeps of killed runs leave it alone (remove it with Sweep by run).
func WithDetached() Option { return func(o *Options) { o.Detached = true } }

// WithKeptImages keeps the images after Terminate, for the next run.
func WithKeptImages() Option { return func(o *Options) { o.KeepImages = true } }

// WithDirectLinks makes parties reach each other directly on the network,
// bypassing toxiproxy: the baseline that measures what the mesh adds. Link
// faults have no effect on such a cluster.
func WithDirectLinks() Option { return func(o *Options) { o.DirectLinks = true } }

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
