package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/results"
	"github.com/kmschaos/kmschaos/harness/trends"
	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// dbFlag is --db: the results store (results.Where).
func dbFlag(c *cobra.Command, db *string) {
	c.Flags().StringVar(db, "db", "", "results store: a SQLite file or a postgres:// URL (default: $KMSCHAOS_DB, else "+results.DefaultPath()+")")
}

func tagFlag(c *cobra.Command, tags *[]string) {
	c.Flags().StringArrayVar(tags, "tag", nil, "a label recorded with the run, key=value, e.g. release=1.4.2 (repeatable; also KMSCHAOS_LABELS=k=v,k2=v2)")
}

// beginRecording opens the results store before a run starts: a store
// that cannot be used, or a label without =, is bad input naming it.
func beginRecording(ctx context.Context, db string, tags []string) (*results.Session, error) {
	labels, err := results.ParseLabels("--tag", tags, os.Getenv("KMSCHAOS_LABELS"))
	if err != nil {
		return nil, badInputf("%s", err)
	}
	root, _ := localcluster.ModuleRoot()
	s, err := results.Begin(ctx, results.Where(db), labels, root)
	if err != nil {
		return nil, badInputf("%s", err)
	}
	return s, nil
}

func historyCmd() *cobra.Command {
	var db, scenario, section, backend, since, page string
	var labels []string
	var last, limit int
	var out output
	c := &cobra.Command{
		Use:   "history [RUN-ID] [--label K=V]... [--scenario NAME] [--section S] [--backend B] [--since T] [--last N]",
		Short: "Runs recorded in the results store, and each scenario's last verdicts, TTD and TTR",
		Long: `history reads the results store, where every run is recorded (the test
suite, 'kmschaos run', 'runbook run', a game day — its hidden faults as
rows of the section "game day"): when, seed, backend, n and t,
the project's commit, the party image, the labels given to it ('kmschaos run
--tag release=1.4.2', KMSCHAOS_LABELS=release=1.4.2,ci=yes), and per
scenario its verdict, TTD, TTR, time by phase, who recovered, operations
and key material.

It prints the runs the filters select, newest first, then per scenario of
those runs its last --last verdicts, newest first, with the TTD and TTR of
each: whether a scenario started flaking, whether its recovery got slower.
A RUN-ID shows that run alone. --html FILE writes the same runs as one
self-contained page instead (no script, nothing fetched): per scenario its
TTD and TTR over every run listed (--last does not apply), its pass rate and
whether it is flaky (both passed and failed), the same per guide section,
and the runs; each point links to its run's report. Filters combine (all
must hold):

  --label K=V     runs recorded with this label (repeatable)
  --scenario NAME runs that ran it, and only its history
  --section S     runs that ran a scenario of the guide's section S, and only those
  --backend B     docker or kubernetes
  --since T       runs started at or after T: a date (2026-12-01), a time
                  (2026-12-01T10:00:00Z) or an age (72h)

The store is a SQLite file, ` + results.DefaultPath() + ` unless --db or
KMSCHAOS_DB names another (a file, or postgres://user@host/db for a store
a team shares). Exit 2 for bad input, naming the closest known value: an
unknown run id, label, scenario or section, a label without =, a store
that cannot be read.`,
		Example: `  kmschaos history
  kmschaos history --label release=1.4.2 --last 10
  kmschaos history --scenario "a refused client link is reported as [FAIL] Cannot connect, fast"
  kmschaos history --section "Connectivity Issues" --since 168h --output json
  kmschaos history --label release=1.4.2 --limit 30 --html reports/trends.html
  KMSCHAOS_DB=postgres://kmschaos@db.example/results kmschaos history 3f2a9c01b7e4`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			if page != "" && out.json() {
				return badInputf("--html and --output json: give one (the page, or JSON)")
			}
			f := results.Filter{Scenario: scenario, Section: section, Backend: backend}
			if len(args) == 1 {
				f.Run = args[0]
			}
			var err error
			if f.Labels, err = results.ParseLabels("--label", labels, ""); err != nil {
				return badInputf("%s", err)
			}
			if since != "" {
				if f.Since, err = parseSince(since, time.Now()); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			store, err := results.Open(ctx, results.Where(db))
			if err != nil {
				return badInputf("%s", err)
			}
			defer func() { _ = store.Close() }()
			runs, err := store.Runs(ctx, f, limit)
			if err != nil {
				return historyError(err)
			}
			if page != "" {
				return writeTrends(ctx, cmd.OutOrStdout(), store, f, runs, limit, page)
			}
			hist, err := store.Scenarios(ctx, f, last)
			if err != nil {
				return historyError(err)
			}
			if out.json() {
				return writeJSON(cmd.OutOrStdout(), struct {
					Store     string                    `json:"store"`
					Runs      []results.Run             `json:"runs"`
					Scenarios []results.ScenarioHistory `json:"scenarios"`
				}{store.String(), nonNil(runs), nonNil(hist)})
			}
			printHistory(cmd.OutOrStdout(), store.String(), runs, hist, limit)
			return nil
		},
	}
	dbFlag(c, &db)
	c.Flags().StringArrayVarP(&labels, "label", "l", nil, "only runs recorded with this label, key=value (repeatable)")
	c.Flags().StringVar(&scenario, "scenario", "", "only runs of this scenario, and only its history")
	c.Flags().StringVar(&section, "section", "", "only runs of this guide section's scenarios, and only theirs")
	c.Flags().StringVar(&backend, "backend", "", "only runs on this backend (docker, kubernetes)")
	c.Flags().StringVar(&since, "since", "", "only runs started since: a date, an RFC 3339 time, or an age like 72h")
	countFlag(c.Flags(), &last, "last", "", 5, "verdicts shown per scenario")
	countFlag(c.Flags(), &limit, "limit", "", 20, "runs listed at most")
	c.Flags().StringVar(&page, "html", "", "write the runs' trends as one HTML page at FILE instead of printing them")
	outputFlag(c, &out)
	return c
}

// writeTrends writes the trends page of runs (trends.Build) at path, with
// every verdict of each scenario in those runs, and says where.
func writeTrends(ctx context.Context, w io.Writer, store *results.Store, f results.Filter, runs []results.Run, limit int, path string) error {
	// A scenario runs at most once a run: its last limit verdicts cover
	// the runs listed (trends.Build drops older ones).
	hist, err := store.Scenarios(ctx, f, max(limit, 1))
	if err != nil {
		return historyError(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return badInputf("--html %q: %s", path, err)
	}
	p := trends.Build(trends.Input{Store: store.String(), Filter: f, Limit: limit, Runs: runs, Scenarios: hist,
		PageDir: filepath.Dir(abs), Generated: time.Now()})
	if err := trends.Write(path, p); err != nil {
		return fmt.Errorf("--html %s: %w", path, err)
	}
	fmt.Fprintf(w, "trends of %d runs and %d scenarios in %s: %s\n", len(p.Runs), p.Scenarios, store, path)
	return nil
}

// historyError is an unknown run, label, scenario or section as bad
// input; anything else (the store failing mid-query) as it is.
func historyError(err error) error {
	if errors.Is(err, results.ErrUnknown) {
		return badInputf("%s", err)
	}
	return err
}

// parseSince reads --since: an age before now, a date or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badInputf("--since %q: give a date (2026-12-01), a time (2026-12-01T10:00:00Z) or an age (72h)", s)
}

func printHistory(w io.Writer, store string, runs []results.Run, hist []results.ScenarioHistory, limit int) {
	if len(runs) == 0 {
		fmt.Fprintf(w, "no run recorded in %s matches\n", store)
		return
	}
	fmt.Fprintf(w, "runs in %s, newest first", store)
	if len(runs) == limit {
		fmt.Fprintf(w, " (the last %d; --limit for more)", limit)
	}
	fmt.Fprintln(w, ":")
	fmt.Fprintf(w, "  %-12s  %-16s  %-10s  %-6s  %-12s  %-13s  %s\n", "RUN", "STARTED (UTC)", "BACKEND", "N/T", "COMMIT", "PASS/FAIL/SKIP", "LABELS")
	for _, r := range runs {
		fmt.Fprintf(w, "  %-12s  %-16s  %-10s  %-6s  %-12s  %-13s  %s\n", r.ID, r.Started.UTC().Format("2006-01-02 15:04"), r.Backend,
			fmt.Sprintf("%d/%d", r.N, r.T), orDash(shortCommit(r.Commit)), fmt.Sprintf("%d/%d/%d", r.Passed, r.Failed, r.Skipped), orDash(results.FormatLabels(r.Labels)))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "scenarios, their last verdicts newest first (TTD / TTR of each):")
	section := ""
	for _, h := range hist {
		if h.Section != section {
			section = h.Section
			fmt.Fprintf(w, "  %s\n", section)
		}
		fmt.Fprintf(w, "    %s\n", h.Name)
		for _, v := range h.Last {
			fmt.Fprintf(w, "      %-4s  TTD %-8s  TTR %-8s  run %s  %s\n", v.Verdict, fmtDur(v.TTD), fmtDur(v.TTR), v.Run, v.Started.UTC().Format("2006-01-02 15:04"))
		}
	}
}

func shortCommit(c string) string {
	if len(c) > 12 && !strings.HasSuffix(c[:12], "+") {
		dirty := ""
		if strings.HasSuffix(c, "+dirty") {
			dirty = "+"
		}
		return c[:11] + dirty
	}
	return c
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(100 * time.Millisecond).String()
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
