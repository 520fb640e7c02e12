// Package fakebackend is a backend in memory: parties that only change
// state when told to, a keeper that is a map of files. It lets the
// harness's faults, probes and runbook steps be tested through the seam
// (cluster.Workload, cluster.Shell) without a container engine, and shows
// what a second backend has to implement.
package fakebackend

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// Party is one party's workload: running until stopped, killed or paused.
type Party struct {
	Name string
	// Unsupported lists verbs this backend refuses with cluster.Unsupported
	// (e.g. "pause"), as a real backend without them would.
	Unsupported []string
	// OnExec answers Exec; nil answers exit 0, no output.
	OnExec func(user string, cmd []string) cluster.ExecResult
	// ExitUnseen: Stop and Kill leave the exit status unknown, as on
	// Kubernetes when the kubelet did not report the container's end.
	ExitUnseen bool

	mu    sync.Mutex
	st    cluster.State
	calls []string
	logs  []logLine
}

type logLine struct {
	at   time.Time
	text string
}

// NewParty is a running party.
func NewParty(name string) *Party {
	return &Party{Name: name, st: cluster.State{Status: "running", Running: true, ExitKnown: true, StartedAt: time.Now()}}
}

// Calls are the verbs the party was given, in order ("kill", "start",
// "update memory=… cpus=…", "exec …").
func (p *Party) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// Log appends a line to what the party wrote.
func (p *Party) Log(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logs = append(p.logs, logLine{time.Now(), text})
}

// verb records a call and refuses it if the backend does not offer it.
func (p *Party) verb(name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, name)
	if slices.Contains(p.Unsupported, strings.Fields(name)[0]) {
		return &cluster.Unsupported{Backend: "fake", Verb: strings.Fields(name)[0], Why: "this fake says so"}
	}
	return nil
}

func (p *Party) set(f func(*cluster.State)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.st)
}

func (p *Party) ID() string { return p.Name }

func (p *Party) Exec(_ context.Context, user string, cmd ...string) (cluster.ExecResult, error) {
	if err := p.verb("exec " + strings.Join(cmd, " ")); err != nil {
		return cluster.ExecResult{}, err
	}
	if st, _ := p.State(context.Background()); !st.Running || st.Paused {
		return cluster.ExecResult{}, fmt.Errorf("party %s is not running (%s)", p.Name, st.Status)
	}
	if p.OnExec == nil {
		return cluster.ExecResult{}, nil
	}
	return p.OnExec(user, cmd), nil
}

func (p *Party) CopyIn(context.Context, []byte, string, int64) error { return p.verb("copy-in") }
func (p *Party) CopyOut(context.Context, string) ([]byte, error)     { return nil, p.verb("copy-out") }

func (p *Party) Start(context.Context) error {
	if err := p.verb("start"); err != nil {
		return err
	}
	p.set(func(s *cluster.State) {
		s.Status, s.Running, s.Paused, s.StartedAt = "running", true, false, time.Now()
	})
	return nil
}

func (p *Party) Stop(_ context.Context, grace time.Duration) error {
	if err := p.verb("stop"); err != nil {
		return err
	}
	p.set(func(s *cluster.State) {
		s.Status, s.Running, s.ExitCode, s.ExitKnown = "exited", false, 0, !p.ExitUnseen
	})
	return nil
}

func (p *Party) Restart(ctx context.Context, grace time.Duration) error {
	if err := p.verb("restart"); err != nil {
		return err
	}
	p.set(func(s *cluster.State) {
		s.Status, s.Running, s.Paused, s.StartedAt = "running", true, false, time.Now()
	})
	return nil
}

func (p *Party) Kill(context.Context) error {
	if err := p.verb("kill"); err != nil {
		return err
	}
	p.set(func(s *cluster.State) {
		s.Status, s.Running, s.ExitCode, s.ExitKnown = "exited", false, 137, !p.ExitUnseen
	})
	return nil
}

func (p *Party) Pause(context.Context) error {
	if err := p.verb("pause"); err != nil {
		return err
	}
	p.set(func(s *cluster.State) { s.Status, s.Paused = "paused", true })
	return nil
}

func (p *Party) Resume(context.Context) error {
	if err := p.verb("resume"); err != nil {
		return err
	}
	p.set(func(s *cluster.State) { s.Status, s.Paused = "running", false })
	return nil
}

func (p *Party) Update(_ context.Context, r cluster.Resources) error {
	if err := p.verb(fmt.Sprintf("update memory=%d cpus=%d", r.Memory, r.NanoCPUs)); err != nil {
		return err
	}
	p.set(func(s *cluster.State) {
		now := r.Over(cluster.Resources{Memory: s.Memory, NanoCPUs: s.NanoCPUs})
		s.Memory, s.NanoCPUs = now.Memory, now.NanoCPUs
	})
	return nil
}

func (p *Party) LogsSince(_ context.Context, t time.Time) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.logs {
		if !l.at.Before(t) {
			b.WriteString(l.text + "\n")
		}
	}
	return b.String(), nil
}

func (p *Party) State(context.Context) (cluster.State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st, nil
}

// Memory is a fixed 32 MiB in use, under the party's limit.
func (p *Party) Memory(context.Context) (used, limit uint64, err error) {
	st, _ := p.State(context.Background())
	return 32 << 20, uint64(st.Memory), nil
}

func (p *Party) Address(context.Context) (string, error) { return "192.0.2.1", nil }

func (p *Party) Remove(context.Context) error {
	if err := p.verb("remove"); err != nil {
		return err
	}
	p.set(func(s *cluster.State) { *s = cluster.State{Status: "removed"} })
	return nil
}

// Keeper is every party's storage as a map of files.
type Keeper struct {
	// Gone makes every call fail, as a removed keeper's would.
	Gone bool

	// OnExec answers Exec; nil answers exit 0, no output.
	OnExec func(user string, cmd []string) cluster.ExecResult

	mu    sync.Mutex
	files map[string][]byte
}

// NewKeeper is an empty keeper.
func NewKeeper() *Keeper { return &Keeper{files: map[string][]byte{}} }

func (k *Keeper) ID() string { return "keeper" }

var errGone = errors.New("no such keeper")

func (k *Keeper) Exec(_ context.Context, user string, cmd ...string) (cluster.ExecResult, error) {
	if k.Gone {
		return cluster.ExecResult{}, errGone
	}
	if k.OnExec == nil {
		return cluster.ExecResult{}, nil
	}
	return k.OnExec(user, cmd), nil
}

func (k *Keeper) CopyIn(_ context.Context, content []byte, path string, _ int64) error {
	if k.Gone {
		return errGone
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.files[path] = slices.Clone(content)
	return nil
}

func (k *Keeper) CopyOut(_ context.Context, path string) ([]byte, error) {
	if k.Gone {
		return nil, errGone
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.files[path]
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	return slices.Clone(b), nil
}

// Files answers, from the keeper's own files, what the cluster's records
// run in it — kms-admin ls DIR and kms-admin rm -f PATH — as kms-admin
// would. Set it as OnExec where a test needs records listed or removed.
func (k *Keeper) Files(_ string, cmd []string) cluster.ExecResult {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case len(cmd) == 3 && cmd[1] == "ls":
		var b strings.Builder
		fmt.Fprintf(&b, "drwx------ 0:0 0 %s\n", cmd[2])
		var names []string
		for p := range k.files {
			if path.Dir(p) == cmd[2] {
				names = append(names, p)
			}
		}
		slices.Sort(names)
		for _, p := range names {
			fmt.Fprintf(&b, "-rw------- 0:0 %d %s\n", len(k.files[p]), p)
		}
		return cluster.ExecResult{Stdout: b.String()}
	case len(cmd) == 4 && cmd[1] == "rm" && cmd[2] == "-f":
		delete(k.files, cmd[3])
		return cluster.ExecResult{}
	}
	return cluster.ExecResult{ExitCode: 1, Stderr: fmt.Sprintf("the fake keeper does not answer %q", cmd)}
}

// Cluster assembles n parties (t = (n-1)/3) and a keeper into a cluster
// handle, with the simulated party's profile, every party started with
// baseline resources (zero: the defaults).
func Cluster(n int, baseline cluster.Resources) (*cluster.Cluster, []*Party, *Keeper, error) {
	return ClusterOn(nil, n, baseline)
}

// Attach is another handle on the cluster c assembled of these parties
// and keeper, as another process attaches to a running cluster: the same
// parties and keeper, a witness of its own.
func Attach(c *cluster.Cluster, parties []*Party, k *Keeper) (*cluster.Cluster, error) {
	ws := make([]cluster.Workload, len(parties))
	for i, p := range parties {
		ws[i] = p
	}
	return cluster.Assemble(cluster.Parts{Topology: c.Topology, Profile: c.Profile, RunID: c.RunID, Parties: ws, Keeper: k, Key: c.Key, Driver: &Driver{}})
}

// Driver is a backend's cluster-wide side that only says what it can
// do: its volumes' sizes. Its other verbs fail, and it offers none of the
// optional ones (a Scheduler, a Toolboxes, ...).
type Driver struct {
	// Unsized: the volumes share one filesystem (hostPath volumes).
	Unsized bool
}

var errFake = errors.New("not on the fake backend")

func (d *Driver) Name() string { return "fake" }
func (d *Driver) Provision(context.Context, cluster.Spec) (cluster.Shell, error) {
	return nil, errFake
}
func (d *Driver) StartMesh(context.Context, cluster.Spec) (cluster.MeshAccess, error) {
	return cluster.MeshAccess{}, errFake
}
func (d *Driver) StartParty(context.Context, cluster.Spec, int, []string, bool) (cluster.Workload, error) {
	return nil, errFake
}
func (d *Driver) Reconnect(context.Context, cluster.Spec) (cluster.MeshAccess, []cluster.Workload, error) {
	return cluster.MeshAccess{}, nil, errFake
}
func (d *Driver) Terminate(context.Context) error { return nil }
func (d *Driver) OperatorCommand(name, verb, args string) string {
	return verb + " " + name + " " + args
}
func (d *Driver) VolumesSized() bool { return !d.Unsized }

// ClusterOn is Cluster with d answering the cluster-wide verbs (nil: a
// Driver of volumes of their own).
func ClusterOn(d *Driver, n int, baseline cluster.Resources) (*cluster.Cluster, []*Party, *Keeper, error) {
	parties := make([]*Party, n)
	ws := make([]cluster.Workload, n)
	for i := range parties {
		parties[i] = NewParty(fmt.Sprintf("fake-p%d", i+1))
		parties[i].st.Memory, parties[i].st.NanoCPUs = baseline.Memory, baseline.NanoCPUs
		ws[i] = parties[i]
	}
	k := NewKeeper()
	key, _, err := tss.Deal(rand.Reader, n, (n-1)/3)
	if err != nil {
		return nil, nil, nil, err
	}
	if d == nil {
		d = &Driver{}
	}
	c, err := cluster.Assemble(cluster.Parts{
		Topology: cluster.Topology{N: n, T: (n - 1) / 3}, Profile: cluster.SimulatedParty,
		RunID: "fake", Parties: ws, Keeper: k, Baseline: baseline, Key: key, Driver: d,
	})
	return c, parties, k, err
}
