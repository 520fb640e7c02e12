package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/runbook"
	"github.com/kmschaos/kmschaos/harness/soak"
)

// invalidRunbooks is check's verdict when some file is invalid: the
// problems are printed already; the exit status is 2.
type invalidRunbooks int

func (n invalidRunbooks) Error() string { return fmt.Sprintf("%d of the runbooks are invalid", int(n)) }

// exitStatus is the process's exit status for an error of a command.
func exitStatus(err error) int {
	var bad invalidRunbooks
	var input *soak.InputError
	if errors.As(err, &bad) || errors.As(err, &input) {
		return 2
	}

	return 1
}

func runbookCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "runbook",
		Short: "Run a runbook file against the cluster, check runbook files, list the variables they may use",
	}
	check := &cobra.Command{
		Use:   "check FILE...",
		Short: "Validate runbooks without a cluster",
		Long: `check loads each runbook as a scenario would, without a cluster: YAML keys,
patterns, placeholders, party lists, sizes, durations, step names. It prints
one line per valid file and one per problem of an invalid one, each naming
the file, the step and the field, and exits 2 if any file is invalid.`,
		Example: `  kmschaos runbook check runbooks/*.yaml`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			bad := 0
			for _, f := range files {
				if _, err := runbook.Load(f); err != nil {
					bad++
					fmt.Fprintln(cmd.OutOrStdout(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: OK\n", f)
			}
			if bad > 0 {
				return invalidRunbooks(bad)
			}
			return nil
		},
	}
	vars := &cobra.Command{
		Use:   "vars",
		Short: "List the built-in variables a runbook may write as {{name}}",
		Long: `vars lists the variables every runbook may use (built in: from the cluster
and the party), then those the shipped runbooks declare under vars:, which
the caller supplies (a scenario, or 'runbook run --var name=value'). Any of
them may be overridden with --var.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tMEANING\tEXAMPLE")
			for _, v := range runbook.Builtins {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, v.Meaning, v.Example)
			}
			fmt.Fprintln(tw, "\t\t")
			fmt.Fprintln(tw, "DECLARED (--var)\tMEANING\tEXAMPLE")
			for _, v := range runbook.Conventional {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, v.Meaning, v.Example)
			}
			return tw.Flush()
		},
	}
	c.AddCommand(runbookRunCmd(), check, vars)
	return c
}
