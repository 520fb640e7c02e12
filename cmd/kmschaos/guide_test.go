package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/harness/report"
)

// rel makes a testdata path relative to the repository root.
func rel(p string) string { return filepath.Join("harness/guide/testdata", p) }

// chmodChangedGuide writes the shipped guide with its chmod made safe.
func chmodChangedGuide(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../fixtures/guide/troubleshooting-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), "chmod -R 600 /current/keys/", "chmod -R u=rwX,go= /current/keys/", 1)
	if changed == string(src) {
		t.Fatal("no chmod -R 600 in the guide")
	}
	p := filepath.Join(t.TempDir(), "changed.md")
	if err := os.WriteFile(p, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// The shipped runbooks cite the guide and the exclusions cover the rest:
// the check prints the table by section, no problem, the summary, exit 0.
func TestGuideCheckOnTheShippedRunbooks(t *testing.T) {
	out, errOut, code := kmschaos(t, "guide", "check")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"\nEmergency Procedures > Data Recovery\n",
		"block 1 > line 3  docker system prune -f                   substitute  full-system-recovery-as-written / docker system prune -f (substitute): engine prune removes only this cluster's stopped containers",
		"key-recovery-as-written / chmod -R 600 as written (substitute)",
		"excluded  not run yet by any runbook (issue: literal execution of the guide)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, ": gap: ") || strings.Contains(out, ": drift: ") {
		t.Errorf("gaps or drift on the shipped guide:\n%s", out)
	}
	if l := lastLine(out); !strings.HasPrefix(l, "16 blocks, 40 commands, 33 steps: ") || !strings.HasSuffix(l, " 0 gaps, 0 drift, 0 moved") {
		t.Errorf("last line %q", l)
	}
}

func TestGuideCheckPassesWhenAllIsCovered(t *testing.T) {
	out, errOut, code := kmschaos(t, "guide", "check", "--guide", rel("small-guide.md"),
		"--runbooks", rel("small-runbooks"), "--exclusions", rel("small-exclusions.yaml"))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"restart / Stop (mapped): the engine's stop action",
		"restart / Start (verbatim)",
		"excluded  the scenario's detections read the logs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if l := lastLine(out); l != "1 blocks, 2 commands, 2 steps: 1 verbatim, 3 mapped, 0 substitute, 1 excluded, 0 gaps, 0 drift, 0 moved" {
		t.Errorf("summary %q", l)
	}
}

func TestGuideCheckDrift(t *testing.T) {
	out, _, code := kmschaos(t, "guide", "check", "--guide", chmodChangedGuide(t), "--runbooks", rel("runbooks"), "--exclusions", "fixtures/guide-exclusions.yaml")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	want := `harness/guide/testdata/runbooks/key-recovery-as-written.yaml:27: drift: runbook key-recovery-as-written step "Files 0600": citation of "Emergency Procedures > Data Recovery > 1. Key Material Recovery > block 1 > line 4": "chmod -R 600 /current/keys/" is no longer there`
	if !strings.Contains(out, want) {
		t.Errorf("no %q in\n%s", want, out)
	}
	if l := lastLine(out); !strings.HasSuffix(l, ", 1 drift, 0 moved") {
		t.Errorf("summary %q", l)
	}
}

// drainRestartGuide writes the shipped guide with a procedure inserted as
// item 2 of Service Recovery: Force Restart and Full System Recovery,
// which runbooks cite, become items 3 and 4.
func drainRestartGuide(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../fixtures/guide/troubleshooting-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "3. **Full System Recovery**", "4. **Full System Recovery**", 1)
	s = strings.Replace(s, "2. **Force Restart**", "2. **Drain Restart**\n   ```bash\n   kms-admin drain kms-server\n   ```\n\n3. **Force Restart**", 1)
	if !strings.Contains(s, "3. **Force Restart**") || !strings.Contains(s, "4. **Full System Recovery**") {
		t.Fatal("the guide's Service Recovery list is not as this test expects")
	}
	p := filepath.Join(t.TempDir(), "inserted.md")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The maintainer's edit: check exits 1 (not 2), names each runbook step
// whose citation moved with the address to write, and the new procedure's
// gaps; diff says moved.
func TestGuideFollowsAnInsertedProcedure(t *testing.T) {
	const sr = "Emergency Procedures > Service Recovery > "
	inserted := drainRestartGuide(t)
	out, errOut, code := kmschaos(t, "guide", "check", "--guide", inserted)
	if code != 1 || errOut != "" {
		t.Fatalf("exit %d, stderr %q; want 1\n%s", code, errOut, out)
	}
	for _, want := range []string{
		`runbooks/force-restart.yaml:8: moved: runbook force-restart step "Force kill": citation of "` + sr + `2. Force Restart > block 1 > line 2": it is now at "` + sr + `3. Force Restart > block 1 > line 2"; write that address`,
		`runbooks/full-system-recovery-as-written.yaml:43: moved: runbook full-system-recovery-as-written step "docker-compose up -d": citation of "` + sr + `3. Full System Recovery > block 1 > line 4": it is now at "` + sr + `4. Full System Recovery > block 1 > line 4"`,
		inserted + `:321: gap: step "` + sr + `2. Drain Restart"`,
		`gap: command "` + sr + `2. Drain Restart > block 1 > line 1"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if l := lastLine(out); !strings.HasSuffix(l, " 3 gaps, 0 drift, 7 moved") {
		t.Errorf("summary %q", l)
	}

	out, errOut, code = kmschaos(t, "guide", "diff", "fixtures/guide/troubleshooting-guide.md", inserted)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"  added    " + sr + "2. Drain Restart (line 321)",
		"  moved    " + sr + "2. Force Restart → " + sr + "3. Force Restart (line 321 → 326)",
		"  moved    " + sr + "3. Full System Recovery > block 1 > line 3 → " + sr + "4. Full System Recovery > block 1 > line 3 (line 333 → 338)",
		`force-restart (runbooks/force-restart.yaml:8) step "Force kill" cites moved "` + sr + `2. Force Restart > block 1 > line 2" (docker-compose kill kms-server), now at "` + sr + `3. Force Restart > block 1 > line 2"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "removed") {
		t.Errorf("a renumbered part is listed as removed:\n%s", out)
	}
}

func TestGuideDiffNamesTheRunbookAndScenarios(t *testing.T) {
	out, errOut, code := kmschaos(t, "guide", "diff", "fixtures/guide/troubleshooting-guide.md", chmodChangedGuide(t), "--runbooks", rel("runbooks"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"changed  Emergency Procedures > Data Recovery > 1. Key Material Recovery > block 1 > line 4 (line 344 → 344)",
		"- chmod -R 600 /current/keys/",
		"+ chmod -R u=rwX,go= /current/keys/",
		`key-recovery-as-written (harness/guide/testdata/runbooks/key-recovery-as-written.yaml:27) step "Files 0600"`,
		// The testdata runbook has the name of a shipped one, which a
		// scenario of the catalog runs.
		"key-recovery-as-written: scenarios/",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

// diff names the shipped runbooks' steps that cite the changed command.
func TestGuideDiffOnTheShippedRunbooks(t *testing.T) {
	out, errOut, code := kmschaos(t, "guide", "diff", "fixtures/guide/troubleshooting-guide.md", chmodChangedGuide(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`key-recovery-as-written (runbooks/key-recovery-as-written.yaml:33) step "chmod -R 600 as written" cites changed "Emergency Procedures > Data Recovery > 1. Key Material Recovery > block 1 > line 4"`,
		`key-recovery (runbooks/key-recovery.yaml:43) step "Files 0600" cites changed`,
		"key-recovery: scenarios/keys.go:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "fix-permissions") {
		t.Errorf("a runbook the change does not touch is listed:\n%s", out)
	}
}

// The scenario lookup finds the catalog's scenarios by runbook name.
func TestScenariosUsing(t *testing.T) {
	uses, err := scenariosUsing("../../scenarios", []string{"key-recovery"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range uses["key-recovery"] {
		found = found || (strings.Contains(u, "keys.go:") && strings.Contains(u, `"a key share with a broken digest`))
	}
	if !found {
		t.Errorf("key-recovery used by %v", uses["key-recovery"])
	}
}

func TestGuideBadInputExits2(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.md")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	latin1 := filepath.Join(t.TempDir(), "latin1.md")
	if err := os.WriteFile(latin1, []byte("# Guide\n\n## Caf\xe9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notShell := filepath.Join(t.TempDir(), "not-shell.md")
	if err := os.WriteFile(notShell, []byte("# Guide\n\n## A\n\n```bash\nls\necho \"oops\n```\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"a block that is not shell", []string{"guide", "check", "--guide", notShell},
			notShell + ":7: a shell block the shell parser (mvdan.cc/sh, as bash) refuses: reached EOF without closing quote `\"`: \"echo \\\"oops\""},
		{"not UTF-8", []string{"guide", "check", "--guide", latin1}, latin1 + ":3: not UTF-8: \"## Caf\uFFFD\""},
		{"unterminated fence", []string{"guide", "check", "--guide", rel("bad/unterminated.md")},
			"harness/guide/testdata/bad/unterminated.md:5: code block never closed (no closing fence): \"```bash\""},
		{"empty guide", []string{"guide", "check", "--guide", empty}, empty + ": empty guide"},
		{"no guide", []string{"guide", "check", "--guide", filepath.Join(t.TempDir(), "none.md")}, "no such file"},
		{"exclusion without a reason", []string{"guide", "check", "--guide", rel("small-guide.md"), "--runbooks", rel("small-runbooks"), "--exclusions", rel("bad/exclusion-no-reason.yaml")},
			`harness/guide/testdata/bad/exclusion-no-reason.yaml:2: exclusion without a reason: "Recovery > Resolution Steps > 2. Check the logs"`},
		{"citation of a section", []string{"guide", "check", "--guide", rel("small-guide.md"), "--runbooks", sectionCiting(t), "--exclusions", ""},
			`cites.yaml:5: bad address: runbook cites-a-section step "Stop": "Recovery > Restart" is a section: cite a step, a block or a command line`},
		{"diff of a bad guide", []string{"guide", "diff", rel("small-guide.md"), rel("bad/unterminated.md")},
			"unterminated.md:5: code block never closed"},
	}
	for _, c := range cases {
		out, errOut, code := kmschaos(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.name, code, out, errOut, c.want)
		}
	}
}

// sectionCiting writes a runbook directory whose one citation names a
// section.
func sectionCiting(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	doc := "name: cites-a-section\nsteps:\n  - name: Stop\n    cites:\n      - address: Recovery > Restart\n        text: Restart\n        how: verbatim\n"
	if err := os.WriteFile(filepath.Join(dir, "cites.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A citation or an exclusion of a part the guide no longer has, even by
// its titles, is a finding like drift (exit 1, the whole table), not
// input that cannot be read.
func TestGuideCheckAddressGone(t *testing.T) {
	for _, c := range []struct{ name, runbooks, exclusions, want string }{
		{"citation", rel("bad/runbooks"), "",
			`harness/guide/testdata/bad/runbooks/cites-nowhere.yaml:5: drift: runbook cites-nowhere step "Stop": citation of "Recovery > Reboot > block 1 > line 2": no part of the guide has that address, nor its titles with that text`},
		{"exclusion", rel("small-runbooks"), rel("bad/exclusion-unknown-address.yaml"),
			`harness/guide/testdata/bad/exclusion-unknown-address.yaml:4: drift: exclusion of "Recovery > Resolution Steps > 7. Reboot the datacenter": no part of the guide has that address, nor its titles`},
	} {
		out, errOut, code := kmschaos(t, "guide", "check", "--guide", rel("small-guide.md"), "--runbooks", c.runbooks, "--exclusions", c.exclusions)
		if code != 1 || errOut != "" || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q in\n%s", c.name, code, errOut, c.want, out)
		}
	}
}

func TestGuideRunRefusesBadInputBeforeTouchingACluster(t *testing.T) {
	dir := t.TempDir()
	badMap := filepath.Join(dir, "mapping.yaml")
	if err := os.WriteFile(badMap, []byte("names:\n  - guide: x\n    cluster: '{{bogus}}'\n    why: y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown variable in the mapping": {[]string{"guide", "run", "--mapping", badMap}, badMap + ":2: unknown variable {{bogus}}"},
		"no such block":                   {[]string{"guide", "run", "--block", "Advanced Diagnostics > Memory Analysis > block 9"}, `no code block at "Advanced Diagnostics > Memory Analysis > block 9"`},
		"no mapping file":                 {[]string{"guide", "run", "--mapping", filepath.Join(dir, "none.yaml")}, "no such file"},
		"a guide that is not there":       {[]string{"guide", "run", "--guide", filepath.Join(dir, "none.md")}, "no such file"},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := kmschaos(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// docs/findings.md comes from a full n=13 run (make findings), between the
// generator's markers: a hand edit there loses its provenance line.
func TestTheFindingsPageIsGenerated(t *testing.T) {
	b, err := os.ReadFile("../../docs/findings.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, report.FindingsBegin), strings.Index(s, report.FindingsEnd)
	if i < 0 || j < i {
		t.Fatal("docs/findings.md lacks the findings markers")
	}
	body := s[i+len(report.FindingsBegin) : j]
	if !regexp.MustCompile(`(?m)^From a run of the catalog at n=13, t=4 \(seed \d+, .*\): \d+ findings\.$`).MatchString(body) {
		t.Errorf("the findings do not say which n=13 run they come from:\n%s", body)
	}
	if strings.Count(body, "\n* *") == 0 {
		t.Error("the findings are empty")
	}
}

// make findings rewrites the list between the markers of the page --doc
// names, and leaves the rest of the page as it was; a page without the
// markers is bad input, changed in nothing.
func TestGuideFindingsRewritesThePage(t *testing.T) {
	dir := t.TempDir()
	run := report.Run{N: 13, T: 4, Seed: 42, Machine: "vm", Guide: &report.Guide{},
		Scenarios: []report.Scenario{{Name: "key recovery", Defects: []string{"step 1 loses every key"}}}}
	js, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	scorecard := filepath.Join(dir, "scorecard.json")
	page := filepath.Join(dir, "findings.md")
	bare := filepath.Join(dir, "bare.md")
	for p, body := range map[string]string{
		scorecard: string(js),
		page:      "# Found\n\nWhat it is for.\n\n" + report.FindingsBegin + "\nold\n" + report.FindingsEnd + "\n\nAfter.\n",
		bare:      "# No markers\n",
	} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := cli(t, "guide", "findings", "--scorecard", scorecard, "--doc", page)
	if code != 0 || out != "" || errOut != page+": 1 findings from "+scorecard+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	got, _ := os.ReadFile(page)
	want := "# Found\n\nWhat it is for.\n\n" + report.FindingsBegin + "\nFrom a run of the catalog at n=13, t=4 (seed 42, 0001-01-01, vm): 1 findings.\n\n" +
		"* *key recovery*: step 1 loses every key\n" + report.FindingsEnd + "\n\nAfter.\n"
	if string(got) != want {
		t.Errorf("the page is\n%s\nwant\n%s", got, want)
	}
	_, errOut, code = cli(t, "guide", "findings", "--scorecard", scorecard, "--doc", bare)
	if b, _ := os.ReadFile(bare); code != 2 || !strings.HasPrefix(errOut, "Error: "+bare+": no findings markers") || strings.Count(errOut, "\n") != 1 || string(b) != "# No markers\n" {
		t.Errorf("a page without markers: exit %d, stderr %q, page now %q", code, errOut, b)
	}
}
