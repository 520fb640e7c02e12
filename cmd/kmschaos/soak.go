package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/soak"
)

// redSoak is soak-report's verdict when a run had a red: the report is
// written; the exit status is 1.
type redSoak struct{ red, runs int }

func (e redSoak) Error() string {
	return fmt.Sprintf("%d of %d runs had a red: see the report's Failures", e.red, e.runs)
}

func soakReportCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "soak-report RUN-DIR...",
		Short: "Aggregate the scorecards of several runs into soak.md and soak.json",
		Long: `soak-report reads the scorecard.json each run of the catalog left in its
directory (make soak gives every run its own, reports/soak/run-N, and a fresh
KMSCHAOS_SEED) and writes, into --out:

  soak.md    the runs and their seeds, a table scenario x run with pass or
             FAIL and the reason, each scenario's flake rate and the spread
             (min / median / max) of its time-to-detect and time-to-recover,
             then every failure's reason in full with the seed to replay it
  soak.json  the same for machines

A run directory without a scorecard.json is a run that did not finish: it
counts as red. An exit-status file in a run directory (the suite's, written by
make soak) makes a run red that failed outside any scenario.

Exit status: 0 if every run was green, 1 if any had a red (the report is
written either way), 2 if an input is not what it should be (the message
names the file, the line and the offending text).`,
		Example: `  make soak RUNS=5                                  # runs the catalog and calls this
  kmschaos soak-report --out reports reports/soak/run-*`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			if err := writableDir("--out", out); err != nil {
				return err
			}
			rep, err := soak.Load(dirs)
			if err != nil {
				return err
			}
			paths, err := rep.WriteFiles(out)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), rep.Verdict())
			fmt.Fprintf(cmd.OutOrStdout(), "soak report written to %s and %s\n", paths[0], paths[1])
			if rep.RedRuns > 0 {
				return redSoak{rep.RedRuns, len(rep.Runs)}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "reports", "directory to write soak.md and soak.json into")
	return c
}
