package guide

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
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

// drainRestart is a new procedure for the guide's Service Recovery list.
const drainRestart = "**Drain Restart**\n   ```bash\n   # Drain traffic before restarting\n   kms-admin drain kms-server\n   docker-compose restart kms-server\n   ```\n\n"

// withDrainRestart writes the shipped guide with drainRestart inserted as
// the Service Recovery list's item 2 (the items after it renumbered), or
// appended as its item 4.
func withDrainRestart(t *testing.T, middle bool) string {
	t.Helper()
	src, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	if middle {
		s = strings.Replace(s, "3. **Full System Recovery**", "4. **Full System Recovery**", 1)
		s = strings.Replace(s, "2. **Force Restart**", "2. "+drainRestart+"3. **Force Restart**", 1)
	} else {
		s = strings.Replace(s, "### Data Recovery", "4. "+drainRestart+"### Data Recovery", 1)
	}
	if strings.Count(s, "Drain Restart") != 1 || (middle && !strings.Contains(s, "4. **Full System Recovery**")) {
		t.Fatal("the guide's Service Recovery list is not as this test expects")
	}
	path := filepath.Join(t.TempDir(), "troubleshooting-guide.md")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A procedure inserted in the middle of the emergency procedures' list
// renumbers the two after it: every runbook step citing them is told its
// citation moved and where to, and the new procedure is a gap, in the same
// check. Appended at the end, it is a gap and nothing moved.
func TestShippedRunbooksFollowAnInsertedProcedure(t *testing.T) {
	const sr = "Emergency Procedures > Service Recovery > "
	gaps := func(n int) []string {
		item := fmt.Sprintf("%s%d. Drain Restart", sr, n)
		return []string{item, item + " > block 1", item + " > block 1 > line 2", item + " > block 1 > line 3"}
	}
	for _, c := range []struct {
		name   string
		middle bool
		moved  []string // runbook / step: old address → new address
		gaps   []string
	}{
		{"in the middle", true, []string{
			`force-restart / Force kill: 2. Force Restart > block 1 > line 2 → 3. Force Restart > block 1 > line 2`,
			`force-restart / Remove the container: 2. Force Restart > block 1 > line 3 → 3. Force Restart > block 1 > line 3`,
			`force-restart / Create it again: 2. Force Restart > block 1 > line 4 → 3. Force Restart > block 1 > line 4`,
			`full-system-recovery-as-written / docker-compose down --volumes (containers): 3. Full System Recovery > block 1 > line 2 → 4. Full System Recovery > block 1 > line 2`,
			`full-system-recovery-as-written / docker-compose down --volumes (volumes): 3. Full System Recovery > block 1 > line 2 → 4. Full System Recovery > block 1 > line 2`,
			`full-system-recovery-as-written / docker system prune -f: 3. Full System Recovery > block 1 > line 3 → 4. Full System Recovery > block 1 > line 3`,
			`full-system-recovery-as-written / docker-compose up -d: 3. Full System Recovery > block 1 > line 4 → 4. Full System Recovery > block 1 > line 4`,
		}, gaps(2)},
		{"at the end", false, nil, gaps(4)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := checkShipped(t, withDrainRestart(t, c.middle))
			if r.BadInput() || !r.Failed() {
				t.Errorf("bad input %v, failed %v: the edit is a finding, not unreadable input", r.BadInput(), r.Failed())
			}
			var moved, gapped []string
			for _, p := range r.Problems {
				switch p.Kind {
				case ProblemMoved:
					moved = append(moved, fmt.Sprintf("%s / %s: %s → %s", p.Runbook, p.Step, strings.TrimPrefix(p.Text, sr), strings.TrimPrefix(p.Address, sr)))
					if !strings.HasPrefix(p.File, shippedRunbooks+"/") || !strings.Contains(p.String(), fmt.Sprintf("it is now at %q; write that address", p.Address)) {
						t.Errorf("%s: does not name the runbook file and the new address", p)
					}
				case ProblemGap:
					gapped = append(gapped, p.Address)
				default:
					t.Errorf("%s", p)
				}
			}
			if !slices.Equal(moved, c.moved) {
				t.Errorf("moved\n  %s\nwant\n  %s", strings.Join(moved, "\n  "), strings.Join(c.moved, "\n  "))
			}
			if !slices.Equal(gapped, c.gaps) {
				t.Errorf("gaps %q, want %q", gapped, c.gaps)
			}
		})
	}
}
