package results

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Comparing two sets of runs — a baseline A (the last release) and a
// candidate B (this one) — scenario by scenario: did a scenario that was
// solid start failing, did its TTD or TTR grow by more than the baseline's
// own run-to-run spread. The rule is in RuleText; docs/results.md and
// `kmschaos compare --help` quote it.

// MinRuns is how many timed runs each side needs before a change of TTD
// or TTR beyond the floors is judged: fewer cannot show a spread.
const MinRuns = 3

// The floors: a change of the median smaller than both is "same", however
// tight the baseline — a release engineer does not chase 200 ms.
const (
	AbsoluteFloor = 250 * time.Millisecond
	RelativeFloor = 0.20 // of the baseline's median
	// MADs is how many median absolute deviations of the baseline a
	// change must exceed to be more than noise (3 MAD ≈ 2 standard
	// deviations of a normal spread, and unmoved by one odd run).
	MADs = 3
)

// RuleText is the rule in one paragraph, for the help and the docs.
const RuleText = `A scenario regressed when it passed in every baseline run and failed in
any run of B (or passed sometimes and now never), or when the median TTD or
TTR of B's passing runs exceeds the baseline's median by more than the
margin: the largest of 3 × the baseline's median absolute deviation (its
run-to-run spread), 250 ms and 20 % of the baseline's median. A change
within 250 ms / 20 % is "same"; one beyond that but within 3 × MAD is
"noise": the baseline itself varies that much. Judging a change beyond the
floors needs 3 passing runs on each side: with fewer it says "too few runs"
instead of guessing (a pass → fail needs no spread and is judged from one
run). The same margin the other way is "improved". A scenario only one side
ran is listed as new or gone, not judged.`

// Side is one side of a comparison: one run by id, or every run with all
// of these labels; plus the filters both sides share.
type Side struct {
	Spec   string // as the user wrote it, for messages
	Filter Filter
}

// ParseSide reads a side as the user writes it: a run id, or labels
// key=value joined by commas (release=1.4.1,ci=yes). Anything with a
// comma or = is labels, each of which must be key=value.
func ParseSide(spec string) (Side, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Side{}, fmt.Errorf("an empty side: give a run id or labels key=value, e.g. release=1.4.1")
	}
	if !strings.ContainsAny(spec, "=,") {
		return Side{Spec: spec, Filter: Filter{Run: spec}}, nil
	}
	labels := map[string]string{}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := cutLabel(kv)
		if !ok {
			return Side{}, fmt.Errorf("label %q in %q: a label is key=value, e.g. release=1.4.1 (several joined by commas)", kv, spec)
		}
		labels[k] = v
	}
	return Side{Spec: spec, Filter: Filter{Labels: labels}}, nil
}

// Judgement is what a comparison says of a scenario, worst first.
type Judgement string

const (
	Regression Judgement = "regression"
	TooFew     Judgement = "too few runs"
	Improved   Judgement = "improved"
	Noise      Judgement = "noise"
	Same       Judgement = "same"
	New        Judgement = "new"
	Gone       Judgement = "gone"
	Unjudged   Judgement = "skipped" // skipped in every run of a side
)

var judgementOrder = []Judgement{Regression, TooFew, Improved, Noise, Same, New, Gone, Unjudged}

// Spread is one side's values of a time: the passing runs that measured
// it (a 0 is "not measured": a runbook run has no TTD).
type Spread struct {
	Count  int           `json:"count"`
	Median time.Duration `json:"median_ns"`
	MAD    time.Duration `json:"mad_ns"` // median absolute deviation
	Min    time.Duration `json:"min_ns"`
	Max    time.Duration `json:"max_ns"`
}

// Tally is one side's verdicts of a scenario.
type Tally struct {
	Count
	TTD Spread `json:"ttd"`
	TTR Spread `json:"ttr"`
}

// TimeChange is a time's judgement: B's median against A's, and the
// margin it was held to.
type TimeChange struct {
	Delta     time.Duration `json:"delta_ns"`  // B's median − A's
	Margin    time.Duration `json:"margin_ns"` // what a change must exceed
	Judgement Judgement     `json:"judgement"`
	Why       string        `json:"why,omitempty"`
}

// ScenarioChange is one scenario in A and in B, and the judgement.
type ScenarioChange struct {
	Name      string     `json:"name"`
	Section   string     `json:"section"`
	A         *Tally     `json:"a"` // nil: A never ran it
	B         *Tally     `json:"b"`
	Verdicts  Judgement  `json:"verdicts"`
	TTD       TimeChange `json:"ttd"`
	TTR       TimeChange `json:"ttr"`
	Judgement Judgement  `json:"judgement"` // the worst of the three
	Why       string     `json:"why"`       // in a few words
}

// SideRuns is what a side selected.
type SideRuns struct {
	Spec string   `json:"spec"`
	Runs []string `json:"runs"` // ids, newest first
}

// Comparison is B against A.
type Comparison struct {
	Store     string           `json:"store"`
	A         SideRuns         `json:"a"`
	B         SideRuns         `json:"b"`
	Counts    map[string]int   `json:"counts"` // per judgement
	Scenarios []ScenarioChange `json:"scenarios"`
}

// Size is how many runs the side selected, in words: "1 run", "3 runs".
func (s SideRuns) Size() string { return plural(len(s.Runs), "run") }

// Regressions counts the scenarios that regressed.
func (c *Comparison) Regressions() int { return c.Counts[string(Regression)] }

// Summary is the comparison in one line.
func (c *Comparison) Summary() string {
	var parts []string
	for _, j := range judgementOrder {
		if n := c.Counts[string(j)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, j))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no scenario"}
	}
	head := "no regression"
	switch n := c.Regressions(); n {
	case 0:
	case 1:
		head = "1 scenario regressed"
	default:
		head = fmt.Sprintf("%d scenarios regressed", n)
	}
	return fmt.Sprintf("%s: B %s (%s) against A %s (%s): %s", head, c.B.Spec, c.B.Size(), c.A.Spec, c.A.Size(), strings.Join(parts, ", "))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Compare judges B against A, scenario by scenario, within the
// scenarios (and section) the shared filter keeps. A run id, label,
// scenario or section the store has never seen wraps ErrUnknown naming
// the closest; a side that selects no run wraps ErrUnknown too.
func (s *Store) Compare(ctx context.Context, a, b Side, shared Filter) (*Comparison, error) {
	c := &Comparison{Store: s.where, Counts: map[string]int{}}
	sides := [2]map[string]*Tally{}
	names := map[string]string{} // name → section
	for i, side := range []Side{a, b} {
		f := side.Filter
		f.Backend = shared.Backend
		ids, tallies, err := s.side(ctx, f, shared, names)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("%w side %q: no run in %s matches it%s", ErrUnknown, side.Spec, s.where, backendOf(shared))
		}
		sides[i] = tallies
		if i == 0 {
			c.A = SideRuns{side.Spec, ids}
		} else {
			c.B = SideRuns{side.Spec, ids}
		}
	}
	for name, section := range names {
		ch := judge(sides[0][name], sides[1][name])
		ch.Name, ch.Section = name, section
		c.Scenarios = append(c.Scenarios, ch)
		c.Counts[string(ch.Judgement)]++
	}
	rank := func(j Judgement) int { return slices.Index(judgementOrder, j) }
	sort.Slice(c.Scenarios, func(i, j int) bool {
		x, y := c.Scenarios[i], c.Scenarios[j]
		if rank(x.Judgement) != rank(y.Judgement) {
			return rank(x.Judgement) < rank(y.Judgement)
		}
		return x.Name < y.Name // the table has no section column
	})
	return c, nil
}

func backendOf(f Filter) string {
	if f.Backend == "" {
		return ""
	}
	return " on backend " + f.Backend
}

// side reads what a side's filter selects: its runs' ids, newest first,
// and per scenario its tally; names gathers every scenario's section.
// The shared scenario and section narrow the rows, not the runs: a
// scenario only B ran is new, not a side without runs.
func (s *Store) side(ctx context.Context, f, shared Filter, names map[string]string) ([]string, map[string]*Tally, error) {
	if err := s.known(ctx, Filter{Run: f.Run, Labels: f.Labels, Backend: f.Backend, Scenario: shared.Scenario, Section: shared.Section}); err != nil {
		return nil, nil, err
	}
	cond, args := f.where()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT r.id FROM runs r WHERE `+cond+` ORDER BY r.started_ns DESC, r.id`), args...)
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return nil, nil, err
		}
		ids = append(ids, id)
	}
	if err := closeRows(rows); err != nil {
		return nil, nil, err
	}
	if shared.Scenario != "" {
		cond, args = cond+" AND s.name = ?", append(args, shared.Scenario)
	}
	if shared.Section != "" {
		cond, args = cond+" AND s.section = ?", append(args, shared.Section)
	}
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT s.name, s.section, s.verdict, s.ttd_ns, s.ttr_ns
		FROM runs r `+s.runsFirst()+` scenarios s ON s.run_id = r.id WHERE `+cond), args...)
	if err != nil {
		return nil, nil, err
	}
	tallies := map[string]*Tally{}
	ttd, ttr := map[string][]time.Duration{}, map[string][]time.Duration{}
	for rows.Next() {
		var name, section, verdict string
		var d, r int64
		if err := rows.Scan(&name, &section, &verdict, &d, &r); err != nil {
			_ = rows.Close()
			return nil, nil, err
		}
		names[name] = section
		t := tallies[name]
		if t == nil {
			t = &Tally{}
			tallies[name] = t
		}
		t.Add(verdict)
		// Times of passing runs only: a failed run's TTR is not a
		// recovery, and its verdict is judged already.
		if verdict == "PASS" && d > 0 {
			ttd[name] = append(ttd[name], time.Duration(d))
		}
		if verdict == "PASS" && r > 0 {
			ttr[name] = append(ttr[name], time.Duration(r))
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, nil, err
	}
	for name, t := range tallies {
		t.TTD, t.TTR = spreadOf(ttd[name]), spreadOf(ttr[name])
	}
	return ids, tallies, nil
}

func median(s []time.Duration) time.Duration {
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func spreadOf(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	med := median(s)
	dev := make([]time.Duration, len(s))
	for i, d := range s {
		dev[i] = d - med
		if dev[i] < 0 {
			dev[i] = -dev[i]
		}
	}
	slices.Sort(dev)
	return Spread{Count: len(s), Median: med, MAD: median(dev), Min: s[0], Max: s[len(s)-1]}
}

// judge is the rule (RuleText) for one scenario; a or b is nil where that
// side never ran it.
func judge(a, b *Tally) ScenarioChange {
	ch := ScenarioChange{A: a, B: b}
	switch {
	case a == nil:
		ch.Judgement, ch.Why = New, "only B ran it"
		return ch
	case b == nil:
		ch.Judgement, ch.Why = Gone, "only A ran it"
		return ch
	case a.Judged() == 0 || b.Judged() == 0:
		ch.Judgement, ch.Why = Unjudged, "skipped in every run of a side"
		return ch
	}
	ch.Verdicts, ch.Why = judgeVerdicts(*a, *b)
	ch.TTD = judgeTime("TTD", a.TTD, b.TTD)
	ch.TTR = judgeTime("TTR", a.TTR, b.TTR)
	ch.Judgement = ch.Verdicts
	var why []string
	if ch.Why != "" {
		why = append(why, ch.Why)
	}
	for _, t := range []TimeChange{ch.TTD, ch.TTR} {
		if worse(t.Judgement, ch.Judgement) {
			ch.Judgement = t.Judgement
		}
		if t.Why != "" && t.Judgement != Same {
			why = append(why, t.Why)
		}
	}
	ch.Why = strings.Join(why, "; ")
	return ch
}

func worse(x, y Judgement) bool {
	return slices.Index(judgementOrder, x) < slices.Index(judgementOrder, y)
}

// state orders a side's verdicts: 2 solid (always passed), 1 flaky, 0
// failing (never passed).
func state(t Tally) int {
	switch {
	case t.Failed == 0:
		return 2
	case t.Flaky():
		return 1
	}
	return 0
}

func judgeVerdicts(a, b Tally) (Judgement, string) {
	sa, sb := state(a), state(b)
	word := []string{"failing", "flaky", "solid"}
	switch {
	case sb < sa:
		return Regression, fmt.Sprintf("was %s, now %s", word[sa], map[int]string{0: "always fails", 1: "flakes"}[sb])
	case sb > sa:
		return Improved, fmt.Sprintf("was %s, now %s", word[sa], word[sb])
	}
	return Same, ""
}

// judgeTime is the time rule: B's median against A's, beyond the floors
// and 3 × A's MAD.
func judgeTime(what string, a, b Spread) TimeChange {
	if a.Count == 0 || b.Count == 0 {
		return TimeChange{Judgement: Same}
	}
	delta := b.Median - a.Median
	floor := max(AbsoluteFloor, time.Duration(math.Round(RelativeFloor*float64(a.Median))))
	margin := max(floor, MADs*a.MAD)
	tc := TimeChange{Delta: delta, Margin: margin}
	size := delta
	if size < 0 {
		size = -size
	}
	switch {
	case size <= floor:
		tc.Judgement = Same
	case a.Count < MinRuns || b.Count < MinRuns:
		tc.Judgement = TooFew
		tc.Why = fmt.Sprintf("%s %s with %d/%d timed runs (%d each needed)", what, signed(delta), a.Count, b.Count, MinRuns)
		margin = 0
	case size <= margin:
		tc.Judgement = Noise
		tc.Why = fmt.Sprintf("%s %s within A's noise ±%s", what, signed(delta), roundDur(margin))
	case delta > 0:
		tc.Judgement = Regression
		tc.Why = fmt.Sprintf("%s %s beyond A's noise ±%s", what, signed(delta), roundDur(margin))
	default:
		tc.Judgement = Improved
		tc.Why = fmt.Sprintf("%s %s beyond A's noise ±%s", what, signed(delta), roundDur(margin))
	}
	tc.Margin = margin
	return tc
}

func roundDur(d time.Duration) string {
	if d < time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func signed(d time.Duration) string {
	if d < 0 {
		return "-" + roundDur(-d)
	}
	return "+" + roundDur(d)
}
