package guide

import (
	"regexp"
	"sort"
	"strings"
)

// ChangeKind is how a part of the guide changed between two versions.
type ChangeKind string

// Kinds of change.
const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

// Change is one part of the guide that differs between two versions. A
// change under a step changes the step too: its text includes its blocks.
type Change struct {
	Kind     ChangeKind
	Address  string
	Old, New *Node
}

// Diff compares two versions of the guide by address and digest, in the
// order of the new version (removed parts last, in the old one's order).
func Diff(old, new *Guide) []Change {
	var out []Change
	for _, n := range new.Nodes {
		o := old.Lookup(n.Address)
		switch {
		case o == nil:
			out = append(out, Change{Kind: Added, Address: n.Address, New: n})
		case o.Digest != n.Digest:
			out = append(out, Change{Kind: Changed, Address: n.Address, Old: o, New: n})
		}
	}
	for _, o := range old.Nodes {
		if new.Lookup(o.Address) == nil {
			out = append(out, Change{Kind: Removed, Address: o.Address, Old: o})
		}
	}
	return out
}

// Touch is a runbook step whose citation a change of the guide touches.
type Touch struct {
	Runbook, Step, File string
	Citation            Citation
	Change              Change
	// ByGuideField: the runbook cites nothing; its guide: line names the
	// changed part (Citation.Address is where that line points).
	ByGuideField bool
}

// Touched lists the citations of the runbooks that name a changed or
// removed part of the guide, by runbook name. A runbook without citations
// is matched by its guide: line instead, when that names a part of the old
// guide (a trailing remark in parentheses is dropped, and the top headings
// may be left out): it is touched by a change of that part or of anything
// under it.
func Touched(old *Guide, changes []Change, runbooks []RunbookCites) []Touch {
	byAddr := map[string]Change{}
	for _, c := range changes {
		if c.Kind != Added {
			byAddr[c.Address] = c
		}
	}
	var out []Touch
	for _, rb := range runbooks {
		cites := 0
		for _, st := range rb.Steps {
			for _, c := range st.Cites {
				cites++
				if ch, ok := byAddr[c.Address]; ok {
					out = append(out, Touch{Runbook: rb.Name, Step: st.Name, File: rb.File, Citation: c, Change: ch})
				}
			}
		}
		if cites > 0 || old == nil {
			continue
		}
		addr := pointer(old, rb.Guide)
		if addr == "" {
			continue
		}
		// Name the deepest change: the command rather than its block.
		var deepest *Change
		for i, ch := range changes {
			if ch.Kind != Added && (ch.Address == addr || strings.HasPrefix(ch.Address, addr+Sep)) &&
				(deepest == nil || len(ch.Address) > len(deepest.Address)) {
				deepest = &changes[i]
			}
		}
		if deepest != nil {
			out = append(out, Touch{Runbook: rb.Name, File: rb.File, Citation: Citation{Address: addr, Text: rb.Guide}, Change: *deepest, ByGuideField: true})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Runbook < out[j].Runbook })
	return out
}

var remark = regexp.MustCompile(`\s*\([^()]*\)\s*$`)

// pointer resolves a runbook's free-text guide: line to an address, or "".
func pointer(g *Guide, text string) string {
	text = strings.TrimSpace(remark.ReplaceAllString(text, ""))
	if text == "" {
		return ""
	}
	if g.Lookup(text) != nil {
		return text
	}
	return suggest(g, text)
}
