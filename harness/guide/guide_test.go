package guide

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fixture = "../../fixtures/guide/troubleshooting-guide.md"

const (
	keyBlock = "Emergency Procedures > Data Recovery > 1. Key Material Recovery > block 1"
	chmodCmd = keyBlock + " > line 4"
)

func parseFixture(t testing.TB) *Guide {
	t.Helper()
	g, err := ParseFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// chmodChanged is the fixture guide with the key recovery's chmod made
// safe, as a guide fix would do it.
func chmodChanged(t testing.TB) []byte {
	t.Helper()
	src, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), "chmod -R 600 /current/keys/"); n != 1 {
		t.Fatalf("the fixture has %d `chmod -R 600 /current/keys/`, want 1", n)
	}
	return []byte(strings.Replace(string(src), "chmod -R 600 /current/keys/", "chmod -R u=rwX,go= /current/keys/", 1))
}

func TestParseFixtureGuide(t *testing.T) {
	g := parseFixture(t)
	if g.Title != "KMS Advanced Troubleshooting Guide" {
		t.Errorf("title %q", g.Title)
	}
	headings, labels := 0, 0
	for _, n := range g.OfKind(KindSection) {
		if n.Label {
			labels++
		} else {
			headings++
		}
	}
	// 32 heading lines in the file, less the title.
	if headings != 31 {
		t.Errorf("%d headings, want 31", headings)
	}
	if got := len(g.OfKind(KindBlock)); got != 16 {
		t.Errorf("%d code blocks, want the guide's 16", got)
	}
	if got := len(g.OfKind(KindCommand)); got != 40 {
		t.Errorf("%d commands, want 40", got)
	}
	resolution := 0
	for _, s := range g.OfKind(KindStep) {
		if s.Resolution {
			resolution++
		}
	}
	// 4+4+4+5+5+4 resolution/optimisation steps, 3+2+2 emergency procedures.
	if resolution != 33 {
		t.Errorf("%d resolution steps, want 33", resolution)
	}

	known := []struct {
		addr          string
		kind          Kind
		line, endLine int
		text          string
	}{
		{"Emergency Procedures > Data Recovery > 1. Key Material Recovery", KindStep, 339, 345, "Key Material Recovery"},
		{keyBlock, KindBlock, 340, 345, "cp -r /backup/keys/* /current/keys/\nchown"},
		{keyBlock + " > line 2", KindCommand, 342, 342, "cp -r /backup/keys/* /current/keys/"},
		{chmodCmd, KindCommand, 344, 344, "chmod -R 600 /current/keys/"},
		{"Issue Classification & Resolution > Storage Backend Issues > Resolution Steps > 1. Fix file permissions and ownership", KindStep, 197, 197, "Fix file permissions and ownership"},
		{"Issue Classification & Resolution > Storage Backend Issues > Diagnostic Steps > 1. File Storage", KindStep, 179, 183, "Check file permissions and ownership"},
		// A continued command is one command, its lines joined.
		{"Emergency Procedures > Threshold Cluster Recovery > 2. PRSS Re-initialization > block 1 > line 2", KindCommand, 374, 378,
			"kms-init --addresses http://kms-threshold-1:50100 http://kms-threshold-2:50100 http://kms-threshold-3:50100 http://kms-threshold-4:50100"},
		// A for loop is one command; the wait after it is another.
		{"Emergency Procedures > Threshold Cluster Recovery > 1. Coordinated Restart > block 1 > line 2", KindCommand, 359, 361,
			`for peer in kms-threshold-{1..4}; do ssh $peer "docker-compose stop kms-server" & done`},
		{"Emergency Procedures > Threshold Cluster Recovery > 1. Coordinated Restart > block 1 > line 5", KindCommand, 362, 362, "wait"},
		// The trailing comment is not part of the command.
		{"Advanced Diagnostics > Network Analysis > block 1 > line 9", KindCommand, 273, 273, "iperf3 -s"},
		{"Monitoring Integration > Custom Health Checks > block 1", KindBlock, 385, 431, "custom-health-check.sh"},
		{"Issue Classification & Resolution > Key Management Issues > Diagnostic Steps > 1. Key Inventory > block 1 > line 5", KindCommand, 220, 220,
			`find keys/ -name "*.key" -o -name "*Key*" | head -10`},
	}
	for _, k := range known {
		n := g.Lookup(k.addr)
		if n == nil {
			t.Errorf("no %q", k.addr)
			continue
		}
		if n.Kind != k.kind || n.Line != k.line || n.EndLine != k.endLine || !strings.Contains(n.Text, k.text) {
			t.Errorf("%q: %s lines %d-%d %q; want %s lines %d-%d containing %q", k.addr, n.Kind, n.Line, n.EndLine, n.Text, k.kind, k.line, k.endLine, k.text)
		}
		if len(n.Digest) != 12 {
			t.Errorf("%q: digest %q", k.addr, n.Digest)
		}
	}
	// Script blocks are one unit: no command lines under them.
	if s := g.Lookup("Monitoring Integration > Custom Health Checks > block 1"); s != nil && (!s.Script || len(s.Children) != 0) {
		t.Errorf("the health check script: script=%v, %d commands", s.Script, len(s.Children))
	}
	// Diagnostic steps are addressable but need no runbook.
	if d := g.Lookup("Issue Classification & Resolution > Storage Backend Issues > Diagnostic Steps > 1. File Storage"); d != nil && d.Resolution {
		t.Error("a diagnostic step is taken for a resolution step")
	}
}

func TestDigestsFollowTheText(t *testing.T) {
	g := parseFixture(t)
	h, err := Parse("changed.md", chmodChanged(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{chmodCmd, keyBlock, "Emergency Procedures > Data Recovery > 1. Key Material Recovery"} {
		if g.Lookup(addr).Digest == h.Lookup(addr).Digest {
			t.Errorf("%s: the digest did not change with its text", addr)
		}
	}
	same := keyBlock + " > line 3"
	if g.Lookup(same).Digest != h.Lookup(same).Digest {
		t.Errorf("%s: the digest changed though its text did not", same)
	}
}

func loadTestRunbooks(t testing.TB, dir string) []RunbookCites {
	t.Helper()
	rbs, err := LoadRunbookDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return rbs
}

func problems(r *Report, k ProblemKind) []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Kind == k {
			out = append(out, p)
		}
	}
	return out
}

func TestDriftNamesTheRunbookAndStep(t *testing.T) {
	rbs := loadTestRunbooks(t, "testdata/runbooks")
	// The guide as cited: no drift.
	if d := problems(Check(parseFixture(t), rbs, nil), ProblemDrift); len(d) != 0 {
		t.Fatalf("drift on the guide the runbook cites: %v", d)
	}
	changed, err := Parse("changed.md", chmodChanged(t))
	if err != nil {
		t.Fatal(err)
	}
	r := Check(changed, rbs, nil)
	d := problems(r, ProblemDrift)
	if len(d) != 1 {
		t.Fatalf("drift: %v, want one", d)
	}
	p := d[0]
	if p.Runbook != "key-recovery-as-written" || p.Step != "Files 0600" || p.Address != chmodCmd ||
		p.File != filepath.Join("testdata/runbooks", "key-recovery-as-written.yaml") || p.Line != 27 ||
		!strings.Contains(p.Msg, "chmod -R u=rwX,go= /current/keys/") {
		t.Errorf("drift %+v", p)
	}
	if !strings.Contains(p.String(), `runbook key-recovery-as-written step "Files 0600"`) {
		t.Errorf("the message does not name the runbook and step: %s", p)
	}
	if r.BadInput() || !r.Failed() {
		t.Errorf("bad input %v, failed %v: drift must fail the check, not be bad input", r.BadInput(), r.Failed())
	}
}

func TestCoverage(t *testing.T) {
	g, err := ParseFile("testdata/small-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	rbs := loadTestRunbooks(t, "testdata/small-runbooks")
	ex, err := ReadExclusionsFile("testdata/small-exclusions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Everything cited or excluded: the check passes, and says how.
	r := Check(g, rbs, ex)
	if len(r.Problems) != 0 {
		t.Fatalf("problems: %v", r.Problems)
	}
	status := map[string]Status{}
	for _, row := range r.Rows {
		status[row.Node.Address] = row.Status
	}
	want := map[string]Status{
		"Recovery > Resolution Steps > 1. Restart the service": StatusMapped,
		"Recovery > Resolution Steps > 2. Check the logs":      StatusExcluded,
		"Recovery > Restart > block 1":                         StatusMapped, // its weakest line
		"Recovery > Restart > block 1 > line 2":                StatusMapped,
		"Recovery > Restart > block 1 > line 3":                StatusVerbatim,
	}
	for a, s := range want {
		if status[a] != s {
			t.Errorf("%s: %q, want %q", a, status[a], s)
		}
	}
	if got := r.Summary().String(); got != "1 blocks, 2 commands, 2 steps: 1 verbatim, 3 mapped, 0 substitute, 1 excluded, 0 gaps, 0 drift, 0 moved" {
		t.Errorf("summary %q", got)
	}

	// Without the exclusions, the step nobody cites is a gap.
	r = Check(g, rbs, nil)
	gaps := problems(r, ProblemGap)
	if len(gaps) != 1 || gaps[0].Address != "Recovery > Resolution Steps > 2. Check the logs" || gaps[0].Line != 7 {
		t.Errorf("gaps %v, want the uncited step on line 7", gaps)
	}

	// A new block nobody cites is a gap, and so are its commands.
	src, _ := os.ReadFile("testdata/small-guide.md")
	src = append(src, []byte("\n```bash\nrm -rf /var/lib/kms\n```\n")...)
	g2, err := Parse("grown.md", src)
	if err != nil {
		t.Fatal(err)
	}
	gaps = problems(Check(g2, rbs, ex), ProblemGap)
	var addrs []string
	for _, p := range gaps {
		addrs = append(addrs, p.Address)
	}
	if !slices.Equal(addrs, []string{"Recovery > Restart > block 2", "Recovery > Restart > block 2 > line 1"}) {
		t.Errorf("gaps %v", addrs)
	}
}

func TestBadGuides(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want string
		line int
	}{
		{"empty", " \n\n", "empty guide", 0},
		{"not UTF-8", "# Guide\n\n## A\ncaf\xe9\n", "not UTF-8", 4},
		{"binary", "# Guide\n\x00\x01", "NUL byte", 2},
		{"unterminated fence", "# G\n\n## A\n\n1. **Step**\n   ```bash\n   ls\n\n## B\n", "code block never closed", 6},
		{"duplicate address", "# G\n\n## A\n\n### B\n\n## A\n\n### B\n", "same address (the other is on line 3)", 7},
	}
	for _, c := range cases {
		_, err := Parse("g.md", []byte(c.src))
		var ie *InputError
		ok := errors.As(err, &ie)
		if !ok || !strings.Contains(ie.Msg, c.want) || ie.Line != c.line || ie.File != "g.md" {
			t.Errorf("%s: %v, want %q at line %d", c.name, err, c.want, c.line)
		}
	}
	_, err := ParseFile("testdata/bad/unterminated.md")
	if err == nil || err.Error() != "testdata/bad/unterminated.md:5: code block never closed (no closing fence): \"```bash\"" {
		t.Errorf("%v", err)
	}
	// A closed fence, a longer closing fence, a tilde fence: all fine.
	for _, ok := range []string{"## A\n```sh\nls\n```\n", "## A\n```sh\nls\n`````\n", "## A\n~~~\nls\n~~~\n"} {
		if _, err := Parse("g.md", []byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestBadExclusionsAndCitations(t *testing.T) {
	_, err := ReadExclusionsFile("testdata/bad/exclusion-no-reason.yaml")
	if err == nil || !strings.Contains(err.Error(), `testdata/bad/exclusion-no-reason.yaml:2: exclusion without a reason: "Recovery > Resolution Steps > 2. Check the logs"`) {
		t.Errorf("no reason: %v", err)
	}
	_, err = ReadExclusions("x.yaml", []byte("exclusions:\n  - address: A\n    reson: typo\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:3:") || !strings.Contains(err.Error(), "reson") {
		t.Errorf("unknown key: %v", err)
	}
	_, err = ReadExclusions("x.yaml", []byte("exclusions:\n  - reason: why\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:2: exclusion without an address") {
		t.Errorf("no address: %v", err)
	}

	for doc, want := range map[string]string{
		"name: r\nsteps:\n  - name: s\n    cites: [\n":                                    "r.yaml:4: not valid YAML",
		"name: r\nsteps:\n  - name: s\n    cites:\n      - address: A\n        txt: ls\n": `r.yaml:6: not valid YAML (line 6: unknown key "txt" in a citation`,
	} {
		if _, err := ReadRunbookCites("r.yaml", []byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", doc, err, want)
		}
	}
	// Other keys of a runbook are not the guide's business.
	rb, err := ReadRunbookCites("r.yaml", []byte("name: r\norigin: guide\nsteps:\n  - name: s\n    exec: {command: [ls]}\n    expect: {exit: 0}\n"))
	if err != nil || rb.Name != "r" || len(rb.Steps) != 1 || rb.Steps[0].Name != "s" || rb.Steps[0].Line != 4 {
		t.Errorf("lenient read: %+v, %v", rb, err)
	}

	g, err := ParseFile("testdata/small-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ReadExclusionsFile("testdata/bad/exclusion-unknown-address.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// An address the guide does not have, even by its titles, is a
	// finding (exit 1), not input that cannot be read: the guide may have
	// dropped the part.
	r := Check(g, nil, ex)
	bad := problems(r, ProblemDrift)
	if r.BadInput() || len(bad) != 1 || bad[0].Line != 4 || bad[0].Address != "Recovery > Resolution Steps > 7. Reboot the datacenter" ||
		!strings.Contains(bad[0].Msg, "no part of the guide has that address, nor its titles") {
		t.Errorf("unknown exclusion address: %v", r.Problems)
	}

	r = Check(g, loadTestRunbooks(t, "testdata/bad/runbooks"), nil)
	bad = problems(r, ProblemDrift)
	if r.BadInput() || len(bad) != 1 || bad[0].Line != 5 || bad[0].Runbook != "cites-nowhere" ||
		!strings.Contains(bad[0].String(), `testdata/bad/runbooks/cites-nowhere.yaml:5: drift: runbook cites-nowhere step "Stop": citation of "Recovery > Reboot > block 1 > line 2": no part of the guide has that address, nor its titles with that text`) {
		t.Errorf("unknown citation address: %v", r.Problems)
	}

	cite := func(c Citation) []Problem {
		return Check(g, []RunbookCites{{Name: "r", File: "r.yaml", Steps: []StepCites{{Name: "s", Cites: []Citation{c}}}}}, nil).Problems
	}
	line2 := "Recovery > Restart > block 1 > line 2"
	for _, c := range []struct {
		c    Citation
		kind ProblemKind
		want string
	}{
		{Citation{Address: line2, Text: "docker-compose stop kms-server", How: "roughly"}, ProblemBadCitation, `how "roughly"`},
		{Citation{Address: line2, How: HowVerbatim}, ProblemBadCitation, "without the text"},
		{Citation{Address: line2, Text: "docker-compose stop kms-server", How: HowMapped}, ProblemBadCitation, "must say why"},
		{Citation{Address: "Recovery", Text: "Recovery", How: HowVerbatim}, ProblemBadAddress, "is a section"},
		{Citation{Address: "Restart > block 1 > line 2", Text: "x", How: HowVerbatim}, ProblemDrift, `did you mean "Recovery > Restart > block 1 > line 2"`},
		// A command must be cited whole: a part of it is drift.
		{Citation{Address: line2, Text: "docker-compose stop", How: HowVerbatim}, ProblemDrift, "is no longer there"},
		// A block or a step must contain the cited text.
		{Citation{Address: "Recovery > Restart > block 1", Text: "docker-compose restart kms-server", How: HowVerbatim}, ProblemDrift, "is no longer there"},
		{Citation{Address: "Recovery > Resolution Steps > 1. Restart the service", Text: "Reboot the host", How: HowVerbatim}, ProblemDrift, "is no longer there"},
	} {
		ps := cite(c.c)
		found := false
		for _, p := range ps {
			found = found || (p.Kind == c.kind && strings.Contains(p.Msg, c.want))
		}
		if !found {
			t.Errorf("%+v: %v, want %s %q", c.c, ps, c.kind, c.want)
		}
	}
}

// An exclusion whose text left its address is drift, and excludes nothing.
func TestExclusionDrift(t *testing.T) {
	g, err := ParseFile("testdata/small-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ReadExclusions("x.yaml", []byte("exclusions:\n  - address: Recovery > Restart > block 1\n    text: docker-compose restart\n    reason: r\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := Check(g, nil, ex)
	d := problems(r, ProblemDrift)
	if len(d) != 1 || d[0].File != "x.yaml" || d[0].Line != 2 || !strings.Contains(d[0].Msg, "exclusion of") {
		t.Errorf("drift %v", d)
	}
	for _, row := range r.Rows {
		if row.Status == StatusExcluded {
			t.Errorf("%s excluded by a drifted exclusion", row.Node.Address)
		}
	}
	// The same exclusion with the text that is there excludes the block and its lines.
	ex.Entries[0].Text = "docker-compose start kms-server"
	r = Check(g, nil, ex)
	excluded := 0
	for _, row := range r.Rows {
		if row.Status == StatusExcluded {
			excluded++
		}
	}
	if len(problems(r, ProblemDrift)) != 0 || excluded != 3 {
		t.Errorf("%d rows excluded, problems %v", excluded, r.Problems)
	}
}

func TestDiffTouchesTheCitingRunbook(t *testing.T) {
	old := parseFixture(t)
	changed, err := Parse("changed.md", chmodChanged(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(old, old); len(d) != 0 {
		t.Fatalf("a guide differs from itself: %v", d)
	}
	ch := Diff(old, changed)
	var addrs []string
	for _, c := range ch {
		addrs = append(addrs, string(c.Kind)+" "+c.Address)
	}
	want := []string{"changed Emergency Procedures > Data Recovery > 1. Key Material Recovery", "changed " + keyBlock, "changed " + chmodCmd}
	if !slices.Equal(addrs, want) {
		t.Fatalf("changes %q, want %q", addrs, want)
	}
	touched := Touched(old, ch, loadTestRunbooks(t, "testdata/runbooks"))
	if len(touched) != 1 || touched[0].Runbook != "key-recovery-as-written" || touched[0].Step != "Files 0600" {
		t.Errorf("touched %+v", touched)
	}

	// A runbook that cites nothing yet is matched by its guide: line, with
	// or without the top headings and a remark; one pointing elsewhere is not.
	var rbs []RunbookCites
	for _, doc := range []string{
		"name: a\nguide: Emergency Procedures > Data Recovery > 1. Key Material Recovery (corrected)\nsteps: [{name: x}]\n",
		"name: b\nguide: Data Recovery > 1. Key Material Recovery\n",
		"name: c\nguide: Emergency Procedures > Data Recovery > 2. Configuration Recovery\n",
		"name: d\nguide: Emergency Procedures > Data Recovery\n",
		"name: e\nguide: somewhere in the guide\n",
	} {
		rb, err := ReadRunbookCites("x.yaml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		rbs = append(rbs, rb)
	}
	var names []string
	for _, tc := range Touched(old, ch, rbs) {
		names = append(names, tc.Runbook)
		if !tc.ByGuideField || tc.Change.Address != chmodCmd {
			t.Errorf("%s: %+v, want the chmod line by the guide: field", tc.Runbook, tc)
		}
	}
	if !slices.Equal(names, []string{"a", "b", "d"}) {
		t.Errorf("touched by their guide: line: %v, want a b d", names)
	}
}

// The shipped exclusions name real parts of the shipped guide, with the
// text still there.
func TestShippedExclusionsMatchTheGuide(t *testing.T) {
	ex, err := ReadExclusionsFile("../../fixtures/guide-exclusions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := Check(parseFixture(t), nil, ex)
	for _, p := range r.Problems {
		if p.Kind != ProblemGap {
			t.Error(p)
		}
	}
	if n := r.Summary().Excluded; n < len(ex.Entries) {
		t.Errorf("%d rows excluded by %d entries", n, len(ex.Entries))
	}
}

func BenchmarkParseGuide(b *testing.B) {
	src, err := os.ReadFile(fixture)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(fixture, src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck is what `kmschaos guide check` does: parse the guide, read
// the runbooks and the exclusions, check.
func BenchmarkCheck(b *testing.B) {
	for b.Loop() {
		g, err := ParseFile(fixture)
		if err != nil {
			b.Fatal(err)
		}
		rbs, err := LoadRunbookDir("../../runbooks")
		if err != nil {
			b.Fatal(err)
		}
		rbs = append(rbs, loadTestRunbooks(b, "testdata/runbooks")...)
		ex, err := ReadExclusionsFile("../../fixtures/guide-exclusions.yaml")
		if err != nil {
			b.Fatal(err)
		}
		if r := Check(g, rbs, ex); r.BadInput() {
			b.Fatal(r.Problems)
		}
	}
}
