package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/gameday"
	"github.com/kmschaos/kmschaos/harness/manual"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/runbook"
	"github.com/kmschaos/kmschaos/harness/verdict"
)

// runbookFailed is a runbook that ran and did not pass: what failed is
// printed already; the exit status is 1.
type runbookFailed struct{ name string }

func (e runbookFailed) Error() string { return fmt.Sprintf("runbook %q did not pass", e.name) }

func runbookRunCmd() *cobra.Command {
	var run, db string
	var party int
	var vars, tags []string
	var within time.Duration
	c := &cobra.Command{
		Use:   "run FILE.yaml --party N [--var name=value]... [--tag K=V]... [--db STORE] [--run ID]",
		Short: "Run a runbook file against the running cluster, judged as in a scenario",
		Long: `run runs one runbook file for real against the cluster (--run, or the only one
running), about party N ({{party}}), and judges it as a scenario judges its
runbooks: every step must do what its expect says; then the cluster must be
steady (every party Optimal, a fresh value decrypting right through every
party) within --within, every party's key material as the baseline, and
nothing left different from the baseline (the mesh, each party's state,
limits and stored objects) besides what the runbook declares it renews or
sets as a new baseline.

It prints each step as it ends, with its outcome and the time it took, and
exits 0 if every step and check passed, 1 if one did not.

A judged runbook run is recorded in the results store ('kmschaos history')
as a run of one row, "runbook NAME" in the section "runbook run", with the
labels --tag and KMSCHAOS_LABELS give (--db, KMSCHAOS_DB: the store).

Variables: the built-in ones ('kmschaos runbook vars') come from the
cluster and --party; --var overrides them or supplies those the runbook
declares under vars: (peer_ip_port follows from peer). A runbook that is
invalid, a party out of range, or a declared variable without a value
exits 2 before any step runs.

A heal step undoes the faults injected by hand ('kmschaos inject') that
touch the party. An escalate step asks the network coordinator about the
party's network: during a game day it is the players' escalation ('kmschaos
gameday escalate'), and fails if the coordinator found nothing to fix;
outside one the harness, standing for the coordinator, heals as a heal step.

During a game day the runbook is judged on what it touches: the party it is
about and every party its engine steps and execs act on (all of them for
"all"); a runbook that names no party of its own touches only --party. Its
steps' "every party Optimal", the steady state and the key material look at
those parties (each Optimal, or missing only parties beyond them). That the
cluster still differs from its baseline elsewhere — another hidden fault —
is printed as a note, not a failure; what differs is not told.`,
		Example: `  kmschaos runbook run runbooks/graceful-restart.yaml --party 2
  kmschaos runbook run runbooks/start-parties.yaml --party 1 --var targets=3,4
  kmschaos runbook run runbooks/dns-recovery.yaml --party 1 --var peer=3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := runbook.Load(args[0])
			if err != nil {
				fmt.Fprintln(cmd.OutOrStdout(), err)
				return invalidRunbooks(1)
			}
			supplied, err := parseVars(vars)
			if err != nil {
				return err
			}
			// A --var the runbook cannot use is a typo, not a no-op.
			for name := range supplied {
				if !slices.Contains(rb.Vars, name) && !slices.ContainsFunc(runbook.Builtins, func(v runbook.Var) bool { return v.Name == name }) {
					return badInputf("--var %s: %s neither declares it under vars: nor has it built in ('kmschaos runbook vars')", name, args[0])
				}
			}
			if party < 1 {
				return badInputf("--party N: the party the runbook is about (1 to n)")
			}
			ctx := cmd.Context()
			rec, err := beginRecording(ctx, db, tags)
			if err != nil {
				return err
			}
			c, err := attach(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if party > c.Topology.N {
				return badInputf("--party %d: out of range, the cluster has parties 1 to %d", party, c.Topology.N)
			}
			supplied = runbook.DeriveVars(c, party, supplied)
			if err := rb.CheckVars(supplied); err != nil {
				return badInputf("%s: %v (give them with --var name=value; 'kmschaos runbook vars' says what they mean)", args[0], err)
			}
			start := time.Now()
			err = runRunbook(ctx, c, rb, party, supplied, within, cmd.OutOrStdout())
			var failed runbookFailed
			if err == nil || errors.As(err, &failed) {
				// Judged, passed or not: recorded as a run of one row.
				rec.FinishAndSay(ctx, runbookRow(c, rb, start, err == nil), c.Images.Party, "", cmd.OutOrStdout(), cmd.ErrOrStderr()) // no report page
			}
			return err
		},
	}
	countFlag(c.Flags(), &party, "party", "p", 0, "the party the runbook is about: {{party}} (1 to n)")
	c.Flags().StringArrayVar(&vars, "var", nil, "a variable, name=value: one the runbook declares, or an override of a built-in one")
	durationFlag(c.Flags(), &within, "within", 90*time.Second, false, "how long the cluster may take to be steady after the last step")
	tagFlag(c, &tags)
	dbFlag(c, &db)
	runFlag(c, &run)
	return c
}

// runbookRow is a judged runbook run as the results store keeps it: a run
// of one row named "runbook NAME" in the section "runbook run", its TTR
// the runbook's time until the cluster was judged.
func runbookRow(c *cluster.Cluster, rb *runbook.Runbook, start time.Time, passed bool) *report.Run {
	took := time.Since(start)
	return &report.Run{N: c.Topology.N, T: c.Topology.T, Backend: c.Backend(), Started: start, Duration: took, Machine: report.Machine(),
		Scenarios: []report.Scenario{{Name: "runbook " + rb.Name, Section: "runbook run", Kind: "runbook", Started: start, Duration: took,
			Runbook: rb.Name, Recovered: passed, TTR: took, Passed: passed}}}
}

// parseVars reads --var name=value.
func parseVars(vars []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, badInputf("--var %q: write name=value", v)
		}
		out[strings.TrimSpace(k)] = val
	}
	return out, nil
}

// runRunbook runs rb and judges it; a runbook that did not pass is a
// runbookFailed (exit 1), every reason printed.
func runRunbook(ctx context.Context, c *cluster.Cluster, rb *runbook.Runbook, party int, vars map[string]string, within time.Duration, w io.Writer) error {
	start := time.Now()
	fmt.Fprintf(w, "runbook %s on party %d of cluster %s (%s)\n", rb.Name, party, c.RunID, rb.Source)
	n := 0
	heal := func(ctx context.Context) error { return manual.HealParty(ctx, c, party) }
	env := &runbook.Env{C: c, Party: party, Vars: vars, Heal: heal,
		Escalate: gameday.StepEscalate(c, party, time.Minute, heal),
		OnStep: func(s report.Step) {
			n++
			fmt.Fprintf(w, "  %2d. %-4s %-50s %6s  %s\n", n, okFail(s.OK), s.Name, s.Took.Round(100*time.Millisecond), s.Command)
			if s.Error != "" {
				fmt.Fprintf(w, "      %s\n", s.Error)
			}
		}}
	if env.Scope = gameday.JudgedOn(ctx, rb, env); len(env.Scope) > 0 {
		fmt.Fprintf(w, "a game day runs: judged on what it touches, parties %v\n", env.Scope)
	}
	v, err := verdict.Runbook(ctx, rb, env, within, func(ch verdict.Check) {
		outcome := okFail(ch.Err == nil)
		if ch.Err != nil && ch.Name == verdict.LeftCheck && len(env.Scope) > 0 {
			outcome = "note" // a game day's: see RunbookRan
		}
		fmt.Fprintf(w, "  check %-4s %s (%s)\n", outcome, ch.Name, ch.At.Round(100*time.Millisecond))
	})
	if err != nil {
		return err
	}
	fails, notes := gameday.RunbookRan(ctx, c, v)
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(fails) > 0 {
		fmt.Fprintf(w, "FAIL runbook %s in %s:\n", rb.Name, time.Since(start).Round(100*time.Millisecond))
		for _, f := range fails {
			fmt.Fprintf(w, "  - %s\n", f)
		}
		return runbookFailed{rb.Name}
	}
	fmt.Fprintf(w, "PASS runbook %s in %s\n", rb.Name, time.Since(start).Round(100*time.Millisecond))
	return nil
}

func okFail(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAIL"
}
