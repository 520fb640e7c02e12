package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/labelfilter"
	"github.com/kmschaos/kmschaos/scenarios"
)

func scenariosCmd() *cobra.Command {
	var label string
	var out output
	c := &cobra.Command{
		Use:   "scenarios [--label EXPR] [--output json]",
		Short: "List the scenario catalog with its labels",
		Long: `scenarios lists every scenario of the catalog — the same values the test
suite runs as Ginkgo specs — grouped by the guide's section, with its labels:
"scenario", the section's label (startup, connectivity, performance,
threshold-network, storage, keys, process, emergency) and the kinds of the
faults it injects (network, process, resources, storage, config, prss,
keys, tls).

--label takes the suite's label-filter syntax, as 'go test -ginkgo.label-filter'
does: a label alone (any case), /regexp/ for a pattern, ! && || (or ","),
and ( ) to group; ! binds tightest, then &&, then ||.`,
		Example: `  kmschaos scenarios
  kmschaos scenarios --label connectivity
  kmschaos scenarios --label 'threshold-network && !prss' --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			match := func([]string) bool { return true }
			if label != "" {
				f, err := labelfilter.Parse(label)
				if err != nil {
					return badInputf("--label %q: %s", label, oneLineError(err))
				}
				match = f
			}
			type row struct {
				Name    string   `json:"name"`
				Section string   `json:"section"`
				Labels  []string `json:"labels"`
			}
			rows := []row{}
			for _, e := range scenarios.Catalog() {
				if match(e.Labels) {
					rows = append(rows, row{e.Name, e.Section, e.Labels})
				}
			}
			w := cmd.OutOrStdout()
			if out.json() {
				return writeJSON(w, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintf(w, "no scenario matches %q\n", label)
				return nil
			}
			section := ""
			for _, r := range rows {
				if r.Section != section {
					if section != "" {
						fmt.Fprintln(w)
					}
					section = r.Section
					fmt.Fprintln(w, section)
				}
				fmt.Fprintf(w, "  %s  [%s]\n", r.Name, strings.Join(r.Labels, ", "))
			}
			fmt.Fprintf(w, "\n%d scenarios\n", len(rows))
			return nil
		},
	}
	c.Flags().StringVarP(&label, "label", "l", "", "label filter (the suite's syntax), e.g. 'connectivity && !network'")
	outputFlag(c, &out)
	return c
}

// oneLineError is an error's message on one line.
func oneLineError(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
