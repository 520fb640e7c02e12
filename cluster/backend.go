package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
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

// HostsReader is a workload that reads the party's /etc/hosts without
// running anything in it (an exec in every party was most of an audit:
// 1.4 s of 1.7 s at n=13). ok false: it cannot here (the engine's files
// are not on this machine, or not readable); the caller execs instead.
type HostsReader interface {
	ReadHosts(ctx context.Context) (hosts string, ok bool, err error)
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

// ExecResult is the outcome of a command run in a container.
type ExecResult struct {
	ExitCode       int
	Stdout, Stderr string
	Took           time.Duration
}

// Output is stdout and stderr together.
func (r ExecResult) Output() string { return r.Stdout + r.Stderr }

// Check is err, or, where the command ran and exited non-zero, an error
// saying what failed, with the command's output.
func (r ExecResult) Check(err error, what string) error {
	if err != nil || r.ExitCode == 0 {
		return err
	}
	return fmt.Errorf("%s: %s", what, strings.TrimSpace(r.Output()))
}

// State is what the backend says of the party.
type State struct {
	Status       string // created, running, paused, restarting, exited
	Running      bool
	Paused       bool
	Restarting   bool
	OOMKilled    bool
	ExitCode     int  // what the party's process last exited with, if ExitKnown
	ExitKnown    bool // Docker always knows it; Kubernetes only if the kubelet reported it
	RestartCount int
	StartedAt    time.Time
	Memory       int64 // memory limit in bytes, 0: none
	NanoCPUs     int64
	Cmd          []string // the arguments the party was started with
	Image        string   // the image it runs, "" if the backend does not say
	// SharesNetworkOf is the container whose network namespace the party
	// runs in (HoldPort), "" when it has its own on the cluster network.
	SharesNetworkOf string
}

// ExitStatus is ExitCode as text, "unknown" when it is not known.
func (s State) ExitStatus() string {
	if !s.ExitKnown {
		return "unknown"
	}
	return strconv.Itoa(s.ExitCode)
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
