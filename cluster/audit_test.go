package cluster_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

// A party whose /etc/hosts cannot be read is not counted as intact: the
// audit names what it could not read.
func TestAuditNamesAnUnreadableHostsFile(t *testing.T) {
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	parties[1].Unsupported = []string{"exec"} // the engine refuses the read
	what, _, err := cluster.AuditParty(context.Background(), c, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(what, func(w string) bool {
		return strings.HasPrefix(w, "/etc/hosts could not be read: ") && strings.Contains(w, "exec is not supported")
	}) {
		t.Errorf("audit of a party whose hosts file cannot be read: %q; want it named as unread", what)
	}
}

// A write's temp file left in a vault (a party killed mid-write) is a
// stored object like any other, seen by the key audit; only the health
// monitor's own probe file and its write's temp file, written and removed
// every few seconds, are left out, by their exact names.
func TestKeyAuditSeesLeftoverTempFiles(t *testing.T) {
	c, _, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	const dir = "/vaults/p3/keys/PRIV-p3/FheKeyInfo/"
	keeper.OnExec = func(_ string, cmd []string) cluster.ExecResult {
		if !slices.Contains(cmd, "manifest") {
			return cluster.ExecResult{}
		}
		return cluster.ExecResult{Stdout: strings.Join([]string{
			"f 0600 10001:10001 120 aa11 " + dir + "4acd",
			"f 0600 10001:10001 60 bb22 " + dir + ".4acd.partial.1.3",
			"f 0600 10001:10001 0 cc33 " + dir + ".health-probe",
			"f 0600 10001:10001 0 dd44 " + dir + "..health-probe.partial.1.7",
			"f 0600 10001:10001 0 ee55 " + dir + ".health-probe-old",
		}, "\n")}
	}
	m, err := c.KeyMaterial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aa11 " + dir + "4acd", "bb22 " + dir + ".4acd.partial.1.3", "ee55 " + dir + ".health-probe-old"}
	got := slices.Sorted(slices.Values(m[3]))
	if !slices.Equal(got, want) {
		t.Errorf("party 3's key material %q, want %q: the temp file counted, the health probe's files not", got, want)
	}
}

// A reset right after a clean audit reads nothing again only if nothing
// was done in between: a write through the handle (an exec, a keeper exec
// or write) or any change of a party's state (a kill) is seen; reading (a
// state, a health check) is not a change.
func TestResetTrustsACleanAuditOnlyIfNothingWasDone(t *testing.T) {
	ctx := context.Background()
	c, _, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	if cluster.UnchangedSinceClean(ctx, c) {
		t.Fatal("a cluster never found clean is taken as unchanged")
	}
	for _, tc := range []struct {
		name    string
		do      func() error
		changes bool
	}{
		{"nothing", func() error { return nil }, false},
		{"a state read", func() error { _, err := c.Party(2).State(ctx); return err }, false},
		{"a health check", func() error { _, err := c.Party(2).HealthCheck(ctx, "live"); return err }, false},
		{"an exec in a party", func() error { _, err := c.Party(2).Exec(ctx, "rm", "/tmp/x"); return err }, true},
		{"an exec as root", func() error { _, err := c.Party(3).ExecAs(ctx, "0:0", "chmod", "000", "/keys"); return err }, true},
		{"a copy into a party", func() error { return c.Party(1).CopyIn(ctx, []byte("x"), "/etc/hosts", 0o644) }, true},
		{"a keeper exec", func() error { _, err := c.KeeperExec(ctx, "rm", "/vaults/p1/keys/x"); return err }, true},
		{"a keeper write", func() error { return c.WriteFile(ctx, "/vaults/p1/config/config.toml", []byte("x"), 0o600) }, true},
		{"a kill", func() error { return c.Party(4).Kill(ctx) }, true},
		// Refused by this backend, but on Kubernetes kubectl exec or a helm
		// upgrade may change files without a restart: counted all the same.
		{"an operator's kubectl", func() error { _, _ = c.Operate(ctx, "kubectl", "exec", "p1", "--", "rm", "/keys/x"); return nil }, true},
	} {
		if err := cluster.MarkClean(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := tc.do(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := !cluster.UnchangedSinceClean(ctx, c); got != tc.changes {
			t.Errorf("after %s: changed %v, want %v", tc.name, got, tc.changes)
		}
	}
}
