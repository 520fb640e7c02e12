package report

import (
	"strings"
	"testing"
)

const skipReason = "injecting pause (freeze) parties [3]: party 3: Pause is not supported on the kubernetes backend: a pod cannot be frozen"

// skipRun has one row of each result, the skipped one with Passed false
// as the runner writes it.
func skipRun() *Run {
	return &Run{Seed: 7, N: 4, T: 1, Scenarios: []Scenario{
		{Name: "passes", Section: "S", Passed: true, DataIntact: true},
		{Name: "fails", Section: "S", Error: "did not recover after the runbooks"},
		{Name: "frozen party", Section: "S", Skipped: skipReason},
	}}
}

func TestSkippedRowIsNeitherPassedNorFailed(t *testing.T) {
	if p, f, s := skipRun().Tally(); p != 1 || f != 1 || s != 1 {
		t.Errorf("tally %d passed, %d failed, %d skipped; want 1, 1, 1", p, f, s)
	}
}

func TestTextShowsSkipped(t *testing.T) {
	var b strings.Builder
	if err := skipRun().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if first, _, _ := strings.Cut(out, "\n"); !strings.Contains(first, "1 of 3 scenarios passed, 1 skipped in ") {
		t.Errorf("first line %q, want it to count the skipped row apart", first)
	}
	var row string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, "frozen party") {
			row = line
		}
	}
	if !strings.HasPrefix(row, "SKIP ") {
		t.Errorf("the skipped row reads %q, want RESULT SKIP", row)
	}
	failed, skipped, ok := strings.Cut(out, "\nSkipped")
	if !ok || !strings.Contains(skipped, "- frozen party: "+skipReason) {
		t.Errorf("no list of skipped scenarios with their reasons:\n%s", out)
	}
	if !strings.Contains(failed, "Failed:\n- fails: ") || strings.Contains(failed, "- frozen party") {
		t.Errorf("the failures list must name the failed row and not the skipped one:\n%s", out)
	}

	// Without a skipped row the first line reads as it always did.
	b.Reset()
	r := skipRun()
	r.Scenarios = r.Scenarios[:2]
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "skipped") || !strings.Contains(out, "1 of 2 scenarios passed in ") {
		t.Errorf("a run without skips changed its text:\n%s", out)
	}
}

func TestJUnitSkipped(t *testing.T) {
	got := readJUnit(t, skipRun())
	if got.Tests != 3 || got.Failures != 1 || got.Disabled != 1 {
		t.Errorf("run: %d tests, %d failures, %d disabled; want 3, 1, 1", got.Tests, got.Failures, got.Disabled)
	}
	suite := got.TestSuites[0]
	if suite.Skipped != 1 || suite.Failures != 1 {
		t.Errorf("suite: %d skipped, %d failures; want 1, 1", suite.Skipped, suite.Failures)
	}
	tc := suite.TestCases[2]
	if tc.Status != "skipped" || tc.Failure != nil || tc.Skipped == nil || tc.Skipped.Message != "skipped - "+skipReason {
		t.Errorf("the skipped scenario reads %+v (skipped %+v)", tc, tc.Skipped)
	}
}

func TestHTMLShowsSkipped(t *testing.T) {
	out := writeHTML(t, skipRun())
	for _, want := range []string{`<span class="badge skipped">SKIP</span>`, `<details class="sc skip"`, "1 skipped</span>", skipReason} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Only the failed row is red and expanded; its details fold under
	// the row, so its badge shows once.
	if n := strings.Count(out, `<span class="badge failed">FAIL</span>`); n != 1 {
		t.Errorf("%d FAIL badges, want 1 (the failed row's)", n)
	}
	if strings.Contains(out, `id="sc-2" open`) {
		t.Error("the skipped scenario is expanded like a failure")
	}

	r := skipRun()
	r.Scenarios = []Scenario{r.Scenarios[0], r.Scenarios[2]}
	if out := writeHTML(t, r); strings.Contains(out, "All 2 scenarios passed") || !strings.Contains(out, "1 of 2 scenarios passed, 1 skipped") {
		t.Error("a run with a skip and no failure must not read as all passed")
	}
}
