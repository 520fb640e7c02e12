package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func guideRun() *Run {
	return &Run{N: 4, T: 1, Guide: &Guide{Coverage: "33 steps: 0 verbatim", Blocks: []GuideBlock{
		{Address: "Advanced Diagnostics > Memory Analysis > block 1", Line: 250, Party: 2, Under: "healthy", Status: "tool absent",
			Commands: []GuideCommand{{Line: 252, Text: "cat /proc/meminfo", Status: "ran"},
				{Line: 253, Text: "ps aux --sort=-%mem | head -10", Status: "bad option", Why: "ps: unrecognized option: sort=-%mem"},
				{Line: 259, Text: "jmap -dump:live,format=b,file=heap.hprof <pid>", Status: "tool absent", Tool: "jmap", Why: "jmap: a JVM tool", Mapped: []string{"<pid> → $(pidof kms-server)"}}},
			After: "nothing changed; every party Optimal"},
		{Address: "Monitoring Integration > Custom Health Checks > block 1", Line: 385, Party: 2, Under: "the key volume 90% full", Status: "ran",
			Commands: []GuideCommand{{Line: 386, Text: "(the whole script)", Status: "ran"}},
			Verdict:  "misses the fault (exit 0): it reads df /", Defect: true},
		// A judged run of a block on a healthy party repeats it: not counted twice.
		{Address: "Monitoring Integration > Custom Health Checks > block 1", Line: 385, Party: 2, Under: "healthy", Status: "ran",
			Commands: []GuideCommand{{Line: 386, Text: "(the whole script)", Status: "ran"}}, Verdict: "quiet on a healthy party (exit 0)"},
	}}}
}

func TestTheGuideSectionNamesEveryDefectAndWhatCouldNotRun(t *testing.T) {
	var buf bytes.Buffer
	if err := guideRun().WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"The guide, as written: its shell blocks run through bash on a party's host (3 commands: 1 ran, 1 bad option, 1 tool absent; 1 of them through the mapping table)",
		"Runbook coverage: 33 steps: 0 verbatim",
		"misses the fault (exit 0): it reads df / [DEFECT]",
		"- line 259 `jmap -dump:live,format=b,file=heap.hprof <pid>`: tool absent: jmap: a JVM tool",
		"- the guide, as written: Advanced Diagnostics > Memory Analysis > block 1, line 253: `ps aux --sort=-%mem | head -10` bad option on a healthy party: ps: unrecognized option",
		"- the guide, as written: Monitoring Integration > Custom Health Checks > block 1 (line 385), under the key volume 90% full: misses the fault",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the text scorecard lacks %q:\n%s", want, out)
		}
	}
	// A run without the guide's specs prints no guide section.
	buf.Reset()
	if err := (&Run{N: 4, T: 1}).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "The guide, as written") {
		t.Error("a guide section without guide blocks")
	}
}

func TestTheHTMLShowsTheGuideSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.html")
	if err := guideRun().WriteHTML(p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	for _, want := range []string{`<section id="guide">`, "misses the fault (exit 0): it reads df /", "ps: unrecognized option: sort=-%mem", `<span class="badge">mapped</span>`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the HTML lacks %q", want)
		}
	}
}

func TestFindingsAreGeneratedIntoTheMarkers(t *testing.T) {
	r := guideRun()
	r.Scenarios = []Scenario{{Name: "key recovery", Steps: []Step{{Name: "chmod -R 600 as written", Guide: "Data Recovery", Defect: true, Error: "party 3: permission denied\nmore"}},
		Defects: []string{"Resolution step 1 regenerates keys: <all> lost", "`kill <pid>` is not mapped"}}}
	md := r.FindingsMarkdown()
	for _, want := range []string{
		`* *key recovery*: step "chmod -R 600 as written" (Data Recovery): party 3: permission denied` + "\n",
		"* *key recovery*: Resolution step 1 regenerates keys: &lt;all> lost\n",
		"* *the guide, as written*: Monitoring Integration > Custom Health Checks > block 1 (line 385), under the key volume 90% full: misses the fault",
		"* *key recovery*: `kill <pid>` is not mapped\n",
		"5 findings",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("findings lack %q:\n%s", want, md)
		}
	}
	doc := []byte("# R\n\n### What the catalog found\n\n" + FindingsBegin + "\nold\n" + FindingsEnd + "\n\n## Next\n")
	got, err := ReplaceFindings(doc, md)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "## Next") || strings.Contains(string(got), "old\n") || !strings.Contains(string(got), "permission denied") {
		t.Errorf("replaced:\n%s", got)
	}
	if _, err := ReplaceFindings([]byte("# no markers\n"), md); err == nil {
		t.Error("a document without markers was accepted")
	}
}
