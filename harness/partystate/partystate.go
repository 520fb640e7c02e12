// Package partystate reads what an operator sees of each party: its
// container's state and restarts, and the grade and peers its own
// kms-health-check reports. 'kmschaos status' prints it; the game day's
// live view shows it.
package partystate

import (
	"context"
	"strings"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/probe"
)

// Party is one party as an operator sees it.
type Party struct {
	Party     int    `json:"party"`
	State     string `json:"state"` // running, paused, restarting, exited, ...
	Restarts  int    `json:"restarts"`
	OOMKilled bool   `json:"oom_killed,omitempty"`
	ExitCode  *int   `json:"exit_code,omitempty"` // of the container, when it is not running and the backend saw it
	// Health is the grade kms-health-check's report inside the party
	// gives the cluster (Optimal, Healthy, Degraded, Unhealthy: its
	// context's line, probe.Report.Grade), "" when it could not run (the
	// party is down or frozen); HealthExit its exit code.
	Health     string `json:"health"`
	HealthExit *int   `json:"health_exit"`
	// PeersUp of Peers the party's health check reached (nil when it
	// could not run).
	PeersUp *int   `json:"peers_up,omitempty"`
	Peers   int    `json:"peers,omitempty"`
	Error   string `json:"error,omitempty"`
}

// healthTimeout bounds one party's health check: it may wait out a
// peer's timeout, not forever.
var healthTimeout = fixtures.Intervals.Probe.PartyHealth

// Read reads party i: its container's state, then its health check if it
// can run one (running, neither paused nor restarting).
func Read(ctx context.Context, c *cluster.Cluster, i int) Party {
	ps := Party{Party: i}
	st, err := c.Party(i).State(ctx)
	if err != nil {
		ps.State, ps.Error = "unknown", err.Error()
		return ps
	}
	ps.State, ps.Restarts, ps.OOMKilled = st.Status, st.RestartCount, st.OOMKilled
	if !st.Running && st.ExitKnown {
		ps.ExitCode = &st.ExitCode
	}
	if !st.Running || st.Paused || st.Restarting {
		return ps
	}
	hctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	r, err := probe.Live(hctx, c, i)
	if r.Text != "" || err == nil {
		code := r.ExitCode
		ps.HealthExit, ps.Health = &code, r.Grade()
		if up, total, ok := r.PeersReachable(); ok {
			ps.PeersUp, ps.Peers = &up, total
		}
	}
	if err != nil {
		ps.Error = oneLine(err.Error())
	}
	return ps
}

// ReadAll reads every party at once: a health check may wait out a
// peer's timeout, and n of them one after the other would add up.
func ReadAll(ctx context.Context, c *cluster.Cluster) []Party {
	out := make([]Party, c.Topology.N)
	_ = c.EachParty(func(i int) error {
		out[i-1] = Read(ctx, c, i)
		return nil
	})
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
