package fault_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/fault"
)

// The process and resource faults act on a party only through the seam
// (cluster.Workload): on a backend in memory they inject and heal exactly
// as on Docker, and a verb the backend lacks comes back as Unsupported.
func TestProcessFaultsRunOnAnyBackend(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		fault      fault.Fault
		injected   []string // the party's calls after Inject
		healed     []string // and after the heal
		whileFault func(cluster.State) bool
	}{
		{fault.Kill(2), []string{"kill"}, []string{"kill", "start"},
			func(s cluster.State) bool { return !s.Running && s.ExitCode == 137 }},
		{fault.Stop(2), []string{"stop"}, []string{"stop", "start"},
			func(s cluster.State) bool { return !s.Running }},
		{fault.Pause(2), []string{"pause"}, []string{"pause", "resume"},
			func(s cluster.State) bool { return s.Paused }},
		{fault.CPUQuota(2, 0.25), []string{"update memory=0 cpus=250000000"}, []string{"update memory=0 cpus=250000000", "update memory=0 cpus=4000000000"},
			func(s cluster.State) bool { return s.NanoCPUs == 250_000_000 }},
		{fault.MemoryLimit(2, 8<<20), []string{"stop", "update memory=8388608 cpus=0", "start"},
			[]string{"stop", "update memory=8388608 cpus=0", "start", "update memory=268435456 cpus=0"},
			func(s cluster.State) bool { return s.Memory == 8<<20 }},
	} {
		t.Run(tc.fault.Name(), func(t *testing.T) {
			c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{Memory: 256 << 20, NanoCPUs: 4e9})
			if err != nil {
				t.Fatal(err)
			}
			p := parties[1]
			heal, err := tc.fault.Inject(ctx, c)
			if err != nil {
				t.Fatalf("inject: %v", err)
			}
			if got := p.Calls(); !slices.Equal(got, tc.injected) {
				t.Fatalf("after inject, party 2 was told %q, want %q", got, tc.injected)
			}
			if st, _ := p.State(ctx); !tc.whileFault(st) {
				t.Fatalf("after inject, party 2 is %+v", st)
			}
			if err := heal(ctx); err != nil {
				t.Fatalf("heal: %v", err)
			}
			if got := p.Calls(); !slices.Equal(got, tc.healed) {
				t.Fatalf("after heal, party 2 was told %q, want %q", got, tc.healed)
			}
			for i, other := range parties {
				if i != 1 && len(other.Calls()) > 0 {
					t.Fatalf("party %d was told %q: the fault is on party 2 only", i+1, other.Calls())
				}
			}
		})
	}
}

func TestAFaultABackendCannotInjectIsUnsupported(t *testing.T) {
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	parties[2].Unsupported = []string{"pause"}
	heal, err := fault.Pause(3).Inject(context.Background(), c)
	if !cluster.IsUnsupported(err) {
		t.Fatalf("pause on a backend without it: %v, want an Unsupported error", err)
	}
	if heal == nil {
		t.Fatal("no heal returned with the error: nothing to undo what was done")
	}
	if err := heal(context.Background()); err != nil {
		t.Fatalf("healing a fault that was refused: %v", err)
	}
}

// Filling one party's disk where the volumes share a filesystem would
// fill every party's: the fault is unsupported there, and nothing is
// written.
func TestDiskFullNeedsVolumesOfTheirOwn(t *testing.T) {
	c, _, keeper, err := fakebackend.ClusterOn(&fakebackend.Driver{Unsized: true}, 4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	var ran [][]string
	keeper.OnExec = func(_ string, cmd []string) cluster.ExecResult { ran = append(ran, cmd); return cluster.ExecResult{} }
	heal, err := fault.DiskFull(2, 95).Inject(context.Background(), c)
	if !cluster.IsUnsupported(err) {
		t.Fatalf("disk full on shared volumes: %v, want Unsupported", err)
	}
	if heal == nil || heal(context.Background()) != nil {
		t.Fatal("no harmless heal returned with the refusal")
	}
	if len(ran) != 0 {
		t.Errorf("the keeper ran %q for a refused fault", ran)
	}
	// On volumes of their own the same fault fills the party's keys volume.
	sized, _, keeper, err := fakebackend.ClusterOn(&fakebackend.Driver{}, 4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	keeper.OnExec = func(_ string, cmd []string) cluster.ExecResult { ran = append(ran, cmd); return cluster.ExecResult{} }
	if _, err := fault.DiskFull(2, 95).Inject(context.Background(), sized); err != nil || len(ran) != 1 || !slices.Contains(ran[0], "fill") {
		t.Errorf("disk full on sized volumes: %v, ran %q", err, ran)
	}
}

// A backend that cannot change limits refuses the memory fault after the
// party was stopped: the heal starts it again, and does not fail on the
// limit it never changed (a skip whose heal fails is a failure).
func TestMemoryLimitOnABackendWithoutUpdate(t *testing.T) {
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	parties[1].Unsupported = []string{"update"}
	heal, err := fault.MemoryLimit(2, 8<<20).Inject(context.Background(), c)
	if !cluster.IsUnsupported(err) {
		t.Fatalf("memory limit on a backend without update: %v, want Unsupported", err)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatalf("healing the refused fault: %v", err)
	}
	st, _ := parties[1].State(context.Background())
	if !st.Running {
		t.Errorf("party 2 was left stopped: %+v (calls %q)", st, parties[1].Calls())
	}
}

// Several parties fail together: every one is acted on (at once, so the
// last goes down when the first does), a party the backend cannot act on
// is named without sparing the others, and the heal brings back all.
func TestAFaultOfSeveralPartiesActsOnEveryOne(t *testing.T) {
	ctx := context.Background()
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	parties[0].Unsupported = []string{"kill"}
	heal, err := fault.Kill(1, 2, 3).Inject(ctx, c)
	if !cluster.IsUnsupported(err) || !strings.Contains(err.Error(), "party 1") || strings.Contains(err.Error(), "party 2") {
		t.Fatalf("kill of 1, 2, 3 where 1 cannot be killed: %v, want Unsupported naming party 1 alone", err)
	}
	for _, k := range []int{1, 2} {
		if st, _ := parties[k].State(ctx); st.Running {
			t.Errorf("party %d still runs: one party the backend cannot kill spared it", k+1)
		}
	}
	if err := heal(ctx); err != nil {
		t.Fatalf("heal: %v", err)
	}
	for k, p := range parties[:3] {
		if st, _ := p.State(ctx); !st.Running {
			t.Errorf("party %d is down after the heal", k+1)
		}
	}
	if len(parties[3].Calls()) > 0 {
		t.Errorf("party 4 was told %q: the fault is on parties 1-3", parties[3].Calls())
	}
}
