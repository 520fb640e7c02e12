package trends

import (
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/results"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// sample is four runs, newest first as the store lists them: the two
// newest wrote reports under /ci/reports, the two oldest none. "kill"
// passed, failed, passed, passed (flaky); "link" passed always; "evict"
// was skipped always; "old" ran only in a run older than those listed.
func sample(pageDir string) Input {
	runs := []results.Run{
		{ID: "rrr444444444", Started: t0.Add(3 * time.Hour), Report: "/ci/reports/4/report.html"},
		{ID: "rrr333333333", Started: t0.Add(2 * time.Hour), Report: "/ci/reports/3/report.html"},
		{ID: "rrr222222222", Started: t0.Add(time.Hour)},
		{ID: "rrr111111111", Started: t0},
	}
	v := func(run int, verdict string, ttd, ttr time.Duration) results.Verdict {
		return results.Verdict{Run: runs[4-run].ID, Started: runs[4-run].Started, Verdict: verdict, TTD: ttd, TTR: ttr}
	}
	return Input{Store: "results.db", Limit: 4, Runs: runs, PageDir: pageDir, Generated: t0.Add(4 * time.Hour),
		Scenarios: []results.ScenarioHistory{
			{Name: "refused link", Section: "Connectivity", Last: []results.Verdict{
				v(4, "PASS", time.Second, 3*time.Second), v(3, "PASS", time.Second, 4*time.Second), v(2, "PASS", 2*time.Second, 3*time.Second), v(1, "PASS", time.Second, 2*time.Second)}},
			{Name: "evict a node", Section: "Process", Last: []results.Verdict{v(4, "SKIP", 0, 0), v(2, "SKIP", 0, 0)}},
			{Name: "kill one party", Section: "Process", Last: []results.Verdict{
				v(4, "PASS", 2*time.Second, 9*time.Second), v(3, "PASS", 2*time.Second, 8*time.Second), v(2, "FAIL", 0, 0), v(1, "PASS", time.Second, 7*time.Second)}},
			{Name: "old only", Section: "Process", Last: []results.Verdict{{Run: "rrr000000000", Started: t0.Add(-time.Hour), Verdict: "FAIL"}}},
		}}
}

func TestBuildCountsFlakesAndRates(t *testing.T) {
	p := Build(sample("/ci"))
	if p.Scenarios != 3 || len(p.Sections) != 2 {
		t.Fatalf("scenarios %d, sections %d: want 3 in 2 (a scenario of no run listed is left out)", p.Scenarios, len(p.Sections))
	}
	got := map[string]*Scenario{}
	for _, s := range p.Sections {
		for _, sc := range s.Rows {
			got[sc.Name] = sc
		}
	}
	kill, link, evict := got["kill one party"], got["refused link"], got["evict a node"]
	if !kill.Flaky || link.Flaky || evict.Flaky {
		t.Errorf("flaky: kill %v link %v evict %v; want only kill (it passed and failed)", kill.Flaky, link.Flaky, evict.Flaky)
	}
	if len(p.Flaky) != 1 || p.Flaky[0] != kill {
		t.Errorf("the summary's flaky list: %v", p.Flaky)
	}
	if kill.Rate.PassRate() != "75 %" || link.Rate.PassRate() != "100 %" || evict.Rate.PassRate() != "—" {
		t.Errorf("pass rates: kill %s link %s evict %s; want 75 %%, 100 %%, — (skips are neither)", kill.Rate.PassRate(), link.Rate.PassRate(), evict.Rate.PassRate())
	}
	process := p.Sections[1].Rate
	if process.Name != "Process" || process.Scenarios != 2 || process.Flakes != 1 || process.FlakeRate() != "50 %" || process.PassRate() != "75 %" || process.Skipped != 2 {
		t.Errorf("section Process: %+v, flake rate %s, pass rate %s", process, process.FlakeRate(), process.PassRate())
	}
	if p.Totals.Passed != 7 || p.Totals.Failed != 1 || p.Totals.Flakes != 1 || p.Totals.Scenarios != 3 || p.Totals.PassRate() != "88 %" || p.Totals.FlakeRate() != "33 %" {
		t.Errorf("totals: %+v", p.Totals)
	}
}

func TestBuildPointsPerScenario(t *testing.T) {
	p := Build(sample("/ci"))
	kill := p.Sections[1].Rows[1]
	var runs []string
	for _, pt := range kill.Points {
		runs = append(runs, pt.Run.ID[:4]+pt.Verdict)
	}
	if strings.Join(runs, " ") != "rrr1PASS rrr2FAIL rrr3PASS rrr4PASS" {
		t.Errorf("kill's points, oldest first: %v", runs)
	}
	// The TTR chart: a point per run, each in its run's column; the
	// failed run, unmeasured, on the base line and breaking the line.
	c := kill.TTR
	if len(c.Points) != 4 || c.Top != "10 s" || c.Mid != "5 s" {
		t.Fatalf("TTR chart: %d points, scale %s/%s; want 4 on a scale to 10 s", len(c.Points), c.Top, c.Mid)
	}
	for i, pt := range c.Points {
		if pt.X != p.Axis.Ticks[i].X {
			t.Errorf("point %d at x=%s, its run's tick at %s", i, pt.X, p.Axis.Ticks[i].X)
		}
	}
	if c.Points[1].Y != c.BaseY || c.Points[1].Class != "fail unmeasured" || !strings.HasPrefix(c.Points[1].Title, "no TTR — run rrr222222222") {
		t.Errorf("the failed run's point: %+v", c.Points[1])
	}
	if len(c.Lines) != 1 || strings.Count(c.Lines[0], "L") != 1 {
		t.Errorf("one line through the two measured runs after the gap, got %q", c.Lines)
	}
	// Runs of one scenario's history not listed are left out; evict
	// has points only where it ran.
	if evict := p.Sections[1].Rows[0]; len(evict.Points) != 2 || evict.TTD.Measured {
		t.Errorf("evict: %d points, measured %v; want 2, none measured", len(evict.Points), evict.TTD.Measured)
	}
}

func TestBuildLinksToReportsOrRows(t *testing.T) {
	for _, c := range []struct {
		pageDir string
		want    []string // newest first
	}{
		{"/ci", []string{"reports/4/report.html#run-rrr444444444", "reports/3/report.html#run-rrr333333333", "#run-rrr222222222", "#run-rrr111111111"}},
		{"/home/me/trends", []string{"../../../ci/reports/4/report.html#run-rrr444444444", "../../../ci/reports/3/report.html#run-rrr333333333", "#run-rrr222222222", "#run-rrr111111111"}},
		{"", []string{"file:///ci/reports/4/report.html#run-rrr444444444", "file:///ci/reports/3/report.html#run-rrr333333333", "#run-rrr222222222", "#run-rrr111111111"}},
	} {
		p := Build(sample(c.pageDir))
		for i, r := range p.Runs {
			if string(r.Href) != c.want[i] || r.ToReport != (i < 2) {
				t.Errorf("page in %q: run %s links %q (to a report: %v), want %q", c.pageDir, r.ID, r.Href, r.ToReport, c.want[i])
			}
		}
		// A point links where its run does.
		for _, pt := range p.Sections[0].Rows[0].TTD.Points {
			if want := hrefOf(p, pt.Run); pt.Href != want {
				t.Errorf("point of run %s links %q, its run %q", pt.Run, pt.Href, want)
			}
		}
	}
	// A report path with a space or a # is escaped, not cut.
	href, _ := link(results.Run{ID: "x", Report: "/ci/my reports/#1/report.html"}, "/ci")
	if href != "my%20reports/%231/report.html#run-x" {
		t.Errorf("escaped: %q", href)
	}
}

func hrefOf(p Page, run string) template.URL {
	for _, r := range p.Runs {
		if r.ID == run {
			return r.Href
		}
	}
	return "no such run"
}

func TestNiceScale(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1 ms", 800 * time.Millisecond: "1 s", 1200 * time.Millisecond: "2 s", 9 * time.Second: "10 s", 31 * time.Second: "50 s", 95 * time.Second: "1 min 40 s"} {
		if got := fmtDur(niceCeil(d)); got != want {
			t.Errorf("scale over %v: %s, want %s", d, got, want)
		}
	}
}
