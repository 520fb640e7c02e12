package guide

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// movesGuide is a small guide with two numbered procedures and a block
// under a heading; movesRunbooks cite a command of each procedure and
// movesExclusions the heading's block.
const movesGuide = "# G\n\n## Recovery\n\n" +
	"1. **Restart**\n   ```bash\n   docker-compose stop kms-server\n   docker-compose start kms-server\n   ```\n\n" +
	"2. **Restore**\n   ```bash\n   cp -r /backup/keys/* /current/keys/\n   ```\n\n" +
	"## Diagnostics\n\n```bash\nls\n```\n"

const (
	drainItem   = "**Drain**\n   ```bash\n   kms-admin drain\n   ```\n\n"
	restoreItem = "**Restore**\n   ```bash\n   cp -r /backup/keys/* /current/keys/\n   ```\n"
)

// drainInserted inserts the Drain procedure as item 2: Restore becomes 3.
func drainInserted(s string) string {
	return strings.Replace(s, "2. **Restore**", "2. "+drainItem+"3. **Restore**", 1)
}

func movesRunbooks() []RunbookCites {
	return []RunbookCites{
		{Name: "restart", File: "restart.yaml", Steps: []StepCites{
			{Name: "Stop", Line: 3, Cites: []Citation{{Address: "Recovery > 1. Restart > block 1 > line 1", Text: "docker-compose stop kms-server", How: HowVerbatim}}},
			{Name: "Start", Line: 6, Cites: []Citation{{Address: "Recovery > 1. Restart > block 1 > line 2", Text: "docker-compose start kms-server", How: HowVerbatim}}},
		}},
		{Name: "restore", File: "restore.yaml", Steps: []StepCites{
			{Name: "Copy", Line: 3, Cites: []Citation{{Address: "Recovery > 2. Restore > block 1 > line 1", Text: "cp -r /backup/keys/* /current/keys/", How: HowVerbatim}}},
		}},
	}
}

func movesExclusions() *Exclusions {
	return &Exclusions{File: "ex.yaml", Entries: []Exclusion{{Address: "Diagnostics > block 1", Text: "ls", Reason: "diagnostic", Line: 2}}}
}

// found is a problem as the tests compare it: a moved one with both
// addresses, the others with theirs; named by runbook and step if any.
func found(r *Report) []string {
	var out []string
	for _, p := range r.Problems {
		s := fmt.Sprintf("%s %s", p.Kind, p.Address)
		if p.Kind == ProblemMoved {
			s = fmt.Sprintf("moved %s → %s", p.Text, p.Address)
		}
		if p.Runbook != "" {
			s += fmt.Sprintf(" (%s / %s)", p.Runbook, p.Step)
		}
		out = append(out, s)
	}
	return out
}

// Edits that leave the cited text alone: a citation survives them, named
// as moved with its new address, and what the edit added is a gap in the
// same check. Edits that remove or change the cited text are drift. None
// is bad input.
func TestCitationsFollowAMovedPart(t *testing.T) {
	const restore = "cp -r /backup/keys/* /current/keys/"
	cases := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"nothing changed", func(s string) string { return s }, nil},
		{"a procedure inserted in the middle of the list", drainInserted, []string{
			"moved Recovery > 2. Restore > block 1 > line 1 → Recovery > 3. Restore > block 1 > line 1 (restore / Copy)",
			"gap Recovery > 2. Drain",
			"gap Recovery > 2. Drain > block 1",
			"gap Recovery > 2. Drain > block 1 > line 1",
		}},
		{"a procedure appended to the list", func(s string) string {
			return strings.Replace(s, "## Diagnostics", "3. "+drainItem+"## Diagnostics", 1)
		}, []string{
			"gap Recovery > 3. Drain",
			"gap Recovery > 3. Drain > block 1",
			"gap Recovery > 3. Drain > block 1 > line 1",
		}},
		{"a line inserted at the top of a block", func(s string) string {
			return strings.Replace(s, "   docker-compose stop", "   echo stopping\n   docker-compose stop", 1)
		}, []string{
			"moved Recovery > 1. Restart > block 1 > line 1 → Recovery > 1. Restart > block 1 > line 2 (restart / Stop)",
			"moved Recovery > 1. Restart > block 1 > line 2 → Recovery > 1. Restart > block 1 > line 3 (restart / Start)",
			// The new line is not covered, so neither are its block and step.
			"gap Recovery > 1. Restart",
			"gap Recovery > 1. Restart > block 1",
			"gap Recovery > 1. Restart > block 1 > line 1",
		}},
		{"a block inserted before another", func(s string) string {
			return strings.Replace(s, "## Diagnostics\n", "## Diagnostics\n\n```bash\nuptime\n```\n", 1)
		}, []string{
			"moved Diagnostics > block 1 → Diagnostics > block 2",
			"gap Diagnostics > block 1",
			"gap Diagnostics > block 1 > line 1",
		}},
		{"an item moved under another heading", func(s string) string {
			s = strings.Replace(s, "2. "+restoreItem, "", 1)
			return s + "\n## Data\n\n1. " + restoreItem
		}, []string{
			"moved Recovery > 2. Restore > block 1 > line 1 → Data > 1. Restore > block 1 > line 1 (restore / Copy)",
		}},
		{"renumbered, and the same item under another heading", func(s string) string {
			return drainInserted(s) + "\n## Data\n\n1. " + restoreItem
		}, []string{
			// The fewest headings changed wins.
			"moved Recovery > 2. Restore > block 1 > line 1 → Recovery > 3. Restore > block 1 > line 1 (restore / Copy)",
			"gap Recovery > 2. Drain",
			"gap Recovery > 2. Drain > block 1",
			"gap Recovery > 2. Drain > block 1 > line 1",
			"gap Data > 1. Restore",
			"gap Data > 1. Restore > block 1",
			"gap Data > 1. Restore > block 1 > line 1",
		}},
		{"the item removed", func(s string) string {
			return strings.Replace(s, "2. "+restoreItem, "", 1)
		}, []string{
			"drift Recovery > 2. Restore > block 1 > line 1 (restore / Copy)",
		}},
		{"the cited text changed", func(s string) string {
			return strings.Replace(s, restore, "cp -a /backup/keys/. /current/keys/", 1)
		}, []string{
			// The drifted line is shown as drift, its block and step as gaps.
			"drift Recovery > 2. Restore > block 1 > line 1 (restore / Copy)",
			"gap Recovery > 2. Restore",
			"gap Recovery > 2. Restore > block 1",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.edit(movesGuide)
			if src == movesGuide && c.want != nil {
				t.Fatal("the edit changed nothing")
			}
			g, err := Parse("g.md", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			r := Check(g, movesRunbooks(), movesExclusions())
			if got := found(r); !slices.Equal(got, c.want) {
				t.Errorf("problems\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
			if r.BadInput() || r.Failed() != (len(c.want) > 0) {
				t.Errorf("bad input %v, failed %v: %v", r.BadInput(), r.Failed(), r.Problems)
			}
		})
	}
}

// A moved citation names runbook, step and both addresses, so the new one
// can be pasted; the part it covers is shown moved, not a gap.
func TestMovedCitationMessage(t *testing.T) {
	g, err := Parse("g.md", []byte(drainInserted(movesGuide)))
	if err != nil {
		t.Fatal(err)
	}
	r := Check(g, movesRunbooks(), movesExclusions())
	moved := problems(r, ProblemMoved)
	want := `restore.yaml:3: moved: runbook restore step "Copy": citation of "Recovery > 2. Restore > block 1 > line 1": it is now at "Recovery > 3. Restore > block 1 > line 1"; write that address`
	if len(moved) != 1 || moved[0].String() != want {
		t.Fatalf("moved %v, want %s", moved, want)
	}
	for _, row := range r.Rows {
		if strings.HasPrefix(row.Node.Address, "Recovery > 3. Restore") && row.Status != StatusMoved {
			t.Errorf("%s: %s, want moved", row.Node.Address, row.Status)
		}
	}
	if s := r.Summary(); s.Moved != 1 || s.Gaps != 3 || !strings.HasSuffix(s.String(), ", 3 gaps, 0 drift, 1 moved") {
		t.Errorf("summary %s", s)
	}
}

// Two places with the titles and the text: follow does not choose, the
// citation is drift naming both.
func TestAmbiguousMoveIsDrift(t *testing.T) {
	src := strings.Replace(movesGuide, "2. "+restoreItem, "", 1) +
		"\n## Data\n\n1. " + restoreItem + "\n## Backup\n\n1. " + restoreItem
	g, err := Parse("g.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := problems(Check(g, movesRunbooks(), movesExclusions()), ProblemDrift)
	if len(d) != 1 || !strings.Contains(d[0].Msg, `it could be any of "Data > 1. Restore > block 1 > line 1", "Backup > 1. Restore > block 1 > line 1"`) {
		t.Errorf("drift %v", d)
	}
}

// Exclusions follow a renumbered step too, by its title when they give no
// text; without its text a block is only its number and is not followed.
func TestExclusionsFollowARenumberedStep(t *testing.T) {
	g, err := Parse("g.md", []byte(drainInserted(movesGuide)))
	if err != nil {
		t.Fatal(err)
	}
	ex := &Exclusions{File: "ex.yaml", Entries: []Exclusion{
		{Address: "Recovery > 2. Restore", Reason: "r", Line: 2},
		{Address: "Recovery > 1. Restart > block 9", Reason: "r", Line: 4},
	}}
	r := Check(g, nil, ex)
	var got []string
	for _, p := range r.Problems {
		if p.Kind != ProblemGap {
			got = append(got, fmt.Sprintf("%d %s %s", p.Line, p.Kind, p.Address))
		}
	}
	want := []string{"2 moved Recovery > 3. Restore", "4 drift Recovery > 1. Restart > block 9"}
	if !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
	for _, row := range r.Rows {
		if under(row.Node, "Recovery > 3. Restore") && row.Status != StatusMoved {
			t.Errorf("%s: %s, want moved (excluded by its old address)", row.Node.Address, row.Status)
		}
	}
}

// guide diff says moved, with both addresses, for what an insertion
// renumbered; a line removed from a block is removed, the lines after it
// moved.
func TestDiffSaysMoved(t *testing.T) {
	old, err := Parse("old.md", []byte(movesGuide))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		src  string
		want []string
	}{
		{"an item inserted", drainInserted(movesGuide), []string{
			"added Recovery > 2. Drain",
			"added Recovery > 2. Drain > block 1",
			"added Recovery > 2. Drain > block 1 > line 1",
			"moved Recovery > 2. Restore → Recovery > 3. Restore",
			"moved Recovery > 2. Restore > block 1 → Recovery > 3. Restore > block 1",
			"moved Recovery > 2. Restore > block 1 > line 1 → Recovery > 3. Restore > block 1 > line 1",
		}},
		{"a line removed", strings.Replace(movesGuide, "   docker-compose stop kms-server\n", "", 1), []string{
			"changed Recovery > 1. Restart",
			"changed Recovery > 1. Restart > block 1",
			"moved Recovery > 1. Restart > block 1 > line 2 → Recovery > 1. Restart > block 1 > line 1",
			// Its address holds the old line 2 now.
			"removed Recovery > 1. Restart > block 1 > line 1",
		}},
	} {
		new, err := Parse("new.md", []byte(c.src))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ch := range Diff(old, new) {
			if ch.Kind == Moved {
				got = append(got, fmt.Sprintf("moved %s → %s", ch.Old.Address, ch.Address))
			} else {
				got = append(got, fmt.Sprintf("%s %s", ch.Kind, ch.Address))
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n  %s\nwant\n  %s", c.name, strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
		}
	}

	// The runbook citing the moved command is touched, by its old address.
	new, err := Parse("new.md", []byte(drainInserted(movesGuide)))
	if err != nil {
		t.Fatal(err)
	}
	touched := Touched(old, Diff(old, new), movesRunbooks())
	if len(touched) != 1 || touched[0].Step != "Copy" || touched[0].Change.Kind != Moved ||
		touched[0].Change.Address != "Recovery > 3. Restore > block 1 > line 1" {
		t.Errorf("touched %+v", touched)
	}
}
