package guide

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped runbooks and exclusions, as `kmschaos guide check` reads them.
const (
	shippedRunbooks   = "../../runbooks"
	shippedExclusions = "../../fixtures/guide-exclusions.yaml"
)

// checkShipped checks the shipped runbooks and exclusions against the
// guide at path, as `kmschaos guide check --guide path` does.
func checkShipped(t *testing.T, path string) *Report {
	t.Helper()
	g, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rbs, err := LoadRunbookDir(shippedRunbooks)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ReadExclusionsFile(shippedExclusions)
	if err != nil {
		t.Fatal(err)
	}
	return Check(g, rbs, ex)
}

// Every runbook step cites the guide as it is, and every part of it a
// runbook must cover is cited or excluded: a guide edit that moves or
// changes a cited command, or adds a command, turns this red, naming the
// runbook, the step and the address.
func TestShippedRunbooksCoverTheGuide(t *testing.T) {
	r := checkShipped(t, fixture)
	for _, p := range r.Problems {
		t.Errorf("%s (address %q)", p, p.Address)
	}
	s := r.Summary()
	if s.Gaps != 0 || s.Drift != 0 || s.Verbatim+s.Mapped+s.Substitute == 0 {
		t.Errorf("summary %s", s)
	}
}

// The guide fixed as a guide fix would do it (chmod -R 600 made safe):
// the runbook that runs it as written drifts, and the check says which
// runbook, which step and which address.
func TestShippedRunbooksDriftWhenTheGuideChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "troubleshooting-guide.md")
	if err := os.WriteFile(path, chmodChanged(t), 0o644); err != nil {
		t.Fatal(err)
	}
	r := checkShipped(t, path)
	if !r.Failed() || r.BadInput() {
		t.Fatalf("failed %v, bad input %v: drift must fail the check: %v", r.Failed(), r.BadInput(), r.Problems)
	}
	found := false
	for _, p := range problems(r, ProblemDrift) {
		if p.Address != chmodCmd {
			t.Errorf("drift at an address the change did not touch: %s", p)
		}
		if p.Runbook == "key-recovery-as-written" && p.Step == "chmod -R 600 as written" {
			found = true
			if p.File != filepath.Join(shippedRunbooks, "key-recovery-as-written.yaml") ||
				!strings.Contains(p.String(), `runbook key-recovery-as-written step "chmod -R 600 as written"`) ||
				!strings.Contains(p.Msg, "chmod -R u=rwX,go= /current/keys/") {
				t.Errorf("drift %s", p)
			}
		}
	}
	if !found {
		t.Errorf("no drift names key-recovery-as-written's step \"chmod -R 600 as written\": %v", r.Problems)
	}
}
