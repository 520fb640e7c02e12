package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/report"
)

func guideCoverageCmd() *cobra.Command {
	var scorecard, doc, readme string
	cmd := &cobra.Command{
		Use:   "coverage",
		Short: "which signal an operator has showed each fault, and when, as docs/coverage.md lists them",
		Long: `Prints the detection coverage of a run (its scorecard.json): each scenario's
fault against every signal an operator has — the shipped alerts as a real
Prometheus evaluated them, kms-health-check's grade, the container engine,
/health, /live and /ready, the chart's gRPC probes as kubelet would run
them — with the time each first showed the fault, then the faults no
shipped alert catches, not even pending. With --doc and --readme, rewrites
the text between the coverage markers of those files instead:
docs/coverage.md and README.md come from a run, not from a hand.

  make test && make coverage`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := report.ReadRun(scorecard)
			if err != nil {
				return inputError{err.Error()}
			}
			if len(r.CoverageColumns()) == 0 {
				return badInputf("%s: no scenario of this run recorded its signals: run the catalog (or a focus of it) first", scorecard)
			}
			if doc == "" && readme == "" {
				fmt.Fprint(c.OutOrStdout(), r.CoverageMarkdown())
				return nil
			}
			for _, f := range []struct{ path, text string }{{doc, r.CoverageMarkdown()}, {readme, r.CoverageSummary()}} {
				if f.path == "" {
					continue
				}
				page, err := os.ReadFile(f.path)
				if err != nil {
					return inputError{err.Error()}
				}
				out, err := report.ReplaceCoverage(page, f.text)
				if err != nil {
					return inputError{f.path + ": " + err.Error()}
				}
				if err := os.WriteFile(f.path, out, 0o644); err != nil {
					return err
				}
			}
			uncaught, _ := r.Uncaught()
			fmt.Fprintf(c.ErrOrStderr(), "coverage of %s: %d faults no alert catches\n", scorecard, len(uncaught))
			return nil
		},
	}
	cmd.Flags().StringVar(&scorecard, "scorecard", "reports/scorecard.json", "the run's scorecard")
	cmd.Flags().StringVar(&doc, "doc", "", "rewrite the matrix between this file's coverage markers (make coverage: docs/coverage.md)")
	cmd.Flags().StringVar(&readme, "readme", "", "rewrite the list of faults no alert catches between this file's coverage markers (make coverage: README.md)")
	return cmd
}
