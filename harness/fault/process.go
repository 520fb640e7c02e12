package fault

import (
	"context"
	"fmt"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/oracle"
)

// ensureRunning starts a party that is not running (a killed or stopped
// one; a crash-looping one the engine restarts on its own).
func ensureRunning(ctx context.Context, p *cluster.Party) error {
	st, err := p.State(ctx)
	if err != nil {
		return err
	}
	if st.Paused {
		if err := p.Resume(ctx); err != nil {
			return err
		}
	}
	if !st.Running && !st.Restarting {
		return p.Start(ctx)
	}
	return nil
}

// each acts on the parties at once, as several parties fail together: one
// after the other, nine kills took 6.9 s at n=13 (the engine's calls in a
// row), and the last party went down seconds after the first. The heal
// undoes every party, at once too, whether its act succeeded or not; it is
// safe to call again (every undo is).
func each(c *cluster.Cluster, parties []int, act func(*cluster.Party) error, undo func(*cluster.Party) error) (Heal, error) {
	heal := func(context.Context) error {
		return cluster.Parallel(parties, func(i int) error { return undo(c.Party(i)) })
	}
	return heal, cluster.Parallel(parties, func(i int) error { return act(c.Party(i)) })
}

// Kill sends SIGKILL to the parties (docker kill). The engine does not
// restart them; the heal starts them.
func Kill(parties ...int) Fault {
	return New(fmt.Sprintf("SIGKILL parties %v", parties), Process, parties, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		return each(c, parties, func(p *cluster.Party) error { return p.Kill(ctx) },
			func(p *cluster.Party) error { return ensureRunning(context.WithoutCancel(ctx), p) })
	})
}

// Stop stops the parties gracefully (SIGTERM, docker stop).
func Stop(parties ...int) Fault {
	return New(fmt.Sprintf("graceful stop (SIGTERM) of parties %v", parties), Process, parties, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		return each(c, parties, func(p *cluster.Party) error { return p.Stop(ctx, fixtures.Intervals.Fault.StopGrace) },
			func(p *cluster.Party) error { return ensureRunning(context.WithoutCancel(ctx), p) })
	})
}

// Pause freezes the parties: their sockets accept connections, nothing
// answers (a gray failure).
func Pause(parties ...int) Fault {
	return New(fmt.Sprintf("pause (freeze) parties %v", parties), Process, parties, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		return each(c, parties, func(p *cluster.Party) error { return p.Pause(ctx) },
			func(p *cluster.Party) error {
				st, err := p.State(context.WithoutCancel(ctx))
				if err != nil || !st.Paused {
					return err
				}
				return p.Resume(context.WithoutCancel(ctx))
			})
	})
}

// Evict cordons the node party i runs on and evicts the party's pod, as
// a drain of one pod does (Kubernetes): the pod that replaces it finds
// no node to take it and stays Pending. The heal uncordons every node
// the run cordoned; the pod is then scheduled by itself.
func Evict(i int) Fault {
	return New(fmt.Sprintf("party %d evicted from its node, the node cordoned", i), Process, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		heal := func(ctx context.Context) error {
			_, err := c.Uncordon(context.WithoutCancel(ctx))
			return err
		}
		_, err := c.Evict(ctx, i)
		return heal, err
	})
}

// MemoryLimit restarts party i under a memory limit too small for it: the
// kernel kills it at start (OOMKilled, exit 137) and the engine restarts it
// again and again.
func MemoryLimit(i int, bytes int64) Fault {
	return New(fmt.Sprintf("party %d restarted with a %d MiB memory limit", i, bytes>>20), Resources, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		p := c.Party(i)
		heal := func(ctx context.Context) error {
			ctx = context.WithoutCancel(ctx)
			base := c.BaselineOf(i)
			if err := p.Update(ctx, cluster.Resources{Memory: base.Memory}); err != nil {
				return err
			}
			return ensureRunning(ctx, p)
		}
		if err := p.Stop(ctx, fixtures.Intervals.Fault.StopGrace); err != nil {
			return heal, err
		}
		if err := p.Update(ctx, cluster.Resources{Memory: bytes}); err != nil {
			if cluster.IsUnsupported(err) {
				// The limit never changed: the heal only starts the party.
				return func(ctx context.Context) error { return ensureRunning(context.WithoutCancel(ctx), p) }, err
			}
			return heal, err
		}
		return heal, p.Start(ctx)
	})
}

// CPUQuota limits party i to a fraction of one CPU (docker update --cpus).
func CPUQuota(i int, cpus float64) Fault {
	return New(fmt.Sprintf("party %d limited to %.2f CPU", i, cpus), Resources, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		p := c.Party(i)
		if err := p.Update(ctx, cluster.Resources{NanoCPUs: int64(cpus * 1e9)}); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error {
			return p.Update(context.WithoutCancel(ctx), cluster.Resources{NanoCPUs: c.BaselineOf(i).NanoCPUs})
		}, nil
	})
}

// MemoryPressure lowers party i's memory limit, without a restart, so that
// what it uses now is about ratio of it (docker update --memory): the
// party keeps running under pressure, short of an OOM kill. The limit
// keeps at least 4 MiB above what the party uses, room for a request's
// allocations. The heal restores the baseline limit.
func MemoryPressure(i int, ratio float64) Fault {
	return New(fmt.Sprintf("party %d's memory limit lowered near its working set (about %.0f%% used)", i, 100*ratio), Resources, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		p := c.Party(i)
		heal := func(ctx context.Context) error {
			base := c.BaselineResources()
			return p.Update(context.WithoutCancel(ctx), cluster.Resources{Memory: base.Memory})
		}
		used, _, err := c.MemoryOf(ctx, i)
		if err != nil {
			return nil, err
		}
		limit := max(int64(float64(used)/ratio), int64(used)+4<<20)
		if base := c.BaselineResources().Memory; base > 0 && limit >= base {
			return nil, fmt.Errorf("party %d uses %d MiB: a limit of %d MiB is not below the baseline %d MiB", i, used>>20, limit>>20, base>>20)
		}
		return heal, p.Update(ctx, cluster.Resources{Memory: limit})
	})
}

// PortHeld has another process own a port party i binds at start (its API
// port, say) and restarts the party: every start fails naming the port,
// and the engine restarts it again and again. The holder owns the party's
// network namespace, as a pod's sandbox does (cluster.HoldPort). The heal
// stops the holder, freeing the port, and recreates the party as the
// baseline has it.
func PortHeld(i, port int) Fault {
	return New(fmt.Sprintf("port %d of party %d held by another process", port, i), Process, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		release, err := c.HoldPort(ctx, i, port)
		return func(ctx context.Context) error { return release(context.WithoutCancel(ctx)) }, err
	})
}

// Late makes party i late for its peers' sessions: it is frozen (docker
// pause) until a decryption through another party, which asks i for its
// share like every other peer, has completed without it, then runs
// again. The request that session left in i's sockets is served after
// its coordinator stopped waiting: the session moved on and i can never
// give it its share (the real KMS's operations pages,
// docs/operations/advanced/common-errors.md:75-77). The heal only makes
// sure i runs.
func Late(i, through int) Fault {
	return New(fmt.Sprintf("party %d late for the sessions of its peers (frozen until party %d's decryption completed without it)", i, through), Process, []int{i},
		func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
			p := c.Party(i)
			heal := func(ctx context.Context) error { return ensureRunning(context.WithoutCancel(ctx), p) }
			if err := p.Pause(ctx); err != nil {
				return heal, fmt.Errorf("party %d: %w", i, err)
			}
			if _, err := oracle.Decrypt(ctx, c, oracle.Request{Party: through, By: fmt.Sprintf("fault: a session of party %d without party %d", through, i)}); err != nil {
				return heal, fmt.Errorf("party %d's decryption while party %d was frozen: %w", through, i, err)
			}
			return heal, p.Resume(ctx)
		})
}
