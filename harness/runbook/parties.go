package runbook

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A party list is "all", or items separated by commas, each a party id
// (3), a range (1-4) or a placeholder ({{party}}, {{targets}}) that
// expands to such items at run time. Empty items, reversed or empty
// ranges, ids below 1 and a party named twice are errors; ids above n are
// errors at run time, when n is known.

type span struct{ lo, hi int }

// checkPartyList checks a list's syntax at load time: the literal items
// are checked, placeholders only for their names (known).
func checkPartyList(spec string, known func(string) error) error {
	items := strings.Split(strings.TrimSpace(spec), ",")
	var spans []span
	for _, it := range items {
		it = strings.TrimSpace(it)
		if m := varRef.FindStringSubmatch(it); m != nil && m[0] == it {
			if err := known(m[1]); err != nil {
				return err
			}
			continue
		}
		if varRef.MatchString(it) {
			return fmt.Errorf("party list %q: a placeholder must be a whole item, like {{party}}", spec)
		}
		if it == "all" {
			if len(items) > 1 {
				return fmt.Errorf("party list %q: all cannot be combined with other parties", spec)
			}
			return nil
		}
		s, err := parseItem(spec, it)
		if err != nil {
			return err
		}
		spans = append(spans, s)
	}
	return overlaps(spec, spans)
}

// parseItem reads "3" or "1-4".
func parseItem(spec, it string) (span, error) {
	if it == "" {
		return span{}, fmt.Errorf("party list %q: empty item", spec)
	}
	lo, hi, isRange := strings.Cut(it, "-")
	a, err := partyID(spec, lo)
	if err != nil {
		return span{}, err
	}
	b := a
	if isRange {
		if b, err = partyID(spec, hi); err != nil {
			return span{}, err
		}
		if b < a {
			return span{}, fmt.Errorf("party list %q: range %s is reversed and names no party", spec, it)
		}
	}
	return span{a, b}, nil
}

func partyID(spec, s string) (int, error) {
	s = strings.TrimSpace(s)
	i, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("party list %q: %q is not a party id", spec, s)
	}
	if i < 1 {
		return 0, fmt.Errorf("party list %q: party %d: ids start at 1", spec, i)
	}
	return i, nil
}

// overlaps refuses a party named twice.
func overlaps(spec string, spans []span) error {
	sorted := append([]span(nil), spans...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].lo < sorted[j].lo })
	for k := 1; k < len(sorted); k++ {
		if sorted[k].lo <= sorted[k-1].hi {
			return fmt.Errorf("party list %q: party %d is named twice", spec, sorted[k].lo)
		}
	}
	return nil
}

// parties reads a party list at run time, with its placeholders expanded
// and every id checked against n. "" is {{party}}.
func parties(spec string, n int, v map[string][]string) ([]int, error) {
	if strings.TrimSpace(spec) == "" {
		spec = "{{party}}"
	}
	var items []string
	for _, it := range strings.Split(spec, ",") {
		it = strings.TrimSpace(it)
		if m := varRef.FindStringSubmatch(it); m != nil && m[0] == it {
			vals, ok := v[m[1]]
			if !ok {
				return nil, fmt.Errorf("party list %q: unknown variable %s", spec, it)
			}
			if len(vals) == 0 || strings.TrimSpace(strings.Join(vals, "")) == "" {
				return nil, fmt.Errorf("party list %q: %s is empty", spec, it)
			}
			for _, val := range vals {
				items = append(items, strings.Split(val, ",")...)
			}
			continue
		}
		items = append(items, it)
	}
	whole := strings.Join(items, ",")
	if len(items) == 1 && strings.TrimSpace(items[0]) == "all" {
		out := make([]int, n)
		for i := range out {
			out[i] = i + 1
		}
		return out, nil
	}
	var spans []span
	for _, it := range items {
		s, err := parseItem(whole, strings.TrimSpace(it))
		if err != nil {
			return nil, err
		}
		if s.hi > n {
			return nil, fmt.Errorf("party list %q: party %d out of 1..%d", whole, s.hi, n)
		}
		spans = append(spans, s)
	}
	if err := overlaps(whole, spans); err != nil {
		return nil, err
	}
	var out []int
	for _, s := range spans {
		for i := s.lo; i <= s.hi; i++ {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("empty party list")
	}
	return out, nil
}
