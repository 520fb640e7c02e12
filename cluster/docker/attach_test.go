package docker

import (
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/toxics"
	"github.com/kmschaos/kmschaos/internal/dockertest"
	"github.com/kmschaos/kmschaos/kms/material"
)

func TestPickRun(t *testing.T) {
	cases := []struct {
		running []string
		want    string
		got     string
		err     string
	}{
		{nil, "", "", "no cluster to attach to"},
		{[]string{"aa"}, "", "aa", ""},
		{[]string{"aa", "bb"}, "", "", "two clusters, pass --run: aa, bb are running"},
		{[]string{"aa", "bb", "cc"}, "", "", "3 clusters, pass --run: aa, bb, cc are running"},
		{[]string{"aa", "bb"}, "bb", "bb", ""},
		{[]string{"aa"}, "cc", "", "no cluster to attach to: run cc is not running (running: aa)"},
		{nil, "cc", "", "no cluster to attach to: run cc is not running"},
	}
	for _, c := range cases {
		got, err := pickRun(c.running, c.want)
		if c.err == "" {
			if err != nil || got != c.got {
				t.Errorf("pickRun(%v, %q) = %q, %v; want %q", c.running, c.want, got, err, c.got)
			}
			continue
		}
		var ae *cluster.InputError
		if err == nil || !errors.As(err, &ae) || !strings.Contains(err.Error(), c.err) {
			t.Errorf("pickRun(%v, %q) = %q, %v; want an InputError saying %q", c.running, c.want, got, err, c.err)
		}
	}
}

// TestAttachResetsAndAuditsFromAnotherHandle starts a cluster in one
// handle and attaches a second one to it by run id, as a second process
// would: the second handle has the same baseline, sees the faults done
// through it in its audits (the red case), and its Reset returns the
// cluster to the baseline (the green one).
func TestAttachResetsAndAuditsFromAnotherHandle(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	a, err := Start(ctx, cluster.WithTopology(4, 1), cluster.WithDetached())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := a.Terminate(tctx); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})

	if _, err := Attach(ctx, "00000000"); err == nil || !strings.Contains(err.Error(), "run 00000000 is not running") {
		t.Fatalf("attaching to a run that does not exist: %v", err)
	}
	b, err := Attach(ctx, a.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Topology != a.Topology || b.Key.KeyID != a.Key.KeyID || b.NetworkName() != a.NetworkName() || b.ToxiproxyIP() != a.ToxiproxyIP() {
		t.Fatalf("attached handle differs: %v %s %s %s, want %v %s %s %s", b.Topology, b.Key.KeyID, b.NetworkName(), b.ToxiproxyIP(),
			a.Topology, a.Key.KeyID, a.NetworkName(), a.ToxiproxyIP())
	}
	if !maps.EqualFunc(a.BaselineKeyMaterial(), b.BaselineKeyMaterial(), slices.Equal) || len(b.BaselineKeyMaterial()) != 4 {
		t.Fatalf("the attached baseline differs from the one recorded at bring-up")
	}
	for i := 1; i <= 4; i++ {
		if b.Party(i).Endpoint() != a.Party(i).Endpoint() || b.Party(i).ContainerID() != a.Party(i).ContainerID() {
			t.Fatalf("party %d: attached to %s at %s, want %s at %s", i, b.Party(i).ContainerID(), b.Party(i).Endpoint(), a.Party(i).ContainerID(), a.Party(i).Endpoint())
		}
		// A party is named as the operator names its container.
		if a.Party(i).Name != a.PartyName(i) || b.Party(i).Name != a.PartyName(i) {
			t.Fatalf("party %d is named %q, attached %q; want %q", i, a.Party(i).Name, b.Party(i).Name, a.PartyName(i))
		}
	}
	// The attached handle verifies results with the cluster's public
	// material, read back from the golden copy.
	ct, err := b.Key.Encrypt(rand.Reader, 4242)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := b.Client(1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := cl.PublicDecryptSync(ctx, ct, "")
	cl.Close()
	if err != nil || d.Value != 4242 {
		t.Fatalf("decryption through the attached handle: %v, %+v", err, d)
	}

	// Faults through the attached handle: one party killed, a toxic on a
	// link, a key share overwritten.
	if err := b.Party(2).Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Link(1, 3).AddToxic(toxics.Latency(100*time.Millisecond, 0)); err != nil {
		t.Fatal(err)
	}
	share := b.KeyObject(3, "PRIV", "FheKeyInfo", b.Key.KeyID)
	if res, err := b.KeeperExec(ctx, b.Profile.AdminCmd("flip", share)...); res.Check(err, "kms-admin flip") != nil {
		t.Fatal(err)
	}
	// A peer's name removed from party 4's /etc/hosts: the audit reads
	// the engine's file for it, not an exec, and must see what the party
	// sees.
	if res, err := b.Party(4).ExecAs(ctx, "0:0", b.Profile.AdminCmd("hosts", "remove", "kms-peer-2")...); res.Check(err, "kms-admin hosts remove") != nil {
		t.Fatal(err)
	}
	cat, err := b.Party(4).Exec(ctx, b.Profile.AdminCmd("cat", "/etc/hosts")...)
	if err != nil {
		t.Fatal(err)
	}
	if hosts, ok, err := b.Party(4).Workload().(cluster.HostsReader).ReadHosts(ctx); err != nil || !ok || hosts != cat.Stdout {
		t.Fatalf("ReadHosts = %q, %v, %v; want what cat prints in the party: %q", hosts, ok, err, cat.Stdout)
	}
	km, err := b.KeyMaterial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := km.Diff(b.BaselineKeyMaterial(), 3); len(diff) != 1 || diff[0] != share {
		t.Fatalf("the key audit from the attached handle missed the flipped share: %v", diff)
	}
	audit, err := b.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := audit.String()
	for _, want := range []string{"p1-p3 has toxic latency_downstream", "party 2: not running", "party 3: storage or config: changed or missing " + share, "party 4: /etc/hosts"} {
		if !strings.Contains(s, want) {
			t.Errorf("audit from the attached handle: %q does not say %q", s, want)
		}
	}

	// A third handle, as a later process: Reset repairs all of it.
	c, err := Attach(ctx, a.RunID)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Reset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Repaired[2]) == 0 || len(rep.Repaired[3]) == 0 || !slices.Contains(rep.Repaired[4], "/etc/hosts") {
		t.Errorf("Reset repaired %v; want parties 2 and 3, and party 4's /etc/hosts", rep)
	}
	audit, err = c.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !audit.Clean() {
		t.Errorf("after Reset from an attached handle the audit still finds: %s", audit)
	}
	if km, err = c.KeyMaterial(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		if diff := km.Diff(a.BaselineKeyMaterial(), i); len(diff) > 0 {
			t.Errorf("party %d key material differs from the bring-up baseline after Reset: %v", i, diff)
		}
	}

	// A runbook's new epoch on every party, party 2's baseline epoch
	// removed, and a copy of the new epoch under another id in party 3's
	// storage, which party 3 never set up: Reset destroys the new epoch in
	// the parties that hold only it more (the core-client's
	// destroy-mpc-epoch, no restart), and restores from the golden copy
	// (a restart) party 2 and party 3, which refuses to destroy an epoch
	// it does not hold.
	fresh, planted := strings.Repeat("0", 62)+"d4", strings.Repeat("0", 62)+"e5"
	if res, err := c.NewEpoch(ctx, fresh); res.Check(err, "kms-client new-epoch") != nil {
		t.Fatal(res.Check(err, "kms-client new-epoch"))
	}
	for _, cmd := range [][]string{
		{"rm", c.KeyObject(2, "PRIV", material.EpochData, material.DefaultEpochID)},
		{"cp", c.KeyObject(3, "PRIV", material.EpochData, fresh), c.KeyObject(3, "PRIV", material.EpochData, planted)},
	} {
		if res, err := c.KeeperExec(ctx, c.Profile.AdminCmd(cmd...)...); res.Check(err, "kms-admin "+cmd[0]) != nil {
			t.Fatal(res.Check(err, "kms-admin "+cmd[0]))
		}
	}
	started := map[int]time.Time{}
	for i := 1; i <= 4; i++ {
		st, err := c.Party(i).State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		started[i] = st.StartedAt
	}
	if rep, err = c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		st, err := c.Party(i).State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		destroyed := slices.Contains(rep.Repaired[i], "new PRSS epoch "+fresh+" destroyed")
		restored := i == 2 || i == 3
		if restarted := !st.StartedAt.Equal(started[i]); restarted != restored || destroyed == restored {
			t.Errorf("party %d: restarted %v, repaired %q; want parties 2 and 3 restored by a restart, every other one's new epoch destroyed without one", i, restarted, rep.Repaired[i])
		}
	}
	if audit, err = c.Audit(ctx); err != nil || !audit.Clean() {
		t.Errorf("after Reset of a new epoch the audit finds: %s, %v", audit, err)
	}
	for i := 1; i <= 4; i++ {
		cl, err := c.Client(i)
		if err != nil {
			t.Fatal(err)
		}
		d, err := cl.PublicDecryptSync(ctx, ct, "")
		cl.Close()
		if err != nil || d.Value != 4242 {
			t.Errorf("party %d after Reset of a new epoch: %v, %+v", i, err, d)
		}
	}

	// What an attached handle makes is the run's: labelled with the run's
	// owner, so that a sweep of killed runs tells it as the run's.
	dc, err := Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Recreate(ctx, 4); err != nil {
		t.Fatal(err)
	}
	keeper, err := dc.ContainerInspect(ctx, keeperName(a.RunID), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	party, err := dc.ContainerInspect(ctx, a.PartyName(4), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if owner := keeper.Container.Config.Labels[cluster.LabelOwner]; owner != "detached" || party.Container.Config.Labels[cluster.LabelOwner] != owner {
		t.Fatalf("party 4 recreated by an attached handle is owned by %q, the run by %q; want both detached",
			party.Container.Config.Labels[cluster.LabelOwner], owner)
	}

	// A record that is not there is no record; a keeper that is gone is an
	// error, never an empty keeper (a game day's runner tells the two apart
	// to stop when its cluster is gone).
	if _, ok, err := c.Record(ctx, "no-such-record"); ok || err != nil {
		t.Fatalf("a missing record: ok %v, %v; want none and no error", ok, err)
	}
	if err := removeContainer(ctx, dc, keeperName(c.RunID), false); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Record(ctx, "no-such-record"); ok || err == nil {
		t.Fatalf("a record read from a removed keeper: ok %v, %v; want an error", ok, err)
	}
}
