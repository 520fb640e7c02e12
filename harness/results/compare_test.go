package results

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// A scenario's outcome in one synthetic run: passed or not, and its
// TTD and TTR in seconds.
type outcome struct {
	pass     bool
	ttd, ttr float64
}

func ok(ttd, ttr float64) outcome { return outcome{true, ttd, ttr} }
func failed() outcome             { return outcome{false, 0, 0} }

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// recordRelease records one run per element of runs under release=rel,
// each with the scenarios named in it; returns the ids.
func recordRelease(t *testing.T, s *Store, rel string, at time.Time, runs []map[string]outcome) []string {
	t.Helper()
	var ids []string
	for k, scs := range runs {
		r := &report.Run{Seed: uint64(k), N: 4, T: 1, Backend: "docker", Machine: "test", Started: at.Add(time.Duration(k) * time.Minute), Duration: time.Minute}
		for _, name := range sortedOutcomes(scs) {
			o := scs[name]
			r.Scenarios = append(r.Scenarios, report.Scenario{Name: name, Section: "Process", Passed: o.pass, TTD: secs(o.ttd), TTR: secs(o.ttr)})
		}
		id, err := s.Record(context.Background(), r, Meta{Labels: map[string]string{"release": rel, "ci": "yes"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func sortedOutcomes(m map[string]outcome) []string {
	keys := make(map[string]string, len(m))
	for k := range m {
		keys[k] = ""
	}
	return sortedKeys(keys)
}

// Three runs of a release 1.4.1 and three of 1.4.2 with known
// regressions (a TTR doubled against a tight baseline; a solid scenario
// that now flakes), known noise (times within the baseline's spread, the
// same pass rates), an improvement, and scenarios on one side only.
func threeRunsEach(t *testing.T, s *Store) {
	t.Helper()
	recordRelease(t, s, "1.4.1", t0, []map[string]outcome{
		{"kill one party": ok(2, 10.0), "refused client link": ok(0.5, 4), "noisy restart": ok(1, 6), "flaky in both": ok(1, 5), "fixed": failed(), "wobbly detect": ok(2.0, 7), "dropped": ok(1, 1)},
		{"kill one party": ok(2, 10.2), "refused client link": ok(0.6, 4.1), "noisy restart": ok(1, 14), "flaky in both": failed(), "fixed": failed(), "wobbly detect": ok(2.1, 7), "dropped": ok(1, 1)},
		{"kill one party": ok(2, 9.9), "refused client link": ok(0.5, 3.9), "noisy restart": ok(1, 10), "flaky in both": ok(1, 5), "fixed": failed(), "wobbly detect": ok(1.9, 7), "dropped": ok(1, 1)},
	})
	recordRelease(t, s, "1.4.2", t0.Add(24*time.Hour), []map[string]outcome{
		{"kill one party": ok(2, 20.1), "refused client link": ok(0.5, 4), "noisy restart": ok(1, 13), "flaky in both": failed(), "fixed": ok(1, 3), "wobbly detect": ok(2.2, 7), "added": ok(1, 1)},
		{"kill one party": ok(2, 19.8), "refused client link": failed(), "noisy restart": ok(1, 13.5), "flaky in both": ok(1, 5.2), "fixed": ok(1, 3), "wobbly detect": ok(1.9, 7), "added": ok(1, 1)},
		{"kill one party": ok(2, 20.3), "refused client link": ok(0.5, 4.2), "noisy restart": ok(1, 14), "flaky in both": ok(1, 4.9), "fixed": ok(1, 3), "wobbly detect": ok(2.0, 7.1), "added": ok(1, 1)},
	})
}

func mustSide(t *testing.T, spec string) Side {
	t.Helper()
	side, err := ParseSide(spec)
	if err != nil {
		t.Fatal(err)
	}
	return side
}

func judgements(c *Comparison) map[string]Judgement {
	out := map[string]Judgement{}
	for _, sc := range c.Scenarios {
		out[sc.Name] = sc.Judgement
	}
	return out
}

// testCompareReleases finds each known regression, calls the noise
// noise, and lists regressions first.
func testCompareReleases(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	s := mustOpen(t, where)
	threeRunsEach(t, s)
	c, err := s.Compare(ctx, mustSide(t, "release=1.4.1"), mustSide(t, "release=1.4.2,ci=yes"), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Judgement{
		"kill one party":      Regression, // TTR 10 s → 20 s, baseline ±0.1 s
		"refused client link": Regression, // 3/3 → 2/3
		"noisy restart":       Noise,      // 10 s → 13.5 s, but the baseline ranged 6 s … 14 s
		"flaky in both":       Same,       // 2/3 → 2/3
		"wobbly detect":       Same,       // TTD 2.0 s → 2.0 s ± 0.1 s
		"fixed":               Improved,   // 0/3 → 3/3
		"added":               New,
		"dropped":             Gone,
	}
	got := judgements(c)
	for name, j := range want {
		if got[name] != j {
			t.Errorf("%s: want %s, got %s (all: %v)", name, j, got[name], got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("want %d scenarios, got %v", len(want), got)
	}
	if c.Regressions() != 2 || c.Scenarios[0].Judgement != Regression || c.Scenarios[1].Judgement != Regression {
		t.Errorf("two regressions, listed first: %+v", c.Scenarios)
	}
	if len(c.A.Runs) != 3 || len(c.B.Runs) != 3 {
		t.Errorf("three runs a side: %+v %+v", c.A, c.B)
	}
	for _, sc := range c.Scenarios {
		switch sc.Name {
		case "kill one party":
			if sc.TTR.Judgement != Regression || sc.B.TTR.Median != secs(20.1) || sc.A.TTR.Median != secs(10) || !strings.Contains(sc.Why, "TTR +10.1s beyond A's noise ±2s") {
				t.Errorf("kill one party: TTR 10s → 20.1s, margin the 20 %% floor: %+v %+v %q", sc.TTR, sc.B.TTR, sc.Why)
			}
		case "refused client link":
			if sc.Verdicts != Regression || sc.A.Passed != 3 || sc.B.Passed != 2 || sc.B.Failed != 1 || sc.Why != "was solid, now flakes" {
				t.Errorf("refused client link: 3/3 → 2/3: %+v %+v %q", sc.A, sc.B, sc.Why)
			}
		case "noisy restart":
			if sc.TTR.Judgement != Noise || sc.TTR.Margin != secs(12) {
				t.Errorf("noisy restart: TTR within 3 × MAD (4s): %+v", sc.TTR)
			}
		}
	}
	if sum := c.Summary(); !strings.HasPrefix(sum, "2 scenarios regressed: B release=1.4.2,ci=yes (3 runs) against A release=1.4.1 (3 runs): 2 regression, 1 improved, 1 noise, 2 same, 1 new, 1 gone") {
		t.Errorf("summary: %s", sum)
	}

	// Nothing regresses against itself, and the shared filter narrows.
	c, err = s.Compare(ctx, mustSide(t, "release=1.4.1"), mustSide(t, "release=1.4.1"), Filter{})
	if err != nil || c.Regressions() != 0 {
		t.Errorf("1.4.1 against itself: %v %+v", err, c)
	}
	c, err = s.Compare(ctx, mustSide(t, "release=1.4.1"), mustSide(t, "release=1.4.2"), Filter{Scenario: "noisy restart"})
	if err != nil || len(c.Scenarios) != 1 || c.Regressions() != 0 {
		t.Errorf("--scenario keeps only its row: %v %+v", err, c)
	}
}

// testCompareTooFew: one run a side cannot show a spread: a doubled TTR
// is "too few runs", not a regression; a pass → fail is one still.
func testCompareTooFew(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	s := mustOpen(t, where)
	a := recordRelease(t, s, "1.4.1", t0, []map[string]outcome{{"kill one party": ok(2, 10), "refused client link": ok(0.5, 4), "steady": ok(1, 5)}})
	b := recordRelease(t, s, "1.4.2", t0.Add(time.Hour), []map[string]outcome{{"kill one party": ok(2, 20), "refused client link": failed(), "steady": ok(1.1, 5.2)}})
	c, err := s.Compare(ctx, mustSide(t, a[0]), mustSide(t, b[0]), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := judgements(c)
	if got["kill one party"] != TooFew || got["refused client link"] != Regression || got["steady"] != Same || c.Regressions() != 1 {
		t.Errorf("one run a side: %v", got)
	}
	for _, sc := range c.Scenarios {
		if sc.Name == "kill one party" && sc.Why != "TTR +10s with 1/1 timed runs (3 each needed)" {
			t.Errorf("too few says why: %q", sc.Why)
		}
	}
}

// testCompareUnknown: a side the store cannot match is ErrUnknown naming
// the closest it holds, in one line.
func testCompareUnknown(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	s := mustOpen(t, where)
	ids := recordRelease(t, s, "1.4.1", t0, []map[string]outcome{{"kill one party": ok(2, 10)}})
	recordRelease(t, s, "1.4.2", t0.Add(time.Hour), []map[string]outcome{{"kill one party": ok(2, 10)}})
	for _, c := range []struct {
		a, b string
		f    Filter
		want string
	}{
		{ids[0][:11] + "x", "release=1.4.2", Filter{}, `unknown run "` + ids[0][:11] + `x" in ` + s.String() + `: did you mean "` + ids[0] + `"?`},
		{"release=1.4.1", "relase=1.4.2", Filter{}, `unknown label key "relase"`},
		{"release=1.4.1", "release=1.4.3", Filter{}, `did you mean "1.4.1"?`},
		{"release=1.4.1,ci=no", "release=1.4.2", Filter{}, `did you mean "yes"?`},
		{"release=1.4.1", "release=1.4.2", Filter{Scenario: "kill one parti"}, `did you mean "kill one party"?`},
		{"release=1.4.1", ids[0] + "0", Filter{}, `unknown run`},
	} {
		_, err := s.Compare(ctx, mustSide(t, c.a), mustSide(t, c.b), c.f)
		if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s vs %s: want one line with %q, got %v", c.a, c.b, c.want, err)
		}
	}
	// Labels each known, but no run has them together.
	if _, err := s.Record(ctx, sampleRun(t0.Add(2*time.Hour), time.Second, true), Meta{Labels: map[string]string{"release": "1.4.3", "team": "ops"}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Compare(ctx, mustSide(t, "release=1.4.1,team=ops"), mustSide(t, "release=1.4.3"), Filter{})
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), `side "release=1.4.1,team=ops": no run in `+s.String()+` matches it`) {
		t.Errorf("a side that matches no run: %v", err)
	}
	// --scenario narrows the rows, not the runs: one only B ran is new.
	c, err := s.Compare(ctx, mustSide(t, "release=1.4.1"), mustSide(t, "release=1.4.3"), Filter{Scenario: "refused client link"})
	if err != nil || len(c.Scenarios) != 1 || c.Scenarios[0].Judgement != New || len(c.A.Runs) != 1 {
		t.Errorf("a scenario only B ran, alone: %+v %v", c, err)
	}
}

func TestParseSide(t *testing.T) {
	for _, c := range []struct {
		spec string
		want Filter
	}{
		{"3f2a9c01b7e4", Filter{Run: "3f2a9c01b7e4"}},
		{"release=1.4.1", Filter{Labels: map[string]string{"release": "1.4.1"}}},
		{" release=1.4.1 , ci=yes ", Filter{Labels: map[string]string{"release": "1.4.1", "ci": "yes"}}},
	} {
		got, err := ParseSide(c.spec)
		if err != nil || got.Filter.Run != c.want.Run || FormatLabels(got.Filter.Labels) != FormatLabels(c.want.Labels) {
			t.Errorf("%q: want %+v, got %+v %v", c.spec, c.want, got.Filter, err)
		}
	}
	for _, bad := range []string{"release=1.4.1,ci", "=1.4.1", "", ","} {
		if _, err := ParseSide(bad); err == nil || !strings.Contains(err.Error(), "key=value") {
			t.Errorf("%q: want an error teaching key=value, got %v", bad, err)
		}
	}
}

// The time rule at its edges: the floors, 3 × MAD, and too few runs.
func TestJudgeTime(t *testing.T) {
	tight := spreadOf([]time.Duration{secs(10), secs(10.1), secs(9.9)}) // MAD 0.1 s: the 20 % floor (2 s) rules
	wide := spreadOf([]time.Duration{secs(4), secs(10), secs(16)})      // MAD 6 s: 18 s of noise
	fast := spreadOf([]time.Duration{secs(0.5), secs(0.5), secs(0.5)})  // the 250 ms floor rules
	of := func(xs ...float64) Spread {
		var ds []time.Duration
		for _, x := range xs {
			ds = append(ds, secs(x))
		}
		return spreadOf(ds)
	}
	for _, c := range []struct {
		name string
		a, b Spread
		want Judgement
	}{
		{"within the 20 % floor", tight, of(11.9, 12, 12.1), Same},
		{"beyond the floor and 3 MAD", tight, of(12.1, 12.2, 12.3), Regression},
		{"faster beyond the margin", tight, of(7, 7.5, 7.9), Improved},
		{"within 3 MAD of a wide baseline", wide, of(20, 27, 28), Noise},
		{"beyond 3 MAD of a wide baseline", wide, of(28, 29, 30), Regression},
		{"within 250 ms", fast, of(0.7, 0.75, 0.7), Same},
		{"beyond 250 ms", fast, of(0.8, 0.8, 0.8), Regression},
		{"two baseline runs", of(10, 10), of(30, 30, 30), TooFew},
		{"two runs of B", tight, of(30, 30), TooFew},
		{"one run each, a small change", of(10), of(10.5), Same},
		{"not measured", Spread{}, of(30), Same},
	} {
		if got := judgeTime("TTR", c.a, c.b); got.Judgement != c.want {
			t.Errorf("%s: want %s, got %+v", c.name, c.want, got)
		}
	}
}
