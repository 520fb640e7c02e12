package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/report"
)

func guideFindingsCmd() *cobra.Command {
	var scorecard, readme string
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "the defects of the guide a run found, as the README's list",
		Long: `Prints the defects of the guide a catalog run found (its scorecard.json):
each scenario's defective steps and recorded defects, then what the guide's
blocks did when run as written (a failed command, a monitoring script that
misses a fault or leaks a secret). With --readme, rewrites the list between
the findings markers of that file instead: the README's "What the catalog
found in the guide" comes from a run, not from a hand.

  make test && go run ./cmd/kmschaos guide findings --readme README.md`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := report.ReadRun(scorecard)
			if err != nil {
				return inputError{err.Error()}
			}
			if r.Guide == nil || len(r.Scenarios) == 0 {
				return badInputf("%s: not a full catalog run (no scenarios, or no guide section): run the whole catalog first", scorecard)
			}
			md := r.FindingsMarkdown()
			if readme == "" {
				fmt.Fprint(c.OutOrStdout(), md)
				return nil
			}
			doc, err := os.ReadFile(readme)
			if err != nil {
				return inputError{err.Error()}
			}
			out, err := report.ReplaceFindings(doc, md)
			if err != nil {
				return inputError{readme + ": " + err.Error()}
			}
			if err := os.WriteFile(readme, out, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "%s: %d findings from %s\n", readme, len(r.Findings()), scorecard)
			return nil
		},
	}
	cmd.Flags().StringVar(&scorecard, "scorecard", "reports/scorecard.json", "the run's scorecard")
	cmd.Flags().StringVar(&readme, "readme", "", "rewrite the findings between this file's markers")
	return cmd
}
