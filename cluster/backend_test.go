package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/kms/tss"
)

func TestAssembleRefusesPartsOfTheWrongShape(t *testing.T) {
	four := func() []cluster.Workload {
		var ws []cluster.Workload
		for range 4 {
			ws = append(ws, fakebackend.NewParty("p"))
		}
		return ws
	}
	topo := cluster.Topology{N: 4, T: 1}
	key := &tss.PublicKey{KeyID: "k", N: 4, T: 1}
	drv := &fakebackend.Driver{}
	for _, tc := range []struct {
		name  string
		parts cluster.Parts
		want  string
	}{
		{"a topology beyond t", cluster.Parts{Driver: drv, Topology: cluster.Topology{N: 4, T: 2}, Parties: four(), Keeper: fakebackend.NewKeeper(), Key: key}, "t="},
		{"too few parties", cluster.Parts{Driver: drv, Topology: topo, Parties: four()[:3], Keeper: fakebackend.NewKeeper(), Key: key}, "3 party workloads"},
		{"a missing party", cluster.Parts{Driver: drv, Topology: topo, Parties: append(four()[:3], nil), Keeper: fakebackend.NewKeeper(), Key: key}, "party 4 has no workload"},
		{"no keeper", cluster.Parts{Driver: drv, Topology: topo, Parties: four(), Key: key}, "no keeper"},
		{"no key", cluster.Parts{Driver: drv, Topology: topo, Parties: four(), Keeper: fakebackend.NewKeeper()}, "no public key"},
		{"no driver", cluster.Parts{Topology: topo, Parties: four(), Keeper: fakebackend.NewKeeper(), Key: key}, "no driver"},
		{"endpoints of another size", cluster.Parts{Driver: drv, Topology: topo, Parties: four(), Keeper: fakebackend.NewKeeper(), ClientEndpoints: []string{"a:1"}, Key: key}, "1 endpoints"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cluster.Assemble(tc.parts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Assemble: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// A party's every verb reaches its workload, with the profile's user for
// Exec and root for ExecAs "0:0"; the keeper's reads and writes reach the
// keeper.
func TestAPartyActsThroughItsWorkload(t *testing.T) {
	ctx := context.Background()
	c, parties, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	parties[0].OnExec = func(user string, cmd []string) cluster.ExecResult {
		users = append(users, user)
		return cluster.ExecResult{Stdout: strings.Join(cmd, " ")}
	}
	p := c.Party(1)
	if res, err := p.HealthCheck(ctx, "live"); err != nil || res.Stdout != "kms-health-check live" {
		t.Fatalf("health check: %q %v", res.Stdout, err)
	}
	if _, err := p.ExecAs(ctx, "0:0", "id"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(users, ",") != cluster.SimulatedParty.User+",0:0" {
		t.Fatalf("exec users %q, want the party's then root", users)
	}
	parties[0].Log("a line before")
	mark := time.Now()
	parties[0].Log("a line after")
	if logs, err := p.LogsSince(ctx, mark); err != nil || logs != "a line after\n" {
		t.Fatalf("logs since the mark: %q %v, want only the line after it", logs, err)
	}
	if logs, err := p.Logs(ctx); err != nil || !strings.Contains(logs, "a line before") {
		t.Fatalf("the whole log: %q %v", logs, err)
	}
	for _, verb := range []func(context.Context) error{p.Pause, p.Resume, p.Kill, p.Start} {
		if err := verb(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(parties[0].Calls(), ","), "exec kms-health-check live,exec id,pause,resume,kill,start"; got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if err := c.WriteFile(ctx, "/vaults/p1/keys/x", []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := keeper.CopyOut(ctx, "/vaults/p1/keys/x"); err != nil || string(b) != "hello" {
		t.Fatalf("keeper holds %q %v", b, err)
	}
	if b, err := c.ReadFile(ctx, "/vaults/p1/keys/x"); err != nil || string(b) != "hello" {
		t.Fatalf("ReadFile %q %v", b, err)
	}
}

// Records go through the keeper's Shell: a missing one is no record, a
// keeper that is gone is an error (Shell's contract, fs.ErrNotExist).
func TestARecordIsMissingOnlyWhenTheKeeperSaysSo(t *testing.T) {
	ctx := context.Background()
	c, _, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Record(ctx, "fault-1"); ok || err != nil {
		t.Fatalf("a missing record: ok %v, %v; want none and no error", ok, err)
	}
	if err := c.PutRecord(ctx, "fault-1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := c.Record(ctx, "fault-1"); !ok || err != nil || string(b) != "x" {
		t.Fatalf("a record written: %q ok %v, %v", b, ok, err)
	}
	keeper.Gone = true
	if _, ok, err := c.Record(ctx, "fault-1"); ok || err == nil {
		t.Fatalf("a record read from a gone keeper: ok %v, %v; want an error", ok, err)
	}
}

// Update's rule: a zero field keeps what the party has.
func TestResourcesOver(t *testing.T) {
	cur := cluster.Resources{Memory: 256 << 20, NanoCPUs: 2e9}
	for _, c := range []struct{ r, want cluster.Resources }{
		{cluster.Resources{}, cur},
		{cluster.Resources{NanoCPUs: 2e8}, cluster.Resources{Memory: 256 << 20, NanoCPUs: 2e8}},
		{cluster.Resources{Memory: 8 << 20}, cluster.Resources{Memory: 8 << 20, NanoCPUs: 2e9}},
		{cluster.Resources{Memory: 1 << 20, NanoCPUs: 1e9}, cluster.Resources{Memory: 1 << 20, NanoCPUs: 1e9}},
	} {
		if got := c.r.Over(cur); got != c.want {
			t.Errorf("%+v over %+v = %+v, want %+v", c.r, cur, got, c.want)
		}
	}
}
