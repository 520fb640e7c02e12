package gameday

import (
	"context"
	"fmt"

	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/results"
)

// Section is the section of a game day's rows in the results store: each
// hidden fault is a row, named by its kind, so 'kmschaos history
// --section "game day"' and 'compare' read game days as they read the
// catalog.
const Section = "game day"

// RunOf is the game day as a run of the results store: one row per
// hidden fault — detected when the players first named it right (TTD),
// recovered when they brought it back themselves or through the
// coordinator (TTR from its injection), passed when they did and nothing
// saw a wrong value; a fault the game day ended before injecting is a
// skipped row.
func RunOf(s *State, diags []Diagnosis, notes []Note) *report.Run {
	wrongs := len(Wrongs(s, notes))
	run := &report.Run{
		Seed: s.Seed, N: s.Cluster.N, T: s.Cluster.T, Backend: s.Cluster.Backend,
		Started: s.Started, Duration: s.Ended.Sub(s.Started), Machine: report.Machine(), Processes: 1,
	}
	for _, r := range Results(s, diags) {
		row := report.Scenario{
			Name: "game day: " + r.Kind, Section: Section, Kind: r.Kind, Fault: r.Name, Parties: r.Parties,
			Started: r.InjectedAt, Detected: r.Diagnosed, TTD: r.FirstRight,
			Recovered: r.Recovered, TTR: r.TTR, RecoveredBy: r.RecoveredBy, Duration: r.TTR, // on from injection to recovery
			Ops: r.Ops, Keys: s.Keys, DataIntact: s.Keys == report.KeysIntact,
			Passed: r.Recovered && wrongs == 0, // a fault never injected was not recovered
		}
		switch {
		case r.InjectError != "":
			row.Skipped = "not injected: " + r.InjectError
		case r.InjectedAt.IsZero():
			row.Skipped = "not injected: the game day ended first"
		case !r.Recovered:
			row.Error = r.Target + ": " + r.By
		case wrongs > 0:
			row.Error = fmt.Sprintf("%d wrong value(s) during the game day", wrongs)
		}
		run.Scenarios = append(run.Scenarios, row)
	}
	return run
}

// record records the ended game day in its results store, if it has one,
// and writes the outcome into the state: the run's id, or why not. A
// failure is no failure of the game day: its reports stand.
func record(ctx context.Context, s *State, diags []Diagnosis, notes []Note, image string) {
	if s.Results == "" {
		return
	}
	sess, err := results.Begin(ctx, s.Results, s.Labels, "")
	if err == nil {
		s.Recorded, err = sess.Finish(ctx, RunOf(s, diags, notes), image, "") // its page is a game day's, not a scorecard: points link to the run's row
	}
	if err != nil {
		s.RecordError = err.Error()
	}
}
