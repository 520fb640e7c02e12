package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/fault"
)

func faultsCmd() *cobra.Command {
	var out output
	c := &cobra.Command{
		Use:   "faults [--output json]",
		Short: "List the fault kinds 'inject' takes, with their parameters",
		Long: `faults lists every kind of fault 'kmschaos inject' can inject by hand: its
name, what it is aimed at (a party, --party N, or a directed peer link,
--link I-J), the backends that offer it (a game day on a backend draws
only those; * marks a condition, told below the table), who fixes it (the
party's operator, or the network coordinator the operator escalates to:
kmschaos gameday escalate), what it does, and
its parameters with their defaults (set one with --param name=value).`,
		Example: `  kmschaos faults
  kmschaos faults --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out.json() {
				return writeJSON(w, fault.Kinds())
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tFAMILY\tTARGET\tBACKENDS\tFIXED BY\tPARAMETERS\tWHAT IT DOES")
			for _, k := range fault.Kinds() {
				target := "--party N"
				if k.Target == fault.AtLink {
					target = "--link I-J"
				}
				var ps []string
				for _, p := range k.Params {
					ps = append(ps, p.Name+"="+p.Default)
				}
				params := strings.Join(ps, " ")
				if params == "" {
					params = "-"
				}
				on := strings.Join(k.Backends, ",")
				if k.Where != "" {
					on += "*"
				}
				fixer := "operator"
				if k.Fix == fault.FixCoordinator {
					fixer = "coordinator"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.Family, target, on, fixer, params, k.Summary)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, k := range fault.Kinds() {
				if k.Where != "" {
					fmt.Fprintf(w, "* %s: %s\n", k.Name, k.Where)
				}
			}
			return nil
		},
	}
	outputFlag(c, &out)
	return c
}
