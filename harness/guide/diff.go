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
	Moved   ChangeKind = "moved" // the same text under the same titles, at another address
)

// Change is one part of the guide that differs between two versions. A
// change under a step changes the step too: its text includes its blocks.
type Change struct {
	Kind ChangeKind
	// Address is the part's address in the new version, or in the old one
	// when it was removed; a moved part's old address is Old.Address.
	Address  string
	Old, New *Node
}

// Diff compares two versions of the guide by address and digest, in the
// order of the new version (removed parts last, in the old one's order).
// A part whose address changed but not its text nor its titles (an item
// renumbered by one inserted before it, a block or a line by one inserted
// above it, an item pasted under another heading) is moved, as a citation
// of it is followed by Check.
func Diff(old, new *Guide) []Change {
	// The parts whose address or text differ, on either side.
	var gone, came []*Node
	for _, o := range old.Nodes {
		if n := new.Lookup(o.Address); n == nil || n.Digest != o.Digest {
			gone = append(gone, o)
		}
	}
	for _, n := range new.Nodes {
		if o := old.Lookup(n.Address); o == nil || o.Digest != n.Digest {
			came = append(came, n)
		}
	}
	from := map[*Node]*Node{} // new part → the old part moved there
	moved := map[*Node]bool{} // old parts moved away
	for _, o := range gone {
		same := func(n *Node) bool { return n.Kind == o.Kind && n.Digest == o.Digest && from[n] == nil }
		if n, _ := follow(came, o.Address, same, false); n != nil {
			from[n], moved[o] = o, true
		}
	}
	var out []Change
	for _, n := range came {
		o := old.Lookup(n.Address)
		switch {
		case from[n] != nil:
			out = append(out, Change{Kind: Moved, Address: n.Address, Old: from[n], New: n})
		case o == nil || moved[o]:
			out = append(out, Change{Kind: Added, Address: n.Address, New: n})
		default:
			out = append(out, Change{Kind: Changed, Address: n.Address, Old: o, New: n})
		}
	}
	for _, o := range gone {
		// Removed, unless moved or changed in place.
		if n := new.Lookup(o.Address); !moved[o] && (n == nil || from[n] != nil) {
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

// Touched lists the citations of the runbooks that name a changed, moved
// or removed part of the guide, by runbook name. A runbook without citations
// is matched by its guide: line instead, when that names a part of the old
// guide (a trailing remark in parentheses is dropped, and the top headings
// may be left out): it is touched by a change of that part or of anything
// under it.
func Touched(old *Guide, changes []Change, runbooks []RunbookCites) []Touch {
	byAddr := map[string]Change{} // by the old address
	for _, c := range changes {
		if c.Old != nil {
			byAddr[c.Old.Address] = c
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
			if ch.Old != nil && (ch.Old.Address == addr || strings.HasPrefix(ch.Old.Address, addr+Sep)) &&
				(deepest == nil || len(ch.Old.Address) > len(deepest.Old.Address)) {
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
