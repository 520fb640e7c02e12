package guide

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the coverage table grouped by the guide's sections:
// each block, command and resolution step, the runbook steps that cite it
// and how they run it, or why it is excluded; then the problems; then the
// one-line summary.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	section := "\x00"
	for _, row := range r.Rows {
		n := row.Node
		if !row.Counted && len(row.Uses) == 0 && !hasCounted(n) {
			continue // a diagnostic step with nothing to run
		}
		if n.Section != section {
			section = n.Section
			title := section
			if title == "" {
				title = "(before the first heading)"
			}
			fmt.Fprintf(tw, "\n%s\n", title)
			fmt.Fprintf(tw, "  LINE\tPART\tTEXT\tHOW\tBY / WHY\n")
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(n.Address, section), Sep)
		text := excerpt(n, 48)
		if n.Kind == KindStep {
			text = "" // its title is in PART
		}
		if n.Kind == KindBlock {
			text = fmt.Sprintf("```%s: %s", n.Title, excerpt(n, 40))
			if n.Script {
				text = fmt.Sprintf("```%s script: %s", n.Title, excerpt(n, 32))
			}
		}
		how := strings.ToUpper(string(row.Status))
		if row.Status != StatusGap && row.Status != StatusDrift && row.Status != StatusMoved {
			how = string(row.Status)
		}
		by := []string{""}
		switch {
		case len(row.Uses) > 0:
			by = by[:0]
			for _, u := range row.Uses {
				s := fmt.Sprintf("%s / %s (%s)", u.Runbook, u.Step, u.Citation.How)
				if u.Via != "" {
					s += " with its block"
				}
				if u.Citation.Why != "" {
					s += ": " + u.Citation.Why
				}
				by = append(by, s)
			}
		case row.Exclusion != nil:
			by[0] = row.Exclusion.Reason
			if row.ExcludedVia != "" {
				by[0] = fmt.Sprintf("(with %s) %s", strings.TrimPrefix(strings.TrimPrefix(row.ExcludedVia, section), Sep), row.Exclusion.Reason)
			}
		case row.Derived:
			by[0] = "every part under it is covered"
		case row.Status == StatusInfo:
			by[0] = "diagnostic step: needs no runbook"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", n.Line, rel, text, how, by[0])
		for _, more := range by[1:] {
			fmt.Fprintf(tw, "  \t\t\t\t%s\n", more)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Problems) > 0 {
		fmt.Fprintln(w)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(w, p.String())
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Summary())
	return err
}

func hasCounted(n *Node) bool {
	for _, c := range n.Children {
		if c.Kind != KindStep || c.Resolution || hasCounted(c) {
			return true
		}
	}
	return false
}
