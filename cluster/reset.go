package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
)

// ResetReport says what Reset had to repair, party by party.
type ResetReport struct {
	Repaired map[int][]string // party -> what was wrong
	Took     time.Duration
}

func (r ResetReport) String() string {
	if len(r.Repaired) == 0 {
		return "nothing to repair"
	}
	var parts []string
	for i := 1; i <= 64; i++ {
		if w, ok := r.Repaired[i]; ok {
			parts = append(parts, fmt.Sprintf("party %d: %s", i, strings.Join(w, ", ")))
		}
	}
	return strings.Join(parts, "; ")
}

// Reset returns a used cluster to its baseline: no toxic and every link
// enabled, every party running unpaused with its baseline resources, its
// original config and key material (byte for byte, with their owners and
// modes) and its /etc/hosts, and every party Optimal. Faults heal
// themselves; Reset is the safety net that lets many scenarios share one
// cluster.
func (c *Cluster) Reset(ctx context.Context) (ResetReport, error) {
	start := time.Now()
	rep := ResetReport{Repaired: map[int][]string{}}
	if err := c.mesh.Reset(); err != nil {
		return rep, fmt.Errorf("resetting toxiproxy: %w", err)
	}
	current, err := c.manifests(ctx)
	if err != nil {
		return rep, err
	}
	var mu sync.Mutex
	note := func(i int, what string) {
		mu.Lock()
		rep.Repaired[i] = append(rep.Repaired[i], what)
		mu.Unlock()
	}
	errs := make([]error, c.Topology.N)
	var wg sync.WaitGroup
	for _, p := range c.parties {
		wg.Add(1)
		go func(p *Party) {
			defer wg.Done()
			drift := !slices.Equal(current[p.ID], c.golden[p.ID])
			errs[p.ID-1] = c.resetParty(ctx, p, drift, note)
		}(p)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	if err := c.AwaitOptimal(ctx); err != nil {
		return rep, err
	}
	rep.Took = time.Since(start)
	return rep, nil
}

func (c *Cluster) resetParty(ctx context.Context, p *Party, drift bool, note func(int, string)) error {
	st, err := p.State(ctx)
	if err != nil {
		return err
	}
	if st.Paused {
		note(p.ID, "paused")
		if err := p.Resume(ctx); err != nil {
			return err
		}
	}
	if st.Memory != c.opts.MemoryLimit || st.NanoCPUs != 0 {
		note(p.ID, "resources")
		r := container.Resources{Memory: c.opts.MemoryLimit, MemorySwap: c.opts.MemoryLimit, NanoCPUs: 0}
		if c.opts.MemoryLimit == 0 {
			r.MemorySwap = -1
		}
		if err := p.Update(ctx, r); err != nil {
			return fmt.Errorf("party %d: restoring resources: %w", p.ID, err)
		}
	}
	restart := false
	if st.Running && !st.Restarting && !drift {
		if ok, err := c.hostsIntact(ctx, p); err != nil {
			return err
		} else if !ok {
			note(p.ID, "/etc/hosts")
			restart = true // the engine writes /etc/hosts afresh at start
		}
	}
	if drift {
		note(p.ID, "storage or config")
	}
	if !st.Running || st.Restarting {
		note(p.ID, "not running ("+st.Status+")")
	}
	if drift || restart || !st.Running || st.Restarting {
		if err := p.Stop(ctx, 5*time.Second); err != nil {
			return fmt.Errorf("party %d: stopping: %w", p.ID, err)
		}
		if drift {
			if err := c.restoreStorage(ctx, p.ID); err != nil {
				return fmt.Errorf("party %d: restoring storage: %w", p.ID, err)
			}
		}
		if err := p.Start(ctx); err != nil {
			return fmt.Errorf("party %d: starting: %w", p.ID, err)
		}
	}
	return nil
}

// hostsIntact tells whether every kms-peer name still resolves to toxiproxy
// in the party's /etc/hosts.
func (c *Cluster) hostsIntact(ctx context.Context, p *Party) (bool, error) {
	res, err := p.Exec(ctx, append(append([]string{}, c.Profile.Admin...), "cat", "/etc/hosts")...)
	if err != nil {
		return false, err
	}
	for j := 1; j <= c.Topology.N; j++ {
		if !strings.Contains(res.Stdout, c.toxiIP+"\t"+peerHost(j)) {
			return false, nil
		}
	}
	return true, nil
}
