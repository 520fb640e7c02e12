package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/guard"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/labelfilter"
	"github.com/kmschaos/kmschaos/harness/lever"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/results"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/harness/secrets"
	"github.com/kmschaos/kmschaos/harness/signals"
	"github.com/kmschaos/kmschaos/kms/localcluster"
	"github.com/kmschaos/kmschaos/scenarios"
)

// scenariosFailed is a run in which some scenario did not pass: exit 1.
type scenariosFailed struct{ failed, of int }

func (e scenariosFailed) Error() string {
	return fmt.Sprintf("%d of %d scenarios failed", e.failed, e.of)
}

func runCmd() *cobra.Command {
	var run, label, reportDir, runbooks, db string
	var tags []string
	var seed uint64
	var grace time.Duration
	c := &cobra.Command{
		Use:   "run (--label EXPR | NAME...) [--seed S] [--report DIR] [--tag K=V]... [--db STORE] [--run ID]",
		Short: "Run catalog scenarios against the running cluster and write the reports",
		Long: `run runs scenarios of the catalog ('kmschaos scenarios') against the cluster
(--run, or the only one running) with the same runner as the test suite:
each returns the cluster to its baseline, injects its faults, waits for the
guide's diagnostics to detect them, runs its runbooks for real, waits for
the recovery and audits the invariants (no wrong decryption, availability
as t allows, key material intact, no fault left).

Name the scenarios, or select them with --label (the suite's label-filter
syntax, as 'kmschaos scenarios --label' takes it). The seed makes the
scenarios' choices (parties, links) — the same seed gives the same
choices as 'go test' with KMSCHAOS_SEED. The reports are those of the
suite: scorecard.txt, scorecard.json, report.html and junit.xml in --report.

The run is recorded in the results store ('kmschaos history'), with the
labels --tag and KMSCHAOS_LABELS give it (key=value). The store is opened
before any scenario runs: one it cannot read stops the command (exit 2).
If recording fails after the run, stderr says so; the reports are written.

Each scenario is printed as it ends: PASS, FAIL, or SKIP with the reason
(the backend cannot offer a verb its fault or runbook needs; not a
failure).

Guard rails: the run halts the cluster ('kmschaos halt': everything
healed, no fault injected until 'kmschaos unhalt') and stops when a
decryption returns a wrong value, or, with --grace, when more than t
parties are out of reach for longer than the grace (off by default: some
catalog scenarios take more than t parties down on purpose, to see the
cluster fail closed). A halt pulled from elsewhere stops it too. On a
halted cluster run is refused; halted, it exits 3.

Exit 0 if none failed, 1 if one did, 2 for bad input (an unknown name — the closest is suggested —
a bad label filter, no cluster).`,
		Example: `  kmschaos run --label connectivity
  kmschaos run "kill one party" --seed 42 --report reports/kill
  kmschaos run --label 'process && !emergency' --run 5e1f0a2b
  kmschaos run --label smoke --tag release=1.4.2 --tag ci=yes`,
		RunE: func(cmd *cobra.Command, names []string) error {
			entries, err := selectScenarios(names, label)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("seed") {
				seed = rand.Uint64() % 1_000_000_000
			}
			if runbooks == "" {
				root, err := localcluster.ModuleRoot()
				if err != nil {
					return badInputf("no --runbooks and no kmschaos module here to find runbooks/ in: run from the repository, or pass --runbooks DIR")
				}
				runbooks = filepath.Join(root, "runbooks")
			} else if fi, err := os.Stat(runbooks); err != nil || !fi.IsDir() {
				return badInputf("--runbooks %s: not a directory of runbook files", runbooks)
			}
			if reportDir != "" {
				if err := writableDir("--report", reportDir); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			rec, err := beginRecording(ctx, db, tags)
			if err != nil {
				return err
			}
			c, err := attach(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if reportDir == "" {
				reportDir = filepath.Join("reports", "run-"+c.RunID+"-"+time.Now().UTC().Format("20060102T150405"))
			}
			return runScenarios(ctx, c, entries, seed, runbooks, reportDir, grace, rec, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	c.Flags().StringVarP(&label, "label", "l", "", "label filter selecting the scenarios, e.g. 'connectivity && !network'")
	c.Flags().Uint64Var(&seed, "seed", 0, "seed of the scenarios' choices (default: random, printed)")
	c.Flags().StringVar(&reportDir, "report", "", "directory of the reports (default reports/run-<run id>-<time>)")
	c.Flags().StringVar(&runbooks, "runbooks", "", "directory of the runbook files (default: runbooks/ of the repository)")
	durationFlag(c.Flags(), &grace, "grace", 0, true, "halt when more than t parties are out of reach longer than this (default 0: off)")
	tagFlag(c, &tags)
	dbFlag(c, &db)
	runFlag(c, &run)
	return c
}

// selectScenarios picks the catalog entries named, or those the label
// filter selects; an unknown name is bad input naming the closest.
func selectScenarios(names []string, label string) ([]scenarios.CatalogEntry, error) {
	all := scenarios.Catalog()
	switch {
	case label != "" && len(names) > 0:
		return nil, badInputf("give scenario names or --label, not both")
	case label == "" && len(names) == 0:
		return nil, badInputf("give scenario names or --label EXPR ('kmschaos scenarios' lists them)")
	}
	if label != "" {
		f, err := labelfilter.Parse(label)
		if err != nil {
			return nil, badInputf("--label %q: %s", label, oneLineError(err))
		}
		var out []scenarios.CatalogEntry
		for _, e := range all {
			if f(e.Labels) {
				out = append(out, e)
			}
		}
		if len(out) == 0 {
			return nil, badInputf("--label %q selects no scenario ('kmschaos scenarios' lists them with their labels)", label)
		}
		return out, nil
	}
	byName := map[string]scenarios.CatalogEntry{}
	var known []string
	for _, e := range all {
		byName[e.Name] = e
		known = append(known, e.Name)
	}
	var out []scenarios.CatalogEntry
	for _, n := range names {
		e, ok := byName[n]
		if !ok {
			return nil, badInputf("unknown scenario %q: did you mean %q? ('kmschaos scenarios' lists them)", n, fault.Nearest(n, known))
		}
		out = append(out, e)
	}
	return out, nil
}

// runScenarios runs the entries one after the other with the suite's
// runner, heals what each registered once it ends (as the suite's
// DeferCleanup does), and writes the suite's reports.
func runScenarios(ctx context.Context, c *cluster.Cluster, entries []scenarios.CatalogEntry, seed uint64, runbooks, dir string, grace time.Duration, rec *results.Session, w, stderr io.Writer) error {
	start := time.Now()
	if err := halt.Refuse(ctx, c); err != nil {
		return err
	}
	// The guard rails, all along: a halt (tripped here or pulled
	// elsewhere) stops the scenario that runs, and the run.
	ctx, halted, unwatch := watchRails(ctx, c, grace)
	defer unwatch()
	// The cluster's secrets, in memory only, and every one it makes while
	// the scenarios run: masked in every captured output, and searched
	// for in the reports at the end.
	tracked, err := secrets.Track(ctx, c)
	if err != nil {
		return fmt.Errorf("reading the cluster's secrets (to keep them out of the reports): %w", err)
	}
	defer tracked.Stop()
	// A Prometheus of the run's own evaluates the shipped alerts.
	alerts := signals.Alerts{Missing: "no prometheus"}
	if p, err := signals.StartPrometheus(ctx); err == nil {
		defer func() { _ = p.Stop() }()
		if err := p.SetTargets(signals.ClusterTargets(c)); err != nil {
			return err
		}
		alerts = signals.Alerts{Prometheus: p}
	} else if !errors.Is(err, signals.ErrNoPrometheus) {
		alerts.Missing = "prometheus did not start: " + err.Error()
	}
	fmt.Fprintf(w, "running %d scenarios on cluster %s (n=%d t=%d), seed %d\n", len(entries), c.RunID, c.Topology.N, c.Topology.T, seed)
	res := &report.Run{Seed: seed, N: c.Topology.N, T: c.Topology.T, Backend: c.Backend(), Started: start, Machine: report.Machine(), RecordedAs: rec.ID()}
	failed, skipped := 0, 0
	for k, e := range entries {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(w, "[%7.1fs] %d/%d %s ...\n", time.Since(start).Seconds(), k+1, len(entries), e.Name)
		var heals []func(context.Context) error
		row, err := scenario.Run(ctx, c, e.Scenario, env.RandFor(seed, e.Name), scenario.Options{
			RunbookDir: runbooks,
			Cleanup:    func(h func(context.Context) error) { heals = append(heals, h) },
			Alerts:     alerts,
		})
		// The heals run last registered first, as Ginkgo's cleanups do.
		for i := len(heals) - 1; i >= 0; i-- {
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			if herr := heals[i](hctx); herr != nil {
				err = errors.Join(err, fmt.Errorf("healing after the scenario: %w", herr))
			}
			cancel()
		}
		if halted() != nil && ctx.Err() != nil {
			err = fmt.Errorf("stopped by the halt, its faults healed: %w", errors.Join(err, ctx.Err()))
		}
		res.Scenarios = append(res.Scenarios, row)
		verdict := "PASS"
		switch {
		case err != nil:
			verdict = "FAIL"
			failed++
		case row.Skipped != "":
			// A verb the backend cannot offer: neither passed nor failed.
			verdict = "SKIP"
			skipped++
		}
		fmt.Fprintf(w, "[%7.1fs] %s %s: detected %v (TTD %s), recovered %v (TTR %s, by %s), ops %d/%d/%d, keys %s\n",
			time.Since(start).Seconds(), verdict, e.Name, row.Detected, row.TTD.Round(time.Millisecond),
			row.Recovered, row.TTR.Round(time.Millisecond), orDash(row.RecoveredBy), row.Ops.OK, row.Ops.Failed, row.Ops.Wrong, row.KeysWord())
		if err != nil {
			for _, line := range strings.Split(secrets.Redact(err.Error()), "\n") {
				fmt.Fprintf(w, "           %s\n", line)
			}
		} else if row.Skipped != "" {
			fmt.Fprintf(w, "           skipped: %s\n", secrets.Redact(row.Skipped))
		}
	}
	res.Duration = time.Since(start)
	if h := halted(); h != nil {
		// What the scenario did after the lever's heal is healed too.
		p, err := lever.Pull(context.WithoutCancel(ctx), c, h.Cause, h.By, time.Now())
		fmt.Fprintf(w, "HALTED after %d of %d scenarios: %s; everything healed (repaired: %s)\n", len(res.Scenarios), len(entries), p.Halt, p.Repaired)
		if rerr := writeRunReports(res, dir, tracked); rerr != nil {
			err = errors.Join(err, rerr)
		} else {
			fmt.Fprintf(w, "reports: %s (scorecard.txt, scorecard.json, report.html, junit.xml)\n", dir)
			rec.FinishAndSay(ctx, res, c.Images.Party, filepath.Join(dir, "report.html"), w, stderr)
		}
		return errors.Join(err, &halt.Error{Halt: p.Halt})
	}
	if err := writeRunReports(res, dir, tracked); err != nil {
		return err
	}
	fmt.Fprintf(w, "reports: %s (scorecard.txt, scorecard.json, report.html, junit.xml)\n", dir)
	rec.FinishAndSay(ctx, res, c.Images.Party, filepath.Join(dir, "report.html"), w, stderr)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted after %d of %d scenarios: %w", len(res.Scenarios), len(entries), ctx.Err())
	}
	if failed > 0 {
		return scenariosFailed{failed, len(entries)}
	}
	if skipped > 0 {
		fmt.Fprintf(w, "%d of %d scenarios passed, %d skipped (not supported on this backend) in %s\n", len(entries)-skipped, len(entries), skipped, time.Since(start).Round(time.Second))
		return nil
	}
	fmt.Fprintf(w, "all %d scenarios passed in %s\n", len(entries), time.Since(start).Round(time.Second))
	return nil
}

// writeRunReports writes the suite's reports (text, JSON, HTML, JUnit) and proves none holds
// a secret of the cluster.
func writeRunReports(r *report.Run, dir string, tracked *secrets.Tracker) error {
	if _, err := r.WriteFiles(dir); err != nil {
		return err
	}
	if err := r.WriteJUnit(filepath.Join(dir, "junit.xml")); err != nil {
		return err
	}
	if err := tracked.Err(); err != nil {
		return fmt.Errorf("the reports cannot be vouched free of secrets: %w", err)
	}
	return secrets.Scan(dir, tracked.Set())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// watchRails watches the cluster's guard rails while the run lasts
// (lever.Watch): ctx ends when the cluster is halted, and halted then
// tells by what. unwatch stops the watch and waits for it.
func watchRails(parent context.Context, c *cluster.Cluster, grace time.Duration) (ctx context.Context, halted func() *halt.Halt, unwatch func()) {
	ctx, cancel := context.WithCancel(parent)
	var h atomic.Pointer[halt.Halt]
	done := make(chan struct{})
	go func() {
		defer close(done)
		// An error is a cluster out of reach for long: its scenarios fail
		// on their own, and nothing is left to halt.
		got, _ := lever.Watch(ctx, c, guard.Limits{T: c.Topology.T, Grace: grace})
		if got != nil {
			h.Store(got)
			cancel()
		}
	}()
	return ctx, h.Load, func() {
		cancel()
		<-done
	}
}
