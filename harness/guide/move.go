package guide

import (
	"regexp"
	"strconv"
	"strings"
)

// An edit that leaves a part's text alone can still change its address: a
// procedure inserted in a numbered list renumbers the items after it, a
// block inserted before another renumbers that one, a line inserted in a
// block renumbers the commands below it, an item pasted under another
// heading changes its heading path. follow finds such a part again by what
// did not change: the titles on its path and its text.

// segment is one part of an address: a title ("Service Recovery", or
// "Force Restart" of "2. Force Restart") or a counted "block"/"line", and
// its number (-1 for a heading or a label).
type segment struct {
	name  string
	num   int
	title bool
}

var (
	numberedSeg = regexp.MustCompile(`^(\d+)\. (.*)$`)
	countedSeg  = regexp.MustCompile(`^(block|line) (\d+)$`)
)

func segments(addr string) []segment {
	parts := strings.Split(addr, Sep)
	out := make([]segment, len(parts))
	for i, p := range parts {
		if m := countedSeg.FindStringSubmatch(p); m != nil {
			n, _ := strconv.Atoi(m[2])
			out[i] = segment{name: m[1], num: n}
		} else if m := numberedSeg.FindStringSubmatch(p); m != nil {
			n, _ := strconv.Atoi(m[1])
			out[i] = segment{name: m[2], num: n, title: true}
		} else {
			out[i] = segment{name: p, num: -1, title: true}
		}
	}
	return out
}

// follow finds the part that had the address addr before the guide was
// renumbered or rearranged: among nodes, one for which ok holds (its text
// is the cited text) whose address has the same titles with other numbers,
// or failing that the same titles from the deepest one down under other
// headings above it. The fewest headings changed first, then the nearest
// numbers. A tie is not an answer: found is nil and tied the candidates.
// With sameCount, a block's and a line's number must not change (ok cannot
// tell two blocks or two lines apart without their text).
func follow(nodes []*Node, addr string, ok func(*Node) bool, sameCount bool) (found *Node, tied []*Node) {
	want := segments(addr)
	deepest := 0 // the deepest title: it is never left out
	for i, s := range want {
		if s.title {
			deepest = i
		}
	}
	for from := 0; from <= deepest; from++ {
		tail := want[from:]
		best := -1
		var at []*Node
		for _, n := range nodes {
			if n.Address == addr || !ok(n) {
				continue
			}
			have := segments(n.Address)
			if len(have) < len(tail) || (from == 0 && len(have) != len(tail)) {
				continue
			}
			d, same := distance(have[len(have)-len(tail):], tail, sameCount)
			switch {
			case !same:
			case best < 0 || d < best:
				best, at = d, []*Node{n}
			case d == best:
				at = append(at, n)
			}
		}
		if len(at) == 1 {
			return at[0], nil
		}
		if len(at) > 1 {
			return nil, at
		}
	}
	return nil, nil
}

// distance is how far apart two addresses' numbers are, when their
// titles and counted parts are the same.
func distance(have, want []segment, sameCount bool) (int, bool) {
	d := 0
	for i := range want {
		h, w := have[i], want[i]
		if h.name != w.name || h.title != w.title || (sameCount && !w.title && h.num != w.num) {
			return 0, false
		}
		d += max(h.num-w.num, w.num-h.num)
	}
	return d, true
}
