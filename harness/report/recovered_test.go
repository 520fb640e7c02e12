package report

import (
	"strings"
	"testing"
)

// Every row that says who recovered the cluster is counted in the summary,
// the operations pages' runbooks included, and the counts add up to the
// rows.
func TestRecoveredBySummaryCountsEveryRow(t *testing.T) {
	r := &Run{Scenarios: []Scenario{
		{Name: "a", RecoveredBy: ByGuide}, {Name: "b", RecoveredBy: ByOperations}, {Name: "c", RecoveredBy: ByOperations},
		{Name: "d", RecoveredBy: ByHarness}, {Name: "e", RecoveredBy: "players"}, {Name: "f"},
	}}
	got := r.RecoveredBySummary()
	want := "1 by the guide as written, 2 by the real KMS's operations pages, 1 by the harness undoing its own fault (TTR measures the harness), 1 by players"
	if got != want {
		t.Errorf("summary %q\nwant    %q", got, want)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\nRecovered by: "+want+"\n") {
		t.Errorf("the scorecard does not carry the summary:\n%s", b.String())
	}
}
