package cluster

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Party is the handle of one party. Every verb goes to its Workload
// (backend.go): a container on Docker, a pod on Kubernetes.
type Party struct {
	ID   int
	Name string // the backend's name for it, what an operator types: the container's, the pod's
	c    *Cluster

	mu sync.Mutex
	w  Workload // replaced by Cluster.Recreate
	// holder owns the party's network namespace while HoldPort holds one
	// of its ports; nil otherwise.
	holder Shell
}

// newParty is the handle of party i, which w runs.
func (c *Cluster) newParty(i int, w Workload) *Party {
	name := w.ID()
	if n, ok := w.(Named); ok {
		name = n.Name()
	}
	return &Party{ID: i, Name: name, c: c, w: w}
}

// Workload is the party as its backend runs it.
func (p *Party) Workload() Workload {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w
}

func (p *Party) setWorkload(w Workload) {
	p.mu.Lock()
	p.w = w
	p.mu.Unlock()
}

func (p *Party) setHolder(h Shell) {
	p.mu.Lock()
	p.holder = h
	p.mu.Unlock()
}

// Exec runs a command in the party's container as the party's user, the
// way an operator's `docker exec` does. The container must be running.
func (p *Party) Exec(ctx context.Context, cmd ...string) (ExecResult, error) {
	p.c.writes.Add(1)
	return p.Workload().Exec(ctx, p.c.Profile.User, cmd...)
}

// ExecAs runs a command as another user ("0:0" for root).
func (p *Party) ExecAs(ctx context.Context, user string, cmd ...string) (ExecResult, error) {
	p.c.writes.Add(1)
	return p.Workload().Exec(ctx, user, cmd...)
}

// NetExec runs a command as the party's user in the party's network
// namespace: in its container, or, while another container owns the
// namespace (HoldPort), in that one — what an operator's debug container
// (kubectl debug, nsenter -n) gives when the party itself crash-loops.
func (p *Party) NetExec(ctx context.Context, cmd ...string) (ExecResult, error) {
	p.mu.Lock()
	h := p.holder
	p.mu.Unlock()
	if h == nil {
		return p.Exec(ctx, cmd...)
	}
	p.c.writes.Add(1)
	return h.Exec(ctx, p.c.Profile.User, cmd...)
}

// HealthCheck runs kms-health-check inside the party's container.
// It only reads: it is no write (see Cluster.writes).
func (p *Party) HealthCheck(ctx context.Context, args ...string) (ExecResult, error) {
	return p.Workload().Exec(ctx, p.c.Profile.User, append(append([]string{}, p.c.Profile.HealthCheck...), args...)...)
}

// ContainerID is the backend's id of the party's container.
func (p *Party) ContainerID() string { return p.Workload().ID() }

// Stop sends SIGTERM and, after timeout, SIGKILL (docker stop).
func (p *Party) Stop(ctx context.Context, timeout time.Duration) error {
	return p.Workload().Stop(ctx, timeout)
}

// Kill sends SIGKILL (docker kill): the backend does not restart a killed
// party, whatever its restart policy.
func (p *Party) Kill(ctx context.Context) error { return p.Workload().Kill(ctx) }

// Start starts a stopped party.
func (p *Party) Start(ctx context.Context) error { return p.Workload().Start(ctx) }

// Restart stops (SIGTERM, SIGKILL after timeout) and starts the party.
func (p *Party) Restart(ctx context.Context, timeout time.Duration) error {
	return p.Workload().Restart(ctx, timeout)
}

// Pause freezes every process of the party: it keeps its connections and
// answers nothing (a gray failure).
func (p *Party) Pause(ctx context.Context) error { return p.Workload().Pause(ctx) }

// Resume unfreezes a paused party.
func (p *Party) Resume(ctx context.Context) error { return p.Workload().Resume(ctx) }

// Update changes the party's resources in place (docker update): memory
// limit, CPU quota. Zero fields are left as they are.
func (p *Party) Update(ctx context.Context, res Resources) error {
	return p.Workload().Update(ctx, res)
}

// CopyIn writes a file into the party's container (also when it is stopped).
func (p *Party) CopyIn(ctx context.Context, content []byte, path string, mode int64) error {
	p.c.writes.Add(1)
	return p.Workload().CopyIn(ctx, content, path, mode)
}

// CopyOut reads a file from the party's container (also when it is stopped).
func (p *Party) CopyOut(ctx context.Context, path string) ([]byte, error) {
	return p.Workload().CopyOut(ctx, path)
}

// Logs returns the party's output, every start of it included (the
// "previous container logs" of a crash loop).
func (p *Party) Logs(ctx context.Context) (string, error) {
	return p.LogsSince(ctx, time.Time{})
}

// LogsSince returns what the party wrote at or after t (every start
// included), so that a detection reads only what its fault caused, not a
// line an earlier scenario left. The zero time means the whole history.
func (p *Party) LogsSince(ctx context.Context, t time.Time) (string, error) {
	return p.Workload().LogsSince(ctx, t)
}

// State inspects the party.
func (p *Party) State(ctx context.Context) (State, error) { return p.Workload().State(ctx) }

// Endpoint is the party's API as the harness reaches it: through its
// client link in the proxy mesh.
func (p *Party) Endpoint() string { return p.c.clientEndpoints[p.ID-1] }

// MetricsURL is the party's /metrics through the mesh.
func (p *Party) MetricsURL() string { return p.HTTPURL("/metrics") }

// HTTPURL is a path of the party's HTTP endpoint (:9646: /metrics, /live,
// /ready, /health) through the mesh, the way a scraper or a kubelet's
// probe reaches it.
func (p *Party) HTTPURL(path string) string { return "http://" + p.c.metricsEndpoints[p.ID-1] + path }

// HasHTTP is whether the party's HTTP endpoint is reachable through the
// mesh: a cluster without one (the fake backend's) has none.
func (p *Party) HasHTTP() bool { return len(p.c.metricsEndpoints) >= p.ID }

// ClientLink is the proxy between clients and the party's API.
func (p *Party) ClientLink() *Link { return p.c.mesh.proxy(clientProxyName(p.ID)) }

// StoragePath maps a path inside the party's container (under one of its
// volumes) to where the keeper sees it.
func (p *Party) StoragePath(inParty string) (string, error) {
	for _, k := range volumeKinds {
		mp := p.c.Profile.mountPoint(k)
		if inParty == mp || strings.HasPrefix(inParty, mp+"/") {
			return KeeperPath(p.ID, k) + strings.TrimPrefix(inParty, mp), nil
		}
	}
	return "", fmt.Errorf("%s is not on a volume of party %d", inParty, p.ID)
}

// DirectEndpoint is the party's API at its address on the cluster network,
// bypassing the mesh (reachable from a Linux host running the engine).
func (p *Party) DirectEndpoint(ctx context.Context) (string, error) {
	ip, err := p.Workload().Address(ctx)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(ip, strconv.Itoa(p.c.Profile.APIPort)), nil
}

// MemoryOf is party i's memory use and limit as `docker stats` shows them
// (MEM USAGE / LIMIT; MEM % is their ratio).
func (c *Cluster) MemoryOf(ctx context.Context, i int) (used, limit uint64, err error) {
	return c.Party(i).Workload().Memory(ctx)
}

// Remove deletes the container (docker rm -f); its volumes stay. Recreate
// it with Cluster.Recreate.
func (p *Party) Remove(ctx context.Context) error {
	return p.Workload().Remove(ctx)
}
