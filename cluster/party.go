package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/kmschaos/kmschaos/fixtures"
)

// Party is the handle of one party's container.
type Party struct {
	ID   int
	Name string // container name
	c    *Cluster

	mu  sync.Mutex
	ctr testcontainers.Container // replaced by Cluster.Recreate
	// holder owns the party's network namespace while HoldPort holds one
	// of its ports; nil otherwise.
	holder testcontainers.Container
}

func (p *Party) container() testcontainers.Container {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ctr
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

func execIn(ctx context.Context, ctr testcontainers.Container, user string, cmd []string) (ExecResult, error) {
	start := time.Now()
	code, r, err := ctr.Exec(ctx, cmd, tcexec.WithUser(user))
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec %v: %w", cmd, err)
	}
	var out, errb bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errb, r); err != nil && err != io.EOF {
		return ExecResult{}, fmt.Errorf("exec %v: reading output: %w", cmd, err)
	}
	return ExecResult{ExitCode: code, Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}, nil
}

// Exec runs a command in the party's container as the party's user, the
// way an operator's `docker exec` does. The container must be running.
func (p *Party) Exec(ctx context.Context, cmd ...string) (ExecResult, error) {
	return execIn(ctx, p.container(), p.c.Profile.User, cmd)
}

// ExecAs runs a command as another user ("0:0" for root).
func (p *Party) ExecAs(ctx context.Context, user string, cmd ...string) (ExecResult, error) {
	return execIn(ctx, p.container(), user, cmd)
}

// NetExec runs a command as the party's user in the party's network
// namespace: in its container, or, while another container owns the
// namespace (HoldPort), in that one — what an operator's debug container
// (kubectl debug, nsenter -n) gives when the party itself crash-loops.
func (p *Party) NetExec(ctx context.Context, cmd ...string) (ExecResult, error) {
	p.mu.Lock()
	ctr := p.holder
	p.mu.Unlock()
	if ctr == nil {
		return p.Exec(ctx, cmd...)
	}
	return execIn(ctx, ctr, p.c.Profile.User, cmd)
}

// HealthCheck runs kms-health-check inside the party's container.
func (p *Party) HealthCheck(ctx context.Context, args ...string) (ExecResult, error) {
	return p.Exec(ctx, append(append([]string{}, p.c.Profile.HealthCheck...), args...)...)
}

// ContainerID is the engine's id of the container.
func (p *Party) ContainerID() string { return p.container().GetContainerID() }

// Stop sends SIGTERM and, after timeout, SIGKILL (docker stop).
func (p *Party) Stop(ctx context.Context, timeout time.Duration) error {
	secs := int(timeout.Seconds())
	_, err := p.c.dc.ContainerStop(ctx, p.ContainerID(), client.ContainerStopOptions{Timeout: &secs})
	return err
}

// Kill sends SIGKILL (docker kill): the engine does not restart a killed
// container, whatever its restart policy.
func (p *Party) Kill(ctx context.Context) error {
	_, err := p.c.dc.ContainerKill(ctx, p.ContainerID(), client.ContainerKillOptions{Signal: "KILL"})
	return err
}

// Start starts a stopped container.
func (p *Party) Start(ctx context.Context) error {
	_, err := p.c.dc.ContainerStart(ctx, p.ContainerID(), client.ContainerStartOptions{})
	return err
}

// Restart stops (SIGTERM, SIGKILL after timeout) and starts the container.
func (p *Party) Restart(ctx context.Context, timeout time.Duration) error {
	secs := int(timeout.Seconds())
	_, err := p.c.dc.ContainerRestart(ctx, p.ContainerID(), client.ContainerRestartOptions{Timeout: &secs})
	return err
}

// Pause freezes every process of the party: it keeps its connections and
// answers nothing (a gray failure).
func (p *Party) Pause(ctx context.Context) error {
	_, err := p.c.dc.ContainerPause(ctx, p.ContainerID(), client.ContainerPauseOptions{})
	return err
}

// Resume unfreezes a paused party.
func (p *Party) Resume(ctx context.Context) error {
	_, err := p.c.dc.ContainerUnpause(ctx, p.ContainerID(), client.ContainerUnpauseOptions{})
	return err
}

// Update changes the container's resources (docker update): memory limit,
// CPU quota. Zero fields are left as they are.
//
// A container the engine is restarting (after an OOM kill, say) has a
// stopped task that refuses updates for a moment ("cannot update a stopped
// container"): the update is retried for up to 30 s, as an operator would.
func (p *Party) Update(ctx context.Context, res Resources) error {
	r := res.engine()
	deadline := time.Now().Add(fixtures.Intervals.Cluster.UpdateRetry)
	for {
		_, err := p.c.dc.ContainerUpdate(ctx, p.ContainerID(), client.ContainerUpdateOptions{Resources: &r})
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

// CopyIn writes a file into the container (also when it is stopped).
func (p *Party) CopyIn(ctx context.Context, content []byte, path string, mode int64) error {
	return p.container().CopyToContainer(ctx, content, path, mode)
}

// CopyOut reads a file from the container (also when it is stopped).
func (p *Party) CopyOut(ctx context.Context, path string) ([]byte, error) {
	r, err := p.container().CopyFileFromContainer(ctx, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// Logs returns the container's output, every start of it included (the
// "previous container logs" of a crash loop).
func (p *Party) Logs(ctx context.Context) (string, error) {
	return p.LogsSince(ctx, time.Time{})
}

// LogsSince returns what the container wrote at or after t (every start
// of the container included), so that a detection reads only what its
// fault caused, not a line an earlier scenario left. The zero time means
// the whole history.
func (p *Party) LogsSince(ctx context.Context, t time.Time) (string, error) {
	o := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}
	if !t.IsZero() {
		o.Since = fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) // the engine's form: seconds.nanoseconds
	}
	res, err := p.c.dc.ContainerLogs(ctx, p.ContainerID(), o)
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

// State is what the engine says of the container.
type State struct {
	Status       string // created, running, paused, restarting, exited
	Running      bool
	Paused       bool
	Restarting   bool
	OOMKilled    bool
	ExitCode     int
	RestartCount int
	StartedAt    time.Time
	Memory       int64 // memory limit in bytes, 0: none
	NanoCPUs     int64
	Cmd          []string // the arguments the party was started with
	// SharesNetworkOf is the container whose network namespace the party
	// runs in (HoldPort), "" when it has its own on the cluster network.
	SharesNetworkOf string
}

// State inspects the container.
func (p *Party) State(ctx context.Context) (State, error) {
	res, err := p.c.dc.ContainerInspect(ctx, p.ContainerID(), client.ContainerInspectOptions{})
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

// Endpoint is the party's API as the harness reaches it: through its
// client link in the proxy mesh.
func (p *Party) Endpoint() string { return p.c.clientEndpoints[p.ID-1] }

// MetricsURL is the party's /metrics through the mesh.
func (p *Party) MetricsURL() string { return p.HTTPURL("/metrics") }

// HTTPURL is a path of the party's HTTP endpoint (:9646: /metrics, /live,
// /ready, /health) through the mesh, the way a scraper or a kubelet's
// probe reaches it.
func (p *Party) HTTPURL(path string) string { return "http://" + p.c.metricsEndpoints[p.ID-1] + path }

// ClientLink is the proxy between clients and the party's API.
func (p *Party) ClientLink() *Link { return p.c.mesh.proxy(clientProxyName(p.ID)) }

// StoragePath maps a path inside the party's container (under one of its
// volumes) to where the keeper sees it.
func (p *Party) StoragePath(inParty string) (string, error) {
	for _, k := range volumeKinds {
		mp := p.c.mountPoint(k)
		if inParty == mp || strings.HasPrefix(inParty, mp+"/") {
			return KeeperPath(p.ID, k) + strings.TrimPrefix(inParty, mp), nil
		}
	}
	return "", fmt.Errorf("%s is not on a volume of party %d", inParty, p.ID)
}

// DirectEndpoint is the party's API at its address on the cluster network,
// bypassing the mesh (reachable from a Linux host running the engine).
func (p *Party) DirectEndpoint(ctx context.Context) (string, error) {
	ip, err := p.container().ContainerIP(ctx)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(ip, strconv.Itoa(p.c.Profile.APIPort)), nil
}

// Remove deletes the container (docker rm -f); its volumes stay. Recreate
// it with Cluster.Recreate.
func (p *Party) Remove(ctx context.Context) error {
	return removeContainer(ctx, p.c.dc, p.ContainerID(), false)
}
