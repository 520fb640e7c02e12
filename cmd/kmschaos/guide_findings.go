package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/report"
)

func guideFindingsCmd() *cobra.Command {
	var scorecard, doc string
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "the defects of the guide a run found, as docs/findings.md lists them",
		Long: `Prints the defects of the guide a catalog run found (its scorecard.json):
each scenario's defective steps and recorded defects, then what the guide's
blocks did when run as written (a failed command, a monitoring script that
misses a fault or leaks a secret). With --doc, rewrites the list between
the findings markers of that file instead: docs/findings.md comes from a
run, not from a hand.

  make test && go run ./cmd/kmschaos guide findings --doc docs/findings.md`,
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
			if doc == "" {
				fmt.Fprint(c.OutOrStdout(), md)
				return nil
			}
			page, err := os.ReadFile(doc)
			if err != nil {
				return inputError{err.Error()}
			}
			out, err := report.ReplaceFindings(page, md)
			if err != nil {
				return inputError{doc + ": " + err.Error()}
			}
			if err := os.WriteFile(doc, out, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "%s: %d findings from %s\n", doc, len(r.Findings()), scorecard)
			return nil
		},
	}
	cmd.Flags().StringVar(&scorecard, "scorecard", "reports/scorecard.json", "the run's scorecard")
	cmd.Flags().StringVar(&doc, "doc", "", "rewrite the findings between this file's markers (make findings: docs/findings.md)")
	return cmd
}
