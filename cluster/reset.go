package cluster

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/kms/material"
)

// ResetReport says what Reset had to repair, party by party.
type ResetReport struct {
	Repaired map[int][]string // party -> what was wrong
	Mesh     []string         // proxies disabled or with toxics (Audit only)
	// Nodes are the nodes the run cordoned: found by Audit, uncordoned
	// by Reset.
	Nodes []string
	// Leftovers are what an operator's tools left beside the parties (a
	// hook's Job, a release that runs it again): found by Audit, removed
	// by Reset.
	Leftovers []string
	// NewObjects are, per party, the paths (as the keeper sees them) of
	// stored entries the baseline does not have (Audit only). A runbook
	// that re-initialises PRSS legitimately adds an epoch on every party:
	// the caller decides, with Accept, which new objects its scenario
	// declared; every other one is a fault left behind.
	NewObjects map[int][]string
	Took       time.Duration
}

func (r ResetReport) String() string {
	if r.Clean() {
		return "nothing to repair"
	}
	parts := append([]string{}, r.Mesh...)
	for _, n := range r.Nodes {
		parts = append(parts, "node "+n+" cordoned by the run")
	}
	parts = append(parts, r.Leftovers...)
	for _, i := range partiesOf(r.Repaired, r.NewObjects) {
		var w []string
		w = append(w, r.Repaired[i]...)
		for _, p := range r.NewObjects[i] {
			w = append(w, "new "+p)
		}
		parts = append(parts, fmt.Sprintf("party %d: %s", i, strings.Join(w, ", ")))
	}
	return strings.Join(parts, "; ")
}

func partiesOf(ms ...map[int][]string) []int {
	var out []int
	for _, m := range ms {
		for i := range m {
			if !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Accept returns the report without the new objects accept says the
// scenario declared (e.g. the epoch its runbook's kms-init created).
func (r ResetReport) Accept(accept func(party int, path string) bool) ResetReport {
	out := r
	out.NewObjects = map[int][]string{}
	for i, paths := range r.NewObjects {
		for _, p := range paths {
			if !accept(i, p) {
				out.NewObjects[i] = append(out.NewObjects[i], p)
			}
		}
	}
	return out
}

// Reset returns a used cluster to its baseline: no toxic and every link
// enabled, every party running unpaused with its baseline resources, its
// original config and key material (byte for byte, with their owners and
// modes) and its /etc/hosts, and every party Optimal. Faults heal
// themselves; Reset is the safety net that lets many scenarios share one
// cluster. It reads everything, whatever this handle saw before: the kill
// switch's reset (faults injected by other processes).
func (c *Cluster) Reset(ctx context.Context) (ResetReport, error) {
	return c.reset(ctx, false)
}

// ResetUnlessClean is Reset between two scenarios run by this handle: when
// the last audit or reset found the cluster as its baseline and nothing
// was done through the handle since, and no party changed state, it only
// resets the mesh and the nodes and awaits every party Optimal, without
// reading every party's storage and files again (0.6 s at n=13).
func (c *Cluster) ResetUnlessClean(ctx context.Context) (ResetReport, error) {
	return c.reset(ctx, true)
}

func (c *Cluster) reset(ctx context.Context, trustClean bool) (ResetReport, error) {
	start := time.Now()
	rep := ResetReport{Repaired: map[int][]string{}}
	if err := c.mesh.Reset(); err != nil {
		return rep, fmt.Errorf("resetting toxiproxy: %w", err)
	}
	// First, so that a party whose pod the run evicted can be scheduled.
	nodes, err := c.Uncordon(ctx)
	if err != nil {
		return rep, fmt.Errorf("uncordoning the run's nodes: %w", err)
	}
	rep.Nodes = nodes
	if rep.Leftovers, err = c.clearLeftovers(ctx); err != nil {
		return rep, fmt.Errorf("removing what the operator's tools left: %w", err)
	}
	if trustClean && c.unchangedSinceClean(ctx) {
		// The last audit or reset found every party as the baseline, and
		// since then nothing wrote through this handle and no party
		// changed state: reading it all again would say the same (0.6 s
		// at n=13, an exec in every party). The mesh and the nodes were
		// reset above; the parties must still all be Optimal.
		if err := c.AwaitOptimal(ctx); err != nil {
			return rep, err
		}
		rep.Took = time.Since(start)
		return rep, nil
	}
	writes, before, err := c.states(ctx)
	if err != nil {
		return rep, err
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
	if current, err = c.destroyNewEpochs(ctx, current, note); err != nil {
		return rep, err
	}
	err = c.EachParty(func(i int) error {
		deployed, err := c.deployedConfigDrift(ctx, i)
		if err != nil {
			return err
		}
		drift := !slices.Equal(current[i], c.golden[i]) || deployed
		return c.resetParty(ctx, c.parties[i-1], drift, note)
	})
	if err != nil {
		return rep, err
	}
	if err := c.AwaitOptimal(ctx); err != nil {
		return rep, err
	}
	rep.Took = time.Since(start)
	if len(rep.Repaired) == 0 {
		// Nothing was restored: the manifests read above, equal to the
		// baseline, are the proof; a second read would say the same.
		c.seenClean(ctx, writes, before)
		return rep, nil
	}
	// The restore is proved, not assumed: every party's storage and config
	// must now match the baseline line by line (content, mode, owner).
	after, err := c.manifests(ctx)
	if err != nil {
		return rep, err
	}
	for i := 1; i <= c.Topology.N; i++ {
		if changed, added := diffManifest(c.golden[i], after[i]); len(changed)+len(added) > 0 {
			return rep, fmt.Errorf("party %d differs from its baseline after the restore: changed %v, new %v", i, changed, added)
		}
		if deployed, err := c.deployedConfigDrift(ctx, i); err != nil || deployed {
			return rep, errors.Join(err, fmt.Errorf("party %d's deployed config differs from its baseline after the restore", i))
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// Audit reports what differs from the baseline, without repairing it:
// toxics or disabled links in the mesh, and per party what Reset would fix.
// An empty report after a scenario proves no fault outlived it.
func (c *Cluster) Audit(ctx context.Context) (ResetReport, error) {
	rep := ResetReport{Repaired: map[int][]string{}, NewObjects: map[int][]string{}}
	writes, before, err := c.states(ctx)
	if err != nil {
		return rep, err
	}
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
	if rep.Nodes, err = c.cordoned(ctx); err != nil {
		return rep, fmt.Errorf("reading the nodes: %w", err)
	}
	if rep.Leftovers, err = c.leftovers(ctx); err != nil {
		return rep, fmt.Errorf("reading what the operator's tools left: %w", err)
	}
	current, err := c.manifests(ctx)
	if err != nil {
		return rep, err
	}
	// The parties are looked at in parallel: an inspect and an exec each,
	// about 2 s in a row for 13 on this engine, a few hundred ms at once.
	var mu sync.Mutex
	err = c.EachParty(func(i int) error {
		what, added, err := c.auditParty(ctx, c.parties[i-1], current[i])
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if len(added) > 0 {
			rep.NewObjects[i] = added
		}
		if len(what) > 0 {
			rep.Repaired[i] = what
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if rep.Clean() {
		c.seenClean(ctx, writes, before)
	}
	return rep, nil
}

// cleanMark is what an audit or reset that found the cluster as its
// baseline saw: the count of writes through the handle, and every party's
// state (unchangedSinceClean).
type cleanMark struct {
	writes uint64
	states []string
}

// states reads the count of writes, then every party's state, as
// fingerprints: what says, compared later, that nothing was done.
func (c *Cluster) states(ctx context.Context) (uint64, []string, error) {
	writes := c.writes.Load()
	out := make([]string, c.Topology.N)
	err := c.EachParty(func(i int) error {
		st, err := c.parties[i-1].State(ctx)
		out[i-1] = fingerprint(st)
		return err
	})
	return writes, out, err
}

// fingerprint is what of a party's state changes with anything done to
// it but a write to its files: a stop, kill, start, restart, pause,
// resources, command, image or network namespace.
func fingerprint(st State) string {
	return fmt.Sprintf("%s %v %v %v %d %s %d %d %q %s %s", st.Status, st.Running, st.Paused, st.Restarting, st.RestartCount,
		st.StartedAt.Format(time.RFC3339Nano), st.Memory, st.NanoCPUs, st.Cmd, st.Image, st.SharesNetworkOf)
}

// seenClean notes that the cluster was found as its baseline, if nothing
// was written and no party changed state while it was being looked at
// (writes and before, read when the look began).
func (c *Cluster) seenClean(ctx context.Context, writes uint64, before []string) {
	now, after, err := c.states(ctx)
	if err != nil || now != writes || !slices.Equal(before, after) {
		c.clean.Store(nil)
		return
	}
	c.clean.Store(&cleanMark{writes: writes, states: before})
}

// unchangedSinceClean tells whether the cluster is as the last audit or
// reset that found it clean saw it: no write through this handle since,
// every party in the same state. A change made by another process that
// neither writes through this handle nor restarts a party (a file removed
// by hand from a second kmschaos) is not seen here: the next audit finds
// it, and the reset after that repairs it.
func (c *Cluster) unchangedSinceClean(ctx context.Context) bool {
	m := c.clean.Load()
	if m == nil {
		return false
	}
	writes, now, err := c.states(ctx)
	return err == nil && writes == m.writes && slices.Equal(now, m.states)
}

// auditParty lists what of party p differs from its baseline (what) and
// the stored objects it has that the baseline has not (added); current
// is its manifest now. What could not be read is a difference that names
// it, never a pass.
func (c *Cluster) auditParty(ctx context.Context, p *Party, current []string) (what, added []string, err error) {
	st, err := p.State(ctx)
	if err != nil {
		return nil, nil, err
	}
	if st.Paused {
		what = append(what, "paused")
	}
	if !st.Running || st.Restarting {
		what = append(what, "not running ("+st.Status+")")
	}
	if base := c.BaselineOf(p.ID); st.Memory != base.Memory || st.NanoCPUs != base.NanoCPUs {
		what = append(what, "resources")
	}
	if !slices.Equal(st.Cmd, c.Profile.Command) {
		what = append(what, fmt.Sprintf("started with %q", st.Cmd))
	}
	if c.otherImage(st) {
		what = append(what, "runs image "+st.Image)
	}
	if st.SharesNetworkOf != "" {
		what = append(what, "in the network namespace of "+st.SharesNetworkOf)
	}
	// Every baseline object counts, PRSS epochs included; what is new
	// is reported apart (see NewObjects).
	changed, added := diffManifest(c.golden[p.ID], current)
	for _, path := range changed {
		what = append(what, changedPrefix+path)
	}
	if deployed, err := c.deployedConfigDrift(ctx, p.ID); err != nil {
		return nil, nil, err
	} else if deployed {
		// It is what the party starts with next time (Kubernetes: its
		// ConfigMap), whatever its volume holds now.
		what = append(what, "deployed config differs from the baseline")
	}
	if st.Running && !st.Paused && !st.Restarting {
		switch ok, err := c.hostsIntact(ctx, p); {
		case err != nil:
			what = append(what, "/etc/hosts could not be read: "+err.Error())
		case !ok:
			what = append(what, "/etc/hosts")
		}
	}
	return what, added, nil
}

const changedPrefix = "storage or config: changed or missing "

// AcceptChanged drops the baseline objects, changed or missing, that
// accept declares expected (the old PRSS epoch of a party a runbook set
// up anew); every other difference stays a fault left behind.
func (r ResetReport) AcceptChanged(accept func(party int, path string) bool) ResetReport {
	out := r
	out.Repaired = map[int][]string{}
	for i, what := range r.Repaired {
		for _, w := range what {
			if path, ok := strings.CutPrefix(w, changedPrefix); ok && accept(i, path) {
				continue
			}
			out.Repaired[i] = append(out.Repaired[i], w)
		}
	}
	return out
}

// Clean tells whether an audit found nothing: no fault in the mesh or a
// party, no baseline object missing or changed, and no new object (drop
// the declared ones with Accept first).
func (r ResetReport) Clean() bool {
	n := 0
	for _, ps := range r.NewObjects {
		n += len(ps)
	}
	return len(r.Repaired) == 0 && len(r.Mesh) == 0 && len(r.Nodes) == 0 && len(r.Leftovers) == 0 && n == 0
}

// diffManifest compares a party's manifest with its baseline by path:
// changed lists the baseline entries missing or different now (content,
// mode, owner or type), added the entries the baseline does not have.
func diffManifest(baseline, current []string) (changed, added []string) {
	now := make(map[string]string, len(current))
	for _, l := range current {
		now[lastField(l)] = l
	}
	was := make(map[string]bool, len(baseline))
	for _, l := range baseline {
		p := lastField(l)
		was[p] = true
		if now[p] != l {
			changed = append(changed, p)
		}
	}
	for _, l := range current {
		if p := lastField(l); !was[p] {
			added = append(added, p)
		}
	}
	return changed, added
}

// lastField is the path of a manifest line.
func lastField(l string) string {
	f := strings.Fields(l)
	if len(f) == 0 {
		return l
	}
	return f[len(f)-1]
}

// destroyNewEpochs undoes, without a restart, what a runbook that sets up
// a new PRSS epoch on every party leaves: a party whose storage differs
// from the baseline only by added epochs is asked to destroy them (the
// core-client's destroy-mpc-epoch, from the keeper), which forgets them
// and deletes their data, as a restart onto the baseline's storage would
// (13 stops and starts, 15-24 s at n=13). It returns the manifests read
// again after asking, and notes a party repaired only when its storage
// then equals the baseline: one the destruction did not bring back (a
// refusal, a party down) is left to resetParty's restore, and Reset's
// proof after the repair reads every party again.
func (c *Cluster) destroyNewEpochs(ctx context.Context, current Manifest, note func(int, string)) (Manifest, error) {
	byEpoch := map[string][]int{}
	for i := 1; i <= c.Topology.N; i++ {
		changed, added := diffManifest(c.golden[i], current[i])
		if len(changed) > 0 || slices.ContainsFunc(added, func(p string) bool { return !IsEpochObject(p) }) {
			continue // restored by a restart
		}
		for _, p := range added {
			byEpoch[path.Base(p)] = append(byEpoch[path.Base(p)], i)
		}
	}
	if len(byEpoch) == 0 {
		return current, nil
	}
	for id, parties := range byEpoch {
		// A refusal is not an error here: the client stops at the first
		// one, and what the manifests say after decides.
		_, _ = c.destroyEpoch(ctx, id, parties)
	}
	after, err := c.manifests(ctx)
	if err != nil {
		return nil, err
	}
	for id, parties := range byEpoch {
		for _, i := range parties {
			if slices.Equal(after[i], c.golden[i]) {
				note(i, "new PRSS epoch "+id+" destroyed")
			}
		}
	}
	return after, nil
}

func (c *Cluster) resetParty(ctx context.Context, p *Party, drift bool, note func(int, string)) error {
	st, err := p.State(ctx)
	if err != nil {
		return err
	}
	if st.SharesNetworkOf != "" {
		// HoldPort's holder owns the party's namespace and its alias.
		note(p.ID, "in the network namespace of "+st.SharesNetworkOf)
		if err := c.removeHolder(ctx, p, st.SharesNetworkOf); err != nil {
			return err
		}
	}
	other := c.otherImage(st)
	if !slices.Equal(st.Cmd, c.Profile.Command) || st.SharesNetworkOf != "" || other {
		if !slices.Equal(st.Cmd, c.Profile.Command) {
			note(p.ID, fmt.Sprintf("started with %q", st.Cmd))
		}
		if other {
			note(p.ID, "runs image "+st.Image)
		}
		c.forgetRevisions(p.ID)
		if err := c.Recreate(ctx, p.ID); err != nil {
			return err
		}
		if st, err = p.State(ctx); err != nil {
			return err
		}
	}
	if st.Paused {
		note(p.ID, "paused")
		if err := p.Resume(ctx); err != nil {
			return err
		}
	}
	if base := c.BaselineOf(p.ID); st.Memory != base.Memory || st.NanoCPUs != base.NanoCPUs {
		note(p.ID, "resources")
		if err := p.Update(ctx, base); err != nil {
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
		if err := p.Stop(ctx, fixtures.Intervals.Cluster.RestoreStop); err != nil {
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

// otherImage tells whether the party runs another image than the
// baseline's (Upgrade); a backend that does not say is taken at its word.
func (c *Cluster) otherImage(st State) bool {
	return st.Image != "" && st.Image != c.Images.Party
}

// hostsIntact tells whether every kms-peer name still resolves to toxiproxy
// in the party's /etc/hosts (one name per line as Docker writes it, or
// several as the kubelet writes a pod's host aliases).
func (c *Cluster) hostsIntact(ctx context.Context, p *Party) (bool, error) {
	if r, ok := p.Workload().(HostsReader); ok {
		hosts, read, err := r.ReadHosts(ctx)
		if err != nil {
			return false, err
		}
		if read {
			return hostsResolve(hosts, c.toxiIP, c.Topology.N), nil
		}
	}
	res, err := p.Workload().Exec(ctx, c.Profile.User, c.Profile.AdminCmd("cat", "/etc/hosts")...) // a read: no write (c.writes)
	if err != nil {
		return false, err
	}
	return hostsResolve(res.Stdout, c.toxiIP, c.Topology.N), nil
}

// hostsResolve tells whether a hosts file maps kms-peer-1..n to ip, each
// by its first entry, as the resolver reads it.
func hostsResolve(hosts, ip string, n int) bool {
	first := map[string]string{}
	for _, line := range strings.Split(hosts, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		for _, name := range f[min(1, len(f)):] {
			if _, seen := first[name]; !seen {
				first[name] = f[0]
			}
		}
	}
	for j := 1; j <= n; j++ {
		if first[peerHost(j)] != ip {
			return false
		}
	}
	return true
}

// IsEpochObject tells whether a stored path (as in NewObjects) is a PRSS
// epoch of a private vault: what a runbook's kms-init adds on every party,
// e.g. rep.Accept(func(_ int, p string) bool { return cluster.IsEpochObject(p) }).
func IsEpochObject(p string) bool {
	dir := path.Dir(p)
	return path.Base(dir) == material.EpochData && strings.HasPrefix(path.Base(path.Dir(dir)), "PRIV-p")
}

// IsCertificateObject tells whether a stored path is a party's peer-link
// TLS certificate (PRIV-p<i>/TLS/cert.pem): what re-issuing it replaces.
// The key beside it is not: a re-issue keeps the pinned key.
func IsCertificateObject(p string) bool {
	return path.Base(p) == "cert.pem" && path.Base(path.Dir(p)) == "TLS" && strings.HasPrefix(path.Base(path.Dir(path.Dir(p))), "PRIV-p")
}

// RestoreParty puts party i's storage and config back to the baseline
// from the golden copy, byte for byte, and starts it again: how a fault
// of storage, keys, PRSS or config is undone by a process that did not
// inject it (and so holds no copy of what the fault overwrote).
func (c *Cluster) RestoreParty(ctx context.Context, i int) error {
	if i < 1 || i > c.Topology.N {
		return fmt.Errorf("no party %d in %s", i, c.Topology)
	}
	p := c.parties[i-1]
	if err := p.Stop(ctx, fixtures.Intervals.Cluster.RestoreStop); err != nil {
		return fmt.Errorf("stopping party %d: %w", i, err)
	}
	if err := c.restoreStorage(ctx, i); err != nil {
		return fmt.Errorf("restoring party %d's storage: %w", i, err)
	}
	return p.Start(ctx)
}
