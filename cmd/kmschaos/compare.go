package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/results"
)

// regressed is a comparison in which some scenario regressed: exit 1, the
// CI gate.
type regressed struct{ n int }

func (e regressed) Error() string {
	if e.n == 1 {
		return "1 scenario regressed"
	}
	return fmt.Sprintf("%d scenarios regressed", e.n)
}

func compareCmd() *cobra.Command {
	var db, scenario, section, backend, format string
	c := &cobra.Command{
		Use:   "compare A B [--scenario NAME] [--section S] [--backend B] [--output text|json|markdown]",
		Short: "Compare two releases' runs scenario by scenario; exit 1 if something regressed",
		Long: `compare reads the results store and judges B (the candidate) against A (the
baseline), scenario by scenario: its verdicts (passes of runs, A → B) and
the median TTD and TTR of its passing runs, A → B.

A and B are each a run id, or labels key=value joined by commas
(release=1.4.1,ci=yes): every run recorded with all of them ('kmschaos run
--tag', KMSCHAOS_LABELS). Record three runs or more of each release: a
run's recovery times vary, and the rule needs the baseline's spread.

The rule:

` + results.RuleText + `

The table lists regressions first, under a one-line summary. --output
markdown is the same for a pull request comment, json for scripts.
--scenario, --section and --backend narrow both sides.

Exit status: 1 when a scenario regressed (a CI gate), 0 otherwise; 2 for
bad input, in one line naming the closest the store holds: an unknown run
id, label, scenario or section, a label without =, a side that matches
no run, a store that cannot be read. The store is ` + results.DefaultPath() + `
unless --db or KMSCHAOS_DB names another.`,
		Example: `  kmschaos compare release=1.4.1 release=1.4.2
  kmschaos compare release=1.4.1,ci=yes release=1.4.2,ci=yes --section "Connectivity Issues"
  kmschaos compare 3f2a9c01b7e4 8d0e61aa52c3 --scenario "kill one party"
  kmschaos compare release=1.4.1 release=1.4.2 --output markdown > comment.md`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" && format != "markdown" {
				return badInputf("--output %q: use text, json or markdown", format)
			}
			var sides [2]results.Side
			for i, spec := range args {
				var err error
				if sides[i], err = results.ParseSide(spec); err != nil {
					return badInputf("%s %s", "AB"[i:i+1], err)
				}
			}
			ctx := cmd.Context()
			store, err := results.Open(ctx, results.Where(db))
			if err != nil {
				return badInputf("%s", err)
			}
			defer func() { _ = store.Close() }()
			cmp, err := store.Compare(ctx, sides[0], sides[1], results.Filter{Scenario: scenario, Section: section, Backend: backend})
			if err != nil {
				return historyError(err)
			}
			w := cmd.OutOrStdout()
			switch format {
			case "json":
				if err := writeJSON(w, cmp); err != nil {
					return err
				}
			case "markdown":
				printCompareMarkdown(w, cmp)
			default:
				printCompare(w, cmp)
			}
			if n := cmp.Regressions(); n > 0 {
				return regressed{n}
			}
			return nil
		},
	}
	dbFlag(c, &db)
	c.Flags().StringVar(&scenario, "scenario", "", "compare only this scenario")
	c.Flags().StringVar(&section, "section", "", "compare only this guide section's scenarios")
	c.Flags().StringVar(&backend, "backend", "", "only runs on this backend (docker, kubernetes), both sides")
	c.Flags().StringVarP(&format, "output", "o", "text", "text, json, or markdown (a pull request comment)")
	return c
}

// compareRow is a scenario's cells: verdicts, TTD and TTR, each A → B.
func compareRow(sc results.ScenarioChange) (verdicts, ttd, ttr string) {
	verdict := func(t *results.Tally) string {
		switch {
		case t == nil:
			return "—"
		case t.Judged() == 0:
			return "skip"
		}
		return fmt.Sprintf("%d/%d", t.Passed, t.Judged())
	}
	median := func(t *results.Tally, ttr bool) string {
		if t == nil {
			return "—"
		}
		if ttr {
			return fmtDur(t.TTR.Median)
		}
		return fmtDur(t.TTD.Median)
	}
	arrow := func(a, b string) string { return a + " → " + b }
	return arrow(verdict(sc.A), verdict(sc.B)), arrow(median(sc.A, false), median(sc.B, false)), arrow(median(sc.A, true), median(sc.B, true))
}

func printCompare(w io.Writer, c *results.Comparison) {
	fmt.Fprintln(w, c.Summary())
	fmt.Fprintf(w, "store %s; A: %s; B: %s\n\n", c.Store, runList(c.A.Runs), runList(c.B.Runs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  SCENARIO\tVERDICTS A→B\tTTD A→B\tTTR A→B\tJUDGEMENT\tWHY")
	for _, sc := range c.Scenarios {
		v, d, r := compareRow(sc)
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", sc.Name, v, d, r, sc.Judgement, orDash(sc.Why))
	}
	_ = tw.Flush()
}

// runList names a side's runs, a few of them.
func runList(ids []string) string {
	if len(ids) <= 3 {
		return "run " + strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%d runs, newest %s", len(ids), ids[0])
}

// printCompareMarkdown is the comparison as a pull request comment: the
// summary, what changed in a table, the unchanged folded away.
func printCompareMarkdown(w io.Writer, c *results.Comparison) {
	head, rest, _ := strings.Cut(c.Summary(), ": ")
	fmt.Fprintf(w, "### kmschaos compare: %s\n\n%s\n\n", head, mdCell(rest))
	var changed, same []results.ScenarioChange
	for _, sc := range c.Scenarios {
		if sc.Judgement == results.Same {
			same = append(same, sc)
		} else {
			changed = append(changed, sc)
		}
	}
	table := func(rows []results.ScenarioChange) {
		fmt.Fprintln(w, "| judgement | scenario | verdicts A → B | TTD A → B | TTR A → B | why |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, sc := range rows {
			v, d, r := compareRow(sc)
			j := string(sc.Judgement)
			if sc.Judgement == results.Regression {
				j = "**" + j + "**"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", j, mdCell(sc.Name), v, d, r, mdCell(orDash(sc.Why)))
		}
	}
	if len(changed) > 0 {
		table(changed)
		fmt.Fprintln(w)
	}
	if len(same) > 0 {
		fmt.Fprintf(w, "<details><summary>%d scenarios the same</summary>\n\n", len(same))
		table(same)
		fmt.Fprintln(w, "\n</details>")
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "A: `%s` (%s), B: `%s` (%s). Rule: `kmschaos compare --help`.\n", c.A.Spec, c.A.Size(), c.B.Spec, c.B.Size())
}

// mdCell makes s safe in a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
