package guide

import "sort"

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
}

// Touched lists the citations of the runbooks that name a changed or
// removed part of the guide, by runbook name.
func Touched(changes []Change, runbooks []RunbookCites) []Touch {
	byAddr := map[string]Change{}
	for _, c := range changes {
		if c.Kind != Added {
			byAddr[c.Address] = c
		}
	}
	var out []Touch
	for _, rb := range runbooks {
		for _, st := range rb.Steps {
			for _, c := range st.Cites {
				if ch, ok := byAddr[c.Address]; ok {
					out = append(out, Touch{Runbook: rb.Name, Step: st.Name, File: rb.File, Citation: c, Change: ch})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Runbook < out[j].Runbook })
	return out
}
