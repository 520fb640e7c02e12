package guide

import (
	"fmt"
	"strings"
)

// Status is how a part of the guide is covered.
type Status string

// Statuses of a row, strongest first: a row cited both verbatim and
// mapped is verbatim.
const (
	StatusVerbatim   Status = HowVerbatim
	StatusMapped     Status = HowMapped
	StatusSubstitute Status = HowSubstitute
	StatusExcluded   Status = "excluded"
	StatusMoved      Status = "moved" // covered only by what names its old address
	StatusDrift      Status = "drift" // only drifted citations point here
	StatusGap        Status = "gap"
	// StatusInfo: a diagnostic step shown for its blocks; it needs no citation.
	StatusInfo Status = "-"
)

var rank = map[Status]int{StatusVerbatim: 0, StatusMapped: 1, StatusSubstitute: 2, StatusExcluded: 3, StatusMoved: 4}

// Use is one runbook step citing a part of the guide.
type Use struct {
	Runbook, Step string
	File          string
	Citation      Citation
	// Via is the address of the block cited as a whole, when the row is a
	// command of it.
	Via string
	// Moved: the citation names the part's old address.
	Moved bool
}

// Row is one part of the guide in the coverage table.
type Row struct {
	Node      *Node
	Uses      []Use
	Exclusion *Exclusion
	// ExcludedVia is the address of the excluded section, step or block
	// this row is under, when it is not excluded by its own address.
	ExcludedVia string
	// ExclusionMoved: the exclusion names the part's old address.
	ExclusionMoved bool
	Status         Status
	// Derived: covered because every part under it is (its commands, its
	// blocks); Status is then the weakest of theirs.
	Derived bool
	// Counted: a block, a command or a resolution step, which the summary
	// counts and a gap is reported for.
	Counted bool
}

// ProblemKind is what is wrong.
type ProblemKind string

// Problems. BadAddress (a section cited) and BadCitation are bad input
// (exit 2); Drift, Moved and Gap fail the check (exit 1).
const (
	ProblemDrift       ProblemKind = "drift"
	ProblemMoved       ProblemKind = "moved"
	ProblemGap         ProblemKind = "gap"
	ProblemBadAddress  ProblemKind = "bad address"
	ProblemBadCitation ProblemKind = "bad citation"
)

// Problem is one finding of Check.
type Problem struct {
	Kind ProblemKind
	// File and Line: the runbook or exclusions file for a citation or an
	// exclusion, the guide for a gap.
	File    string
	Line    int
	Address string
	Text    string // the offending text
	Runbook string
	Step    string
	Msg     string
}

func (p Problem) String() string {
	who := ""
	if p.Runbook != "" {
		who = fmt.Sprintf(" runbook %s step %q:", p.Runbook, p.Step)
	}
	return fmt.Sprintf("%s:%d: %s:%s %s", p.File, p.Line, p.Kind, who, p.Msg)
}

// BadInput reports whether the problem is in the input rather than in
// the coverage.
func (p Problem) BadInput() bool {
	return p.Kind == ProblemBadAddress || p.Kind == ProblemBadCitation
}

// Report is the result of Check.
type Report struct {
	Guide    *Guide
	Rows     []*Row
	Problems []Problem
}

// Summary counts the counted rows.
type Summary struct {
	Blocks, Commands, Steps                int
	Verbatim, Mapped, Substitute, Excluded int
	Gaps, Drift, Moved                     int
}

// BadInput reports whether any problem is bad input.
func (r *Report) BadInput() bool {
	for _, p := range r.Problems {
		if p.BadInput() {
			return true
		}
	}
	return false
}

// Failed reports whether the guide has drift, a moved part or a gap.
func (r *Report) Failed() bool {
	for _, p := range r.Problems {
		if p.Kind == ProblemDrift || p.Kind == ProblemMoved || p.Kind == ProblemGap {
			return true
		}
	}
	return false
}

// Summary counts the rows by status and the problems by kind.
func (r *Report) Summary() Summary {
	var s Summary
	for _, row := range r.Rows {
		if !row.Counted {
			continue
		}
		switch row.Node.Kind {
		case KindBlock:
			s.Blocks++
		case KindCommand:
			s.Commands++
		case KindStep:
			s.Steps++
		}
		switch row.Status {
		case StatusVerbatim:
			s.Verbatim++
		case StatusMapped:
			s.Mapped++
		case StatusSubstitute:
			s.Substitute++
		case StatusExcluded:
			s.Excluded++
		}
	}
	for _, p := range r.Problems {
		switch p.Kind {
		case ProblemGap:
			s.Gaps++
		case ProblemDrift:
			s.Drift++
		case ProblemMoved:
			s.Moved++
		}
	}
	return s
}

func (s Summary) String() string {
	return fmt.Sprintf("%d blocks, %d commands, %d steps: %d verbatim, %d mapped, %d substitute, %d excluded, %d gaps, %d drift, %d moved",
		s.Blocks, s.Commands, s.Steps, s.Verbatim, s.Mapped, s.Substitute, s.Excluded, s.Gaps, s.Drift, s.Moved)
}

// Check matches the runbooks' citations and the exclusions against the
// guide. A citation whose text is at another address now, under the same
// titles (the guide renumbered or rearranged the part), is moved, and
// covers the part; one whose text the guide no longer has is drift; a
// block, a command or a resolution step that nothing cites or excludes is
// a gap. A citation or an exclusion lacking what it must say, or citing a
// section, is bad input. ex may be nil.
func Check(g *Guide, runbooks []RunbookCites, ex *Exclusions) *Report {
	r := &Report{Guide: g}
	rows := map[*Node]*Row{}
	for _, n := range g.Nodes {
		if n.Kind == KindSection {
			continue
		}
		row := &Row{Node: n, Counted: n.Kind != KindStep || n.Resolution}
		rows[n] = row
		r.Rows = append(r.Rows, row)
	}
	if ex != nil {
		r.exclude(g, ex)
	}
	drifted := r.cite(g, runbooks, rows)
	r.settle(rows, drifted)
	for _, row := range r.Rows {
		if row.Counted && row.Status == StatusGap {
			n := row.Node
			r.Problems = append(r.Problems, Problem{Kind: ProblemGap, File: g.File, Line: n.Line, Address: n.Address, Text: n.Text,
				Msg: fmt.Sprintf("%s %q", n.Kind, n.Address)})
		}
	}
	return r
}

// exclude marks the rows each exclusion names, and those under them.
func (r *Report) exclude(g *Guide, ex *Exclusions) {
	for i := range ex.Entries {
		e := &ex.Entries[i]
		n, moved := r.resolve(g, e.Address, e.Text, ex.File, e.Line, "", "", "exclusion")
		if n == nil {
			continue
		}
		for _, row := range r.Rows {
			if row.Node == n {
				row.Exclusion, row.ExclusionMoved = e, moved
			} else if under(row.Node, n.Address) && row.Exclusion == nil {
				row.Exclusion, row.ExcludedVia, row.ExclusionMoved = e, n.Address, moved
			}
		}
	}
}

// cite adds each citation to the row of the part it names (a block's to
// its commands' too) and returns the parts only drifted citations name.
// A citation lacking what it must say is bad input.
func (r *Report) cite(g *Guide, runbooks []RunbookCites, rows map[*Node]*Row) (drifted map[*Node]bool) {
	drifted = map[*Node]bool{}
	for _, rb := range runbooks {
		for _, st := range rb.Steps {
			for _, c := range st.Cites {
				line := c.Line
				if line == 0 {
					line = st.Line
				}
				bad := func(msg string) {
					r.Problems = append(r.Problems, Problem{Kind: ProblemBadCitation, File: rb.File, Line: line,
						Address: c.Address, Text: c.Address, Runbook: rb.Name, Step: st.Name, Msg: msg})
				}
				switch {
				case c.How != HowVerbatim && c.How != HowMapped && c.How != HowSubstitute:
					bad(fmt.Sprintf("how %q is not verbatim, mapped or substitute", c.How))
					continue
				case strings.TrimSpace(c.Text) == "":
					bad(fmt.Sprintf("citation of %q without the text it cites", c.Address))
					continue
				case c.How != HowVerbatim && strings.TrimSpace(c.Why) == "":
					bad(fmt.Sprintf("a %s citation of %q must say why (what stands for what)", c.How, c.Address))
					continue
				}
				n, moved := r.resolve(g, c.Address, c.Text, rb.File, line, rb.Name, st.Name, "citation")
				if n == nil {
					if at := g.Lookup(c.Address); at != nil {
						drifted[at] = true
					}
					continue
				}
				use := Use{Runbook: rb.Name, Step: st.Name, File: rb.File, Citation: c, Moved: moved}
				rows[n].Uses = append(rows[n].Uses, use)
				if n.Kind == KindBlock { // a block cited whole stands for its commands
					use.Via = n.Address
					for _, cmd := range n.Children {
						rows[cmd].Uses = append(rows[cmd].Uses, use)
					}
				}
			}
		}
	}
	return drifted
}

// settle gives every row its status: the strongest of its citations',
// excluded, drift, or else a gap, unless every counted part under it is
// covered (then the weakest of theirs, derived).
func (r *Report) settle(rows map[*Node]*Row, drifted map[*Node]bool) {
	// Children come after their parents: settle them first.
	for i := len(r.Rows) - 1; i >= 0; i-- {
		row := r.Rows[i]
		n := row.Node
		switch {
		case len(row.Uses) > 0:
			row.Status = StatusMoved
			for _, u := range row.Uses {
				if s := Status(u.Citation.How); !u.Moved && rank[s] < rank[row.Status] {
					row.Status = s
				}
			}
		case row.Exclusion != nil:
			row.Status = StatusExcluded
			if row.ExclusionMoved {
				row.Status = StatusMoved
			}
		case drifted[n]:
			row.Status = StatusDrift
		default:
			row.Status = StatusGap
			var weakest Status
			kids, open := 0, false
			for _, c := range n.Children {
				cr := rows[c]
				if !cr.Counted {
					continue
				}
				kids++
				if cr.Status == StatusGap || cr.Status == StatusDrift {
					open = true
					break
				}
				if weakest == "" || rank[cr.Status] > rank[weakest] {
					weakest = cr.Status
				}
			}
			if kids > 0 && !open {
				row.Status, row.Derived = weakest, true
			}
		}
		if !row.Counted && row.Status == StatusGap {
			row.Status = StatusInfo
		}
	}
}

// resolve finds the part a citation or an exclusion (what) names: at its
// address with its text there; or, when the guide renumbered or moved it,
// at the address follow finds, reported as moved with the address to write
// instead (moved is true). Otherwise the text is no longer there: drift,
// and nil. An exclusion may name a section (all of it is excluded); a
// citation names a step, a block or a command.
func (r *Report) resolve(g *Guide, addr, text, file string, line int, runbook, step, what string) (n *Node, moved bool) {
	ok := func(n *Node) bool { return text == "" || matches(n, text) }
	n = g.Lookup(addr)
	if n == nil || !ok(n) {
		// Without its text a block or a line is only its number: follow
		// a renumbered title, never a renumbered block or line.
		found, tied := follow(g.Nodes, addr, ok, text == "")
		if found == nil {
			r.drift(g, addr, n, text, tied, file, line, runbook, step, what)
			return nil, false
		}
		n, moved = found, true
	}
	if n.Kind == KindSection && what != "exclusion" {
		r.Problems = append(r.Problems, Problem{Kind: ProblemBadAddress, File: file, Line: line, Address: n.Address, Text: addr,
			Runbook: runbook, Step: step, Msg: fmt.Sprintf("%q is a section: cite a step, a block or a command line", n.Address)})
		return nil, false
	}
	if moved {
		r.Problems = append(r.Problems, Problem{Kind: ProblemMoved, File: file, Line: line, Address: n.Address, Text: addr,
			Runbook: runbook, Step: step, Msg: fmt.Sprintf("%s of %q: it is now at %q; write that address", what, addr, n.Address)})
	}
	return n, moved
}

// suggest finds the one address that ends with the given one (a citation
// that left out the top headings), or that it ends with.
func suggest(g *Guide, addr string) string {
	found := ""
	for _, n := range g.Nodes {
		if strings.HasSuffix(n.Address, Sep+addr) {
			if found != "" {
				return ""
			}
			found = n.Address
		}
	}
	return found
}

// drift reports a citation or an exclusion whose text is no longer at its
// address (at, nil if the guide has no such address any more), nor at one
// place follow could tell (tied: the places it could not choose between).
func (r *Report) drift(g *Guide, addr string, at *Node, text string, tied []*Node, file string, line int, runbook, step, what string) {
	var msg string
	if at != nil {
		msg = fmt.Sprintf("%s of %q: %q is no longer there; the guide has %q", what, addr, Normalize(text), excerpt(at, 80))
	} else {
		msg = fmt.Sprintf("%s of %q: no part of the guide has that address, nor its titles with that text", what, addr)
		if text == "" {
			msg = fmt.Sprintf("%s of %q: no part of the guide has that address, nor its titles", what, addr)
		}
		if s := suggest(g, addr); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
	switch {
	case len(tied) > 0:
		addrs := make([]string, len(tied))
		for i, n := range tied {
			addrs[i] = fmt.Sprintf("%q", n.Address)
		}
		msg += fmt.Sprintf(" (it could be any of %s: write the one meant)", strings.Join(addrs, ", "))
	case text != "":
		if elsewhere := find(g, text); elsewhere != nil {
			msg += fmt.Sprintf(" (the text is now at %q)", elsewhere.Address)
		}
	}
	r.Problems = append(r.Problems, Problem{Kind: ProblemDrift, File: file, Line: line, Address: addr, Text: text,
		Runbook: runbook, Step: step, Msg: msg})
}

// matches: a command's text must be the cited text; a block's or a step's
// must contain it. Whitespace is collapsed on both sides.
func matches(n *Node, text string) bool {
	want := Normalize(text)
	if n.Kind == KindCommand {
		return n.Text == want
	}
	return strings.Contains(Normalize(n.Text), want)
}

// find is the command with the text, or the first block or step that has it.
func find(g *Guide, text string) *Node {
	var loose *Node
	for _, n := range g.Nodes {
		if n.Kind == KindCommand && n.Text == Normalize(text) {
			return n
		}
		if loose == nil && n.Kind == KindBlock && matches(n, text) {
			loose = n
		}
	}
	return loose
}

func under(n *Node, addr string) bool { return strings.HasPrefix(n.Address, addr+Sep) }

// excerpt is a node's text on one line, cut to at most max runes.
func excerpt(n *Node, max int) string {
	s := Normalize(n.Text)
	if n.Kind == KindStep {
		s = n.Title
	}
	if n.Kind == KindBlock {
		s = Normalize(firstCode(n.Text))
	}
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// firstCode is a block's first line that is not a comment or blank.
func firstCode(text string) string {
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return t
		}
	}
	return strings.TrimSpace(text)
}
