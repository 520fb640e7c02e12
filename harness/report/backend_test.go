package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The scorecard says where the clusters ran, in every format a user or CI reads.
func TestScorecardNamesTheBackend(t *testing.T) {
	r := &Run{N: 4, T: 1, Backend: "kubernetes", Machine: "2 cores", Scenarios: []Scenario{{Name: "a party is killed", Section: "Process"}}}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.WriteJUnit(filepath.Join(dir, "junit.xml")); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(filepath.Join(dir, "report.html")); err != nil {
		t.Fatal(err)
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if first, _, _ := strings.Cut(text.String(), "\n"); !strings.HasPrefix(first, "kmschaos scorecard on kubernetes: n=4 t=1") {
		t.Errorf("scorecard's first line: %q", first)
	}
	if !strings.Contains(string(junit), `name="backend" value="kubernetes"`) {
		t.Errorf("junit has no backend property:\n%s", string(junit))
	}
	if !strings.Contains(string(html), "<dt>Backend</dt><dd>kubernetes</dd>") {
		t.Error("the HTML report does not name the backend")
	}
}

// The KEYS column says what an audit found, and nothing where none ran: a
// skipped row, a row that stopped before its audit, a row written by hand
// that only claims intact keys.
func TestKeysOfARowNotAudited(t *testing.T) {
	if got := (Scenario{Skipped: "kubectl is not supported on the docker backend"}).KeysWord(); got != "-" {
		t.Errorf("a skipped row's keys: %q, want -", got)
	}
	if got := (Scenario{}).KeysWord(); got != "-" {
		t.Errorf("a row that stopped before its audit: %q, want -", got)
	}
	if got := (Scenario{DataIntact: true}).KeysWord(); got != "-" {
		t.Errorf("a row that claims intact keys without an audit: %q, want -", got)
	}
	if got := (Scenario{Skipped: "x", Keys: KeysLost}).KeysWord(); got != KeysLost {
		t.Errorf("a skipped row whose runbook lost keys: %q, want %s", got, KeysLost)
	}
	if got := (Scenario{Keys: KeysChanged}).KeysWord(); got != KeysChanged {
		t.Errorf("an audit that found a change: %q, want %s", got, KeysChanged)
	}
}
