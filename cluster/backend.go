package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/kms/tss"
)

// The seam between the harness and where a cluster runs. Faults, probes,
// checks, runbooks and the workload act on a party only through Party,
// whose every verb goes to its Workload, and on storage only through the
// cluster's Shell into the keeper. A backend (cluster/docker: a
// container; cluster/kube: a pod's container, the keeper a pod mounting
// every claim) implements these two interfaces and a Driver, and nothing
// in harness/ changes. The mesh (Link, toxiproxy) is the same on every
// backend: only where toxiproxy runs differs.

// Shell is a place to run commands and copy files: the keeper (every
// party's storage), a party's container.
type Shell interface {
	// ID is the backend's name for it (a container id).
	ID() string
	// Exec runs cmd as user ("uid:gid"; "0:0" is root) and waits for it.
	// err is for what kept the command from running; its own failure is
	// in ExitCode.
	Exec(ctx context.Context, user string, cmd ...string) (ExecResult, error)
	// CopyIn writes a file, CopyOut reads one, whether or not the shell's
	// process runs. A file that is not there is an error wrapping
	// fs.ErrNotExist; a shell that is gone is another error, so a reader
	// never takes a lost keeper for an empty one.
	CopyIn(ctx context.Context, content []byte, path string, mode int64) error
	CopyOut(ctx context.Context, path string) ([]byte, error)
}

// Named is a workload an operator names otherwise than by its ID (a
// container has a name and an id): a party's Name is that name, else its
// ID (a pod's name).
type Named interface {
	Name() string
}

// Workload is one party's process as a backend runs it, with the verbs
// the guide's procedures and the faults use.
type Workload interface {
	Shell
	Start(ctx context.Context) error
	// Stop sends SIGTERM and, after grace, SIGKILL.
	Stop(ctx context.Context, grace time.Duration) error
	Restart(ctx context.Context, grace time.Duration) error
	// Kill sends SIGKILL; the backend does not restart the party.
	Kill(ctx context.Context) error
	// Pause freezes every process of the party, Resume thaws them.
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	// Update changes the party's limits in place; zero fields are kept.
	Update(ctx context.Context, r Resources) error
	// LogsSince is what the party wrote at or after t, across restarts;
	// the zero time is the whole history.
	LogsSince(ctx context.Context, t time.Time) (string, error)
	State(ctx context.Context) (State, error)
	// Memory is what the party uses and its limit, as `docker stats` or
	// `kubectl top` count it.
	Memory(ctx context.Context) (used, limit uint64, err error)
	// Address is the party's IP on the cluster's network.
	Address(ctx context.Context) (string, error)
	// Remove deletes the party's process; its storage stays.
	Remove(ctx context.Context) error
}

// Unsupported is the error of a verb a backend cannot offer (a pod cannot
// be paused, say). The scenario runner reports a scenario whose fault or
// runbook needs it as skipped, with the reason, never as passed.
type Unsupported struct {
	Backend, Verb, Why string
}

func (u *Unsupported) Error() string {
	return fmt.Sprintf("%s is not supported on the %s backend: %s", u.Verb, u.Backend, u.Why)
}

// IsUnsupported tells whether err is, or wraps, an Unsupported.
func IsUnsupported(err error) bool {
	var u *Unsupported
	return errors.As(err, &u)
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
