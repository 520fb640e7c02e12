package report

import (
	"strings"
	"testing"
)

// A diagnostic step that checks nothing is named in both scorecards, and a
// step that undid the harness's own fault is marked in the HTML one.
func TestStepFlagsAreShown(t *testing.T) {
	r := &Run{N: 4, T: 1, Scenarios: []Scenario{{Name: "s", Steps: []Step{
		{Name: "look around", OK: true, ChecksNothing: true},
		{Name: "heal", OK: true, UndoesFault: true},
	}}}}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if want := `- s: step "look around" checks nothing`; !strings.Contains(b.String(), want) {
		t.Errorf("text scorecard lacks %q:\n%s", want, b.String())
	}
	if strings.Contains(b.String(), `step "heal" checks nothing`) {
		t.Error("a step that checks something is listed as checking nothing")
	}
	page := writeHTML(t, r)
	if strings.Count(page, "checks nothing</span>") != 1 || strings.Count(page, "undoes the fault</span>") != 1 {
		t.Error("the HTML scorecard does not flag exactly the one diagnostic step and the one step that undid the fault")
	}
}
