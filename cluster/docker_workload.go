package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/kmschaos/kmschaos/fixtures"
)

// dockerWorkload is a container on the Docker engine: the Docker backend's
// Workload (a party) and Shell (the keeper, a toolbox).
type dockerWorkload struct {
	dc  client.APIClient
	ctr testcontainers.Container
}

func newDockerWorkload(dc client.APIClient, ctr testcontainers.Container) *dockerWorkload {
	return &dockerWorkload{dc: dc, ctr: ctr}
}

func (d *dockerWorkload) ID() string { return d.ctr.GetContainerID() }

// Exec is docker exec --user.
func (d *dockerWorkload) Exec(ctx context.Context, user string, cmd ...string) (ExecResult, error) {
	start := time.Now()
	code, r, err := d.ctr.Exec(ctx, cmd, tcexec.WithUser(user))
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec %v: %w", cmd, err)
	}
	var out, errb bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errb, r); err != nil && err != io.EOF {
		return ExecResult{}, fmt.Errorf("exec %v: reading output: %w", cmd, err)
	}
	return ExecResult{ExitCode: code, Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}, nil
}

// CopyIn is docker cp into the container (also a stopped one).
func (d *dockerWorkload) CopyIn(ctx context.Context, content []byte, path string, mode int64) error {
	return d.ctr.CopyToContainer(ctx, content, path, mode)
}

// CopyOut is docker cp out of the container (also a stopped one).
func (d *dockerWorkload) CopyOut(ctx context.Context, path string) ([]byte, error) {
	r, err := d.ctr.CopyFileFromContainer(ctx, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (d *dockerWorkload) Stop(ctx context.Context, grace time.Duration) error {
	secs := int(grace.Seconds())
	_, err := d.dc.ContainerStop(ctx, d.ID(), client.ContainerStopOptions{Timeout: &secs})
	return err
}

// Kill is docker kill: the engine does not restart a killed container,
// whatever its restart policy.
func (d *dockerWorkload) Kill(ctx context.Context) error {
	_, err := d.dc.ContainerKill(ctx, d.ID(), client.ContainerKillOptions{Signal: "KILL"})
	return err
}

func (d *dockerWorkload) Start(ctx context.Context) error {
	_, err := d.dc.ContainerStart(ctx, d.ID(), client.ContainerStartOptions{})
	return err
}

func (d *dockerWorkload) Restart(ctx context.Context, grace time.Duration) error {
	secs := int(grace.Seconds())
	_, err := d.dc.ContainerRestart(ctx, d.ID(), client.ContainerRestartOptions{Timeout: &secs})
	return err
}

// Pause is docker pause (the cgroup freezer): the party keeps its
// connections and answers nothing.
func (d *dockerWorkload) Pause(ctx context.Context) error {
	_, err := d.dc.ContainerPause(ctx, d.ID(), client.ContainerPauseOptions{})
	return err
}

func (d *dockerWorkload) Resume(ctx context.Context) error {
	_, err := d.dc.ContainerUnpause(ctx, d.ID(), client.ContainerUnpauseOptions{})
	return err
}

// Update is docker update. A container the engine is restarting (after an
// OOM kill, say) has a stopped task that refuses updates for a moment
// ("cannot update a stopped container"): the update is retried for a
// while, as an operator would.
func (d *dockerWorkload) Update(ctx context.Context, res Resources) error {
	r := res.engine()
	deadline := time.Now().Add(fixtures.Intervals.Cluster.UpdateRetry)
	for {
		_, err := d.dc.ContainerUpdate(ctx, d.ID(), client.ContainerUpdateOptions{Resources: &r})
		if err == nil || !strings.Contains(err.Error(), "cannot update a stopped container") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(fixtures.Intervals.Cluster.UpdateRetryPoll):
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
	res, err := d.dc.ContainerLogs(ctx, d.ID(), o)
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
func (d *dockerWorkload) State(ctx context.Context) (State, error) {
	res, err := d.dc.ContainerInspect(ctx, d.ID(), client.ContainerInspectOptions{})
	if err != nil {
		return State{}, err
	}
	in := res.Container
	st := State{RestartCount: in.RestartCount}
	if s := in.State; s != nil {
		st.Status, st.Running, st.Paused, st.Restarting = string(s.Status), s.Running, s.Paused, s.Restarting
		st.OOMKilled, st.ExitCode = s.OOMKilled, s.ExitCode
		st.StartedAt, _ = time.Parse(time.RFC3339Nano, s.StartedAt)
	}
	if hc := in.HostConfig; hc != nil {
		st.Memory, st.NanoCPUs = hc.Memory, hc.NanoCPUs
		if m := container.NetworkMode(hc.NetworkMode); m.IsContainer() {
			st.SharesNetworkOf = m.ConnectedContainer()
		}
	}
	if cfg := in.Config; cfg != nil {
		st.Cmd = cfg.Cmd
	}
	return st, nil
}

func (d *dockerWorkload) Memory(ctx context.Context) (used, limit uint64, err error) {
	return containerMemory(ctx, d.dc, d.ID())
}

func (d *dockerWorkload) Address(ctx context.Context) (string, error) { return d.ctr.ContainerIP(ctx) }

// Remove is docker rm -f; named volumes stay.
func (d *dockerWorkload) Remove(ctx context.Context) error {
	return removeContainer(ctx, d.dc, d.ID(), false)
}
