package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Guide is the troubleshooting guide's part of a run: how far its text is
// covered, and what its shell blocks did when run as written.
type Guide struct {
	File     string `json:"file"`
	Digest   string `json:"digest"`
	Coverage string `json:"coverage"` // guide.Summary: verbatim/mapped/substitute/excluded/gaps/drift
	// Blocks are the guide's shell blocks, each run as written on a
	// party's host: on a healthy party, or under a fault (Under).
	Blocks []GuideBlock `json:"blocks"`
}

// GuideBlock is one shell block of the guide, run as written.
type GuideBlock struct {
	Address   string         `json:"address"`
	Line      int            `json:"line"`
	Party     int            `json:"party"`
	Under     string         `json:"under"` // "healthy", or the fault it ran under
	Status    string         `json:"status"`
	Signature string         `json:"signature"`
	Expected  string         `json:"expected,omitempty"` // set when the outcome differs from what was expected
	Took      time.Duration  `json:"took_ns"`
	Why       string         `json:"why,omitempty"` // unsafe: why it never runs
	Commands  []GuideCommand `json:"commands"`
	// Verdict is the harness's judgement of the block where it judges one
	// (a monitoring script against a fault, a diagnostic under a fault):
	// "shows the fault", "misses the fault", "false alarm", "leaks …".
	Verdict string `json:"verdict,omitempty"`
	Defect  bool   `json:"defect,omitempty"` // the verdict is a defect of the guide
	// After is what the block left behind, as the harness's audit found
	// it, and whether the harness reset the cluster after it.
	After  string `json:"after,omitempty"`
	Output string `json:"output,omitempty"` // stdout, bounded and redacted
}

// GuideCommand is one command of a block.
type GuideCommand struct {
	Line   int      `json:"line"`
	Text   string   `json:"text"`
	Status string   `json:"status"`
	Exit   int      `json:"exit"`
	Tool   string   `json:"tool,omitempty"`
	Why    string   `json:"why,omitempty"`
	Mapped []string `json:"mapped,omitempty"` // what the mapping table changed, with its reason
}

// GuideDefects are the defects of the guide its literal runs found: a
// judged block the guide gets wrong (a script that misses a fault or
// leaks), and a command that failed or uses an option its tool lacks on
// a healthy party.
func (g *Guide) GuideDefects() []string {
	if g == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, b := range g.Blocks {
		if b.Defect {
			add(fmt.Sprintf("%s (line %d), under %s: %s", b.Address, b.Line, b.Under, b.Verdict))
		}
		if b.Under != "healthy" {
			continue
		}
		for _, c := range b.Commands {
			switch c.Status {
			case "failed", "bad option":
				why := c.Why
				if why == "" {
					why = fmt.Sprintf("exit %d", c.Exit)
				}
				add(fmt.Sprintf("%s, line %d: `%s` %s on a healthy party: %s", b.Address, c.Line, clip(c.Text, 120), c.Status, clip(why, 200)))
			}
		}
	}
	return out
}

// Tally counts the commands of the guide's survey (its blocks run on a
// healthy party, unjudged; a judged run repeats a block) by status, and
// how many of them the mapping table touched.
func (g *Guide) Tally() (byStatus map[string]int, commands, mapped int) {
	byStatus = map[string]int{}
	for _, b := range g.Blocks {
		if b.Under != "healthy" || b.Verdict != "" {
			continue
		}
		for _, c := range b.Commands {
			byStatus[c.Status]++
			commands++
			if len(c.Mapped) > 0 {
				mapped++
			}
		}
	}
	return byStatus, commands, mapped
}

// WriteText writes the guide's section of the text scorecard.
func (g *Guide) WriteText(w io.Writer) error {
	if g == nil || len(g.Blocks) == 0 {
		return nil
	}
	by, n, mapped := g.Tally()
	var parts []string
	for _, st := range []string{"ran", "failed", "bad option", "tool absent", "needs a tty", "privileges", "interrupted", "not reached", "unsafe"} {
		if by[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", by[st], st))
		}
	}
	fmt.Fprintf(w, "\nThe guide, as written: its shell blocks run through bash on a party's host (%d commands: %s; %d of them through the mapping table)\n",
		n, strings.Join(parts, ", "), mapped)
	if g.Coverage != "" {
		fmt.Fprintf(w, "Runbook coverage: %s\n", g.Coverage)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STATUS\tLINE\tPARTY\tUNDER\tBLOCK\tVERDICT / AFTER")
	for _, b := range g.Blocks {
		v := b.Verdict
		if v == "" {
			v = b.After
		}
		if b.Why != "" {
			v = b.Why
		}
		mark := ""
		if b.Defect {
			mark = " [DEFECT]"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\t%s%s\n", b.Status, b.Line, b.Party, clip(b.Under, 40), shortAddress(b.Address), clip(v, 160), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var cannot []string
	for _, b := range g.Blocks {
		if b.Under != "healthy" {
			continue
		}
		for _, c := range b.Commands {
			switch c.Status {
			case "tool absent", "needs a tty", "privileges", "unsafe":
				why := c.Why
				if c.Status == "unsafe" {
					why = b.Why
				}
				cannot = append(cannot, fmt.Sprintf("- line %d `%s`: %s: %s", c.Line, clip(c.Text, 80), c.Status, clip(why, 200)))
			}
		}
	}
	if len(cannot) > 0 {
		fmt.Fprintf(w, "Commands that could not run on this cluster:\n%s\n", strings.Join(cannot, "\n"))
	}
	return nil
}

// shortAddress drops the top section of an address the table groups by.
func shortAddress(a string) string {
	if i := strings.Index(a, " > "); i >= 0 && strings.Count(a, " > ") > 2 {
		return a[i+3:]
	}
	return a
}
