package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// dockerWorkload is a container on the Docker engine: the Docker backend's
// Workload (a party) and Shell (the keeper, a toolbox).
//
// It is addressed by name, which a recreate keeps: another process (a
// heal by hand, a player's runbook during a game day) may replace the
// container, and a long-lived handle must act on the new one, not fail
// on the old one's id.
type dockerWorkload struct {
	dc   client.APIClient
	name string

	mu  sync.Mutex
	ctr testcontainers.Container // exec and copy go through it; found again by name when gone
}

func newDockerWorkload(dc client.APIClient, name string, ctr testcontainers.Container) *dockerWorkload {
	return &dockerWorkload{dc: dc, name: strings.TrimPrefix(name, "/"), ctr: ctr}
}

func (d *dockerWorkload) container() testcontainers.Container {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctr
}

// ID is the id of the container as last seen (State sees it afresh).
func (d *dockerWorkload) ID() string { return d.container().GetContainerID() }

// Name is the container's name, what `docker` commands take.
func (d *dockerWorkload) Name() string { return d.name }

// withContainer runs f on the container and, if the engine no longer
// knows it, finds the container of that name and runs f once more.
func (d *dockerWorkload) withContainer(ctx context.Context, f func(testcontainers.Container) error) error {
	err := f(d.container())
	if err == nil || !isGone(err) {
		return err
	}
	if ferr := d.refind(ctx); ferr != nil {
		return errors.Join(err, ferr)
	}
	return f(d.container())
}

// refind looks the container up by name.
func (d *dockerWorkload) refind(ctx context.Context) error {
	res, err := d.dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("name", "^/"+d.name+"$")})
	if err != nil {
		return err
	}
	if len(res.Items) != 1 {
		return fmt.Errorf("container %s: %d found by name", d.name, len(res.Items))
	}
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	ctr, err := provider.ContainerFromType(ctx, res.Items[0])
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.ctr = ctr
	d.mu.Unlock()
	return nil
}

// isGone tells whether the engine no longer knows the container. The
// engine's not-found covers a missing path in it too: that is not this.
func isGone(err error) bool {
	return strings.Contains(err.Error(), "No such container")
}

// Exec is docker exec --user.
func (d *dockerWorkload) Exec(ctx context.Context, user string, cmd ...string) (cluster.ExecResult, error) {
	start := time.Now()
	var code int
	var r io.Reader
	err := d.withContainer(ctx, func(ctr testcontainers.Container) (err error) {
		code, r, err = ctr.Exec(ctx, cmd, tcexec.WithUser(user))
		return err
	})
	if err != nil {
		return cluster.ExecResult{}, fmt.Errorf("exec %v: %w", cmd, err)
	}
	var out, errb bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errb, r); err != nil && !errors.Is(err, io.EOF) {
		return cluster.ExecResult{}, fmt.Errorf("exec %v: reading output: %w", cmd, err)
	}
	return cluster.ExecResult{ExitCode: code, Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}, nil
}

// CopyIn is docker cp into the container (also a stopped one).
func (d *dockerWorkload) CopyIn(ctx context.Context, content []byte, path string, mode int64) error {
	return d.withContainer(ctx, func(ctr testcontainers.Container) error {
		return ctr.CopyToContainer(ctx, content, path, mode)
	})
}

// CopyOut is docker cp out of the container (also a stopped one). A
// missing path is fs.ErrNotExist, as Shell says.
func (d *dockerWorkload) CopyOut(ctx context.Context, path string) ([]byte, error) {
	var b []byte
	err := d.withContainer(ctx, func(ctr testcontainers.Container) error {
		r, err := ctr.CopyFileFromContainer(ctx, path)
		if err != nil {
			return err
		}
		defer r.Close()
		b, err = io.ReadAll(r)
		return err
	})
	if err != nil && isNotFound(err) && !isGone(err) {
		return nil, fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return b, err
}

func (d *dockerWorkload) Stop(ctx context.Context, grace time.Duration) error {
	secs := int(grace.Seconds())
	_, err := d.dc.ContainerStop(ctx, d.name, client.ContainerStopOptions{Timeout: &secs})
	return err
}

// Kill is docker kill: the engine does not restart a killed container,
// whatever its restart policy.
func (d *dockerWorkload) Kill(ctx context.Context) error {
	_, err := d.dc.ContainerKill(ctx, d.name, client.ContainerKillOptions{Signal: "KILL"})
	return err
}

func (d *dockerWorkload) Start(ctx context.Context) error {
	_, err := d.dc.ContainerStart(ctx, d.name, client.ContainerStartOptions{})
	return err
}

func (d *dockerWorkload) Restart(ctx context.Context, grace time.Duration) error {
	secs := int(grace.Seconds())
	_, err := d.dc.ContainerRestart(ctx, d.name, client.ContainerRestartOptions{Timeout: &secs})
	return err
}

// Pause is docker pause (the cgroup freezer): the party keeps its
// connections and answers nothing. On cgroup v1 runc gives up freezing
// when a task does not stop in time, which a busy machine sees ("unable to
// freeze"; runc thaws the group again): runc's maintainers leave the retry
// to the caller (opencontainers/runc#4388), so Pause retries for a while,
// as an operator would.
func (d *dockerWorkload) Pause(ctx context.Context) error {
	iv := fixtures.Intervals.Cluster
	return retryOn(ctx, "unable to freeze", iv.PauseRetry, iv.PauseRetryPoll, func() error {
		_, err := d.dc.ContainerPause(ctx, d.name, client.ContainerPauseOptions{})
		return err
	})
}

func (d *dockerWorkload) Resume(ctx context.Context) error {
	_, err := d.dc.ContainerUnpause(ctx, d.name, client.ContainerUnpauseOptions{})
	return err
}

// Update is docker update. A container the engine is restarting (after an
// OOM kill, say) has a stopped task that refuses updates for a moment
// ("cannot update a stopped container"): the update is retried for a
// while, as an operator would.
func (d *dockerWorkload) Update(ctx context.Context, res cluster.Resources) error {
	r := engineResources(res)
	iv := fixtures.Intervals.Cluster
	return retryOn(ctx, "cannot update a stopped container", iv.UpdateRetry, iv.UpdateRetryPoll, func() error {
		_, err := d.dc.ContainerUpdate(ctx, d.name, client.ContainerUpdateOptions{Resources: &r})
		return err
	})
}

// engineResources are r as the engine takes them: the memory limit with
// swap included, so the limit is the limit.
func engineResources(r cluster.Resources) container.Resources {
	out := container.Resources{Memory: r.Memory, MemorySwap: r.Memory, NanoCPUs: r.NanoCPUs}
	if out.Memory == 0 {
		out.MemorySwap = 0
	}
	return out
}

// retryOn calls f until it succeeds, fails otherwise than with an error
// saying transient, or for longer than within.
func retryOn(ctx context.Context, transient string, within, poll time.Duration, f func() error) error {
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil || !strings.Contains(err.Error(), transient) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// LogsSince is docker logs --since: every start of the container included
// (the "previous container logs" of a crash loop).
func (d *dockerWorkload) LogsSince(ctx context.Context, t time.Time) (string, error) {
	o := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}
	if !t.IsZero() {
		o.Since = fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) // the engine's form: seconds.nanoseconds
	}
	res, err := d.dc.ContainerLogs(ctx, d.name, o)
	if err != nil {
		return "", err
	}
	defer res.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, res); err != nil {
		return "", err
	}
	return out.String(), nil
}

// State is docker inspect.
func (d *dockerWorkload) State(ctx context.Context) (cluster.State, error) {
	res, err := d.dc.ContainerInspect(ctx, d.name, client.ContainerInspectOptions{})
	if err != nil {
		return cluster.State{}, err
	}
	in := res.Container
	if in.ID != d.ID() {
		// Recreated by another process: exec and copy follow.
		if err := d.refind(ctx); err != nil {
			return cluster.State{}, err
		}
	}
	st := cluster.State{RestartCount: in.RestartCount}
	if s := in.State; s != nil {
		st.Status, st.Running, st.Paused, st.Restarting = string(s.Status), s.Running, s.Paused, s.Restarting
		st.OOMKilled, st.ExitCode, st.ExitKnown = s.OOMKilled, s.ExitCode, true
		st.StartedAt, _ = time.Parse(time.RFC3339Nano, s.StartedAt)
	}
	if hc := in.HostConfig; hc != nil {
		st.Memory, st.NanoCPUs = hc.Memory, hc.NanoCPUs
		if m := hc.NetworkMode; m.IsContainer() {
			st.SharesNetworkOf = m.ConnectedContainer()
		}
	}
	if cfg := in.Config; cfg != nil {
		st.Cmd, st.Image = cfg.Cmd, cfg.Image
	}
	return st, nil
}

// ReadHosts reads the file the engine bind-mounts as the party's
// /etc/hosts (inspect's HostsPath) from this machine: what an exec's cat
// would print, without starting a process in the party. An engine whose
// files are elsewhere (a remote or rootless one, a VM) or not readable
// here says ok false, and the caller execs.
func (d *dockerWorkload) ReadHosts(ctx context.Context) (string, bool, error) {
	res, err := d.dc.ContainerInspect(ctx, d.name, client.ContainerInspectOptions{})
	if err != nil {
		return "", false, err
	}
	if res.Container.HostsPath == "" {
		return "", false, nil
	}
	if b, err := os.ReadFile(res.Container.HostsPath); err == nil {
		return string(b), true, nil
	}
	// Not this machine's engine, or not ours to read: not a fault.
	return "", false, nil
}

func (d *dockerWorkload) Memory(ctx context.Context) (used, limit uint64, err error) {
	return containerMemory(ctx, d.dc, d.name)
}

func (d *dockerWorkload) Address(ctx context.Context) (string, error) {
	var ip string
	err := d.withContainer(ctx, func(ctr testcontainers.Container) (err error) {
		ip, err = ctr.ContainerIP(ctx)
		return err
	})
	return ip, err
}

// Remove is docker rm -f; named volumes stay.
func (d *dockerWorkload) Remove(ctx context.Context) error {
	return removeContainer(ctx, d.dc, d.name, false)
}
