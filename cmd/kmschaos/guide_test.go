package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/harness/report"
)

// The tests run the real command line, main() included, by running this
// test binary again as kmschaos: the exit codes are the process's own.
const td = "../../harness/guide/testdata"

// rel makes a testdata path relative to the repository root.
func rel(p string) string { return filepath.Join("harness/guide/testdata", p) }

// chmodChangedGuide writes the shipped guide with its chmod made safe.
func chmodChangedGuide(t *testing.T) string {
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
	if l := lastLine(out); !strings.HasPrefix(l, "16 blocks, 40 commands, 33 steps: ") || !strings.HasSuffix(l, " 0 gaps, 0 drift") {
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
	if l := lastLine(out); l != "1 blocks, 2 commands, 2 steps: 1 verbatim, 3 mapped, 0 substitute, 1 excluded, 0 gaps, 0 drift" {
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
	if l := lastLine(out); !strings.HasSuffix(l, ", 1 drift") {
		t.Errorf("summary %q", l)
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
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"not UTF-8", []string{"guide", "check", "--guide", latin1}, latin1 + ":3: not UTF-8: \"## Caf\uFFFD\""},
		{"unterminated fence", []string{"guide", "check", "--guide", rel("bad/unterminated.md")},
			"harness/guide/testdata/bad/unterminated.md:5: code block never closed (no closing fence): \"```bash\""},
		{"empty guide", []string{"guide", "check", "--guide", empty}, empty + ": empty guide"},
		{"citation of no address", []string{"guide", "check", "--guide", rel("small-guide.md"), "--runbooks", rel("bad/runbooks"), "--exclusions", ""},
			`harness/guide/testdata/bad/runbooks/cites-nowhere.yaml:5: bad address: runbook cites-nowhere step "Stop": no part of the guide has the address "Recovery > Restart > block 2 > line 2"`},
		{"exclusion without a reason", []string{"guide", "check", "--guide", rel("small-guide.md"), "--runbooks", rel("small-runbooks"), "--exclusions", rel("bad/exclusion-no-reason.yaml")},
			`harness/guide/testdata/bad/exclusion-no-reason.yaml:2: exclusion without a reason: "Recovery > Resolution Steps > 2. Check the logs"`},
		{"exclusion of no address", []string{"guide", "check", "--guide", rel("small-guide.md"), "--runbooks", rel("small-runbooks"), "--exclusions", rel("bad/exclusion-unknown-address.yaml")},
			`harness/guide/testdata/bad/exclusion-unknown-address.yaml:4: bad address: no part of the guide has the address "Recovery > Resolution Steps > 7. Reboot the datacenter"`},
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

// The README's findings come from a full n=13 run (make findings), between
// the generator's markers: a hand edit there loses its provenance line.
func TestTheReadmeFindingsAreGenerated(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, report.FindingsBegin), strings.Index(s, report.FindingsEnd)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the findings markers")
	}
	body := s[i+len(report.FindingsBegin) : j]
	if !regexp.MustCompile(`(?m)^From a run of the catalog at n=13, t=4 \(seed \d+, .*\): \d+ findings\.$`).MatchString(body) {
		t.Errorf("the README's findings do not say which n=13 run they come from:\n%s", body)
	}
	if strings.Count(body, "\n* *") == 0 {
		t.Error("the README's findings are empty")
	}
}
