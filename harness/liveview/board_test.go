package liveview

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/gameday"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/kms/health"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// fakeCluster is an n=4 cluster in memory whose parties' health checks
// grade what they reach as the real tool does: every party running.
func fakeCluster(t *testing.T) (*cluster.Cluster, []*fakebackend.Party) {
	t.Helper()
	c, parties, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	keeper.OnExec = keeper.Files
	for _, p := range parties {
		p.OnExec = func(_ string, cmd []string) cluster.ExecResult {
			if cmd[0] != "kms-health-check" {
				return cluster.ExecResult{}
			}
			up := 0
			for _, q := range parties {
				if st, _ := q.State(context.Background()); st.Running {
					up++
				}
			}
			// As the real tool prints it: overall Healthy, exit 0, the
			// party's grade in its context's line.
			line := map[kmsv1.HealthStatus]string{kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL: "Optimal: All %d peers online and reachable",
				kmsv1.HealthStatus_HEALTH_STATUS_HEALTHY:  "Healthy but not optimal: %d peers ...",
				kmsv1.HealthStatus_HEALTH_STATUS_DEGRADED: "(!!!)  INVESTIGATE: Even with healthy status, explore why %d peers are offline.",
			}[health.Grade(len(parties), up)]
			if line == "" {
				line = "Critical: Only %d peers reachable"
			}
			return cluster.ExecResult{Stdout: fmt.Sprintf("[OK] Overall Status: Healthy - Sufficient majority\n  [PEER STATUS]:\n    %d of %d peers reachable\n\n  "+line+"\n", up-1, len(parties)-1, up-1)}
		}
	}
	return c, parties
}

// The board reads a cluster as 'kmschaos status' does: a party killed
// shows down, its peers' grades fall to Healthy, the quorum counts three
// of four; the game day's truth is on the facilitator's board alone.
func TestBoardReadsTheCluster(t *testing.T) {
	ctx := context.Background()
	c, _ := fakeCluster(t)
	s, err := gameday.Begin(ctx, c, gameday.Options{Seed: 3, Faults: 1, Every: time.Hour, Limit: time.Hour, Kinds: []string{"kill"}, Dir: t.TempDir()}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	read := ReadCluster(c, s.ID)
	var b Board
	f, err := read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, fc := b.Build(f)
	if p.Quorum.Up != 4 || p.Quorum.Grade != "Optimal" || p.GameDay != s.ID || p.Stage != "running" {
		t.Fatalf("before: quorum %+v, game day %q %s; want 4 of 4 Optimal, game day %s running", p.Quorum, p.GameDay, p.Stage, s.ID)
	}
	for _, q := range p.Parties {
		if q.Health != "Optimal" || q.PeersUp == nil || *q.PeersUp != 3 || q.Peers != 3 {
			t.Errorf("before: party %d %+v; want Optimal, 3 of 3 peers", q.Party, q)
		}
	}
	if len(fc.Faults) != 1 || fc.Faults[0].State != "due" || fc.Faults[0].Kind != "kill" {
		t.Fatalf("facilitator's faults %+v; want the kill due", fc.Faults)
	}

	// The fault comes (as the runner injects it), and a halt is pulled.
	target := s.Faults[0].Party
	if err := c.Party(target).Kill(ctx); err != nil {
		t.Fatal(err)
	}
	s.Faults[0].InjectedAt = time.Now().UTC()
	if err := gameday.Save(ctx, c, s); err != nil {
		t.Fatal(err)
	}
	if _, err := halt.Set(ctx, c, halt.Halt{Cause: "test", At: time.Now(), By: halt.ByPerson}); err != nil {
		t.Fatal(err)
	}
	if f, err = read(ctx); err != nil {
		t.Fatal(err)
	}
	p, fc = b.Build(f)
	if p.Quorum.Up != 3 || p.Quorum.Grade != "Healthy" {
		t.Errorf("after the kill: quorum %+v; want 3 of 4, Healthy", p.Quorum)
	}
	for _, q := range p.Parties {
		want := "Healthy"
		if q.Party == target {
			want = ""
		}
		if q.Health != want {
			t.Errorf("after the kill: party %d graded %q (%s); want %q", q.Party, q.Health, q.State, want)
		}
	}
	if p.Halt == nil || p.Halt.Cause != "test" {
		t.Errorf("the players' board shows no halt: %+v", p.Halt)
	}
	if fc.Faults[0].State != "on" || fc.Faults[0].LeftS == nil || *fc.Faults[0].LeftS > 3600 {
		t.Errorf("facilitator's fault %+v; want on, with the time left to the limit", fc.Faults[0])
	}
}

// Diagnoses are shown as said to the players, scored to the
// facilitator; escalations with the answer the players were told, and to
// the facilitator whether they healed a fault.
func TestBoardScoresDiagnosesForTheFacilitatorOnly(t *testing.T) {
	s := standIn(time.Now())
	f := &Facts{At: s.Started.Add(time.Minute), Run: "r", N: 4, T: 1, State: s, Diagnoses: []gameday.Diagnosis{
		{At: s.Started.Add(30 * time.Second), Party: 3, Kind: "kill", Text: "it exited"},
		{At: s.Started.Add(40 * time.Second), Party: 1, Kind: "pause"},
	}}
	s.Escalations = []gameday.Escalation{
		{At: s.Started.Add(50 * time.Second), Party: 3, Ask: "party 3 cannot reach us", Answer: "done", Healed: []int{1}},
		{At: s.Started.Add(55 * time.Second), Party: 2, Ask: "party 2 is slow", Answer: "nothing to do"},
	}
	var b Board
	p, fc := b.Build(f)
	if len(p.Asked) != 2 || p.Asked[0].Ask != "party 3 cannot reach us" || p.Asked[1].Answer != "nothing to do" {
		t.Errorf("players' escalations %+v", p.Asked)
	}
	if len(fc.Answered) != 2 || !fc.Answered[0] || fc.Answered[1] {
		t.Errorf("facilitator's escalations answered %v; want right, wrong", fc.Answered)
	}
	if len(p.Said) != 2 || p.Said[0].Kind != "kill" {
		t.Fatalf("players' diagnoses %+v", p.Said)
	}
	if fc.Wrong != 1 || !fc.Scored[0].Right || fc.Scored[0].Fault != 1 || fc.Scored[1].Right {
		t.Errorf("scored %+v, %d wrong; want the first right (fault 1), the second wrong", fc.Scored, fc.Wrong)
	}
}

// A view is of one game day: one that followed it on the cluster is not
// shown under the first one's token.
func TestBoardIsOfOneGameDay(t *testing.T) {
	ctx := context.Background()
	c, _ := fakeCluster(t)
	s, err := gameday.Begin(ctx, c, gameday.Options{Seed: 3, Faults: 1, Every: time.Hour, Limit: time.Hour, Kinds: []string{"kill"}, Dir: t.TempDir()}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReadCluster(c, "0ld1d")(ctx)
	if want := "game day 0ld1d is over and game day " + s.ID + " runs now"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("reading another game day's view: %v; want %q", err, want)
	}
}

// A fault's lane ends as the report says it ended: recovered by the
// players, also through the coordinator; healed by the harness.
func TestBoardLaneEndsAsTheReportSays(t *testing.T) {
	for by, want := range map[string]string{gameday.ByPlayers: "recovered", gameday.ByCoordinator: "recovered", gameday.ByHarness: "healed"} {
		s := standIn(time.Now())
		s.Faults[0].RecoveredAt, s.Faults[0].RecoveredBy = s.Started.Add(time.Minute), by
		var b Board
		_, fc := b.Build(&Facts{At: s.Started.Add(90 * time.Second), Run: "r", N: 4, T: 1, State: s})
		if l := fc.Faults[0]; l.State != want || l.EndS == nil {
			t.Errorf("a fault recovered by %q: lane %q (end %v); want %q with its end", by, l.State, l.EndS, want)
		}
	}
}
