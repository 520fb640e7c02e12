package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// ResetReport says what Reset had to repair, party by party.
type ResetReport struct {
	Repaired map[int][]string // party -> what was wrong
	Mesh     []string         // proxies disabled or with toxics (Audit only)
	Took     time.Duration
}

func (r ResetReport) String() string {
	if r.Clean() {
		return "nothing to repair"
	}
	parts := append([]string{}, r.Mesh...)
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
	err = c.EachParty(func(i int) error {
		drift := !slices.Equal(current[i], c.golden[i])
		return c.resetParty(ctx, c.parties[i-1], drift, note)
	})
	if err != nil {
		return rep, err
	}
	if err := c.AwaitOptimal(ctx); err != nil {
		return rep, err
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// Audit reports what differs from the baseline, without repairing it:
// toxics or disabled links in the mesh, and per party what Reset would fix.
// An empty report after a scenario proves no fault outlived it.
func (c *Cluster) Audit(ctx context.Context) (ResetReport, error) {
	rep := ResetReport{Repaired: map[int][]string{}}
	proxies, err := c.mesh.Client.Proxies()
	if err != nil {
		return rep, fmt.Errorf("reading toxiproxy: %w", err)
	}
	for name, px := range proxies {
		if !px.Enabled {
			rep.Mesh = append(rep.Mesh, name+" disabled")
		}
		for _, t := range px.ActiveToxics {
			rep.Mesh = append(rep.Mesh, fmt.Sprintf("%s has toxic %s (%s)", name, t.Name, t.Type))
		}
	}
	slices.Sort(rep.Mesh)
	current, err := c.manifests(ctx)
	if err != nil {
		return rep, err
	}
	for _, p := range c.parties {
		var what []string
		st, err := p.State(ctx)
		if err != nil {
			return rep, err
		}
		if st.Paused {
			what = append(what, "paused")
		}
		if !st.Running || st.Restarting {
			what = append(what, "not running ("+st.Status+")")
		}
		if st.Memory != c.opts.MemoryLimit || st.NanoCPUs != c.opts.NanoCPUs {
			what = append(what, "resources")
		}
		// PRSS epochs and TLS certificates are left out: a re-initialisation
		// or a re-issued certificate legitimately replaces them (the steady
		// state proves them accepted; Reset still restores them).
		if want, got := withoutEpochs(c.golden[p.ID]), withoutEpochs(current[p.ID]); !slices.Equal(want, got) {
			what = append(what, "storage or config: "+firstDifference(want, got))
		}
		if st.Running && !st.Paused && !st.Restarting {
			if ok, err := c.hostsIntact(ctx, p); err == nil && !ok {
				what = append(what, "/etc/hosts")
			}
		}
		if len(what) > 0 {
			rep.Repaired[p.ID] = what
		}
	}
	return rep, nil
}

func withoutEpochs(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.Contains(l, "/EpochData") && !strings.HasSuffix(l, "/TLS/cert.pem") {
			out = append(out, l)
		}
	}
	return out
}

// Clean tells whether an audit found nothing.
func (r ResetReport) Clean() bool { return len(r.Repaired) == 0 && len(r.Mesh) == 0 }

// firstDifference names the first manifest entry that differs.
func firstDifference(want, got []string) string {
	if l, ok := firstMissing(want, got); ok {
		return "changed or missing " + lastField(l)
	}
	if l, ok := firstMissing(got, want); ok {
		return "unexpected " + lastField(l)
	}
	return "order"
}

// firstMissing returns the first line of from that is not in in.
func firstMissing(from, in []string) (string, bool) {
	set := make(map[string]bool, len(in))
	for _, l := range in {
		set[l] = true
	}
	for _, l := range from {
		if !set[l] {
			return l, true
		}
	}
	return "", false
}

// lastField is the path of a manifest line.
func lastField(l string) string {
	f := strings.Fields(l)
	if len(f) == 0 {
		return l
	}
	return f[len(f)-1]
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
	if st.Memory != c.opts.MemoryLimit || st.NanoCPUs != c.opts.NanoCPUs {
		note(p.ID, "resources")
		if err := p.Update(ctx, c.BaselineResources()); err != nil {
			return fmt.Errorf("restoring resources: %w", err)
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
			return fmt.Errorf("stopping: %w", err)
		}
		if drift {
			if err := c.restoreStorage(ctx, p.ID); err != nil {
				return fmt.Errorf("restoring storage: %w", err)
			}
		}
		if err := p.Start(ctx); err != nil {
			return fmt.Errorf("starting: %w", err)
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
