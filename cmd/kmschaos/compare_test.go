package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/results"
)

// storeWithReleases is a results store with three runs of release 1.4.1
// and three of 1.4.2, in which "kill one party" recovers twice as slowly
// (against a tight baseline) and "refused client link" fails once; "slow
// restart" varies within its baseline's spread. It returns the store and
// the first run's id.
func storeWithReleases(t *testing.T) (string, string) {
	t.Helper()
	where, s := tempStore(t)
	ttr := map[string][2][3]float64{ // release → runs
		"kill one party": {{10, 10.2, 9.9}, {20.1, 19.8, 20.3}},
		"slow restart":   {{6, 14, 10}, {13, 13.5, 14}},
	}
	var first string
	for rel, release := range []string{"1.4.1", "1.4.2"} {
		for k := 0; k < 3; k++ {
			r := &report.Run{Seed: uint64(k), N: 4, T: 1, Backend: "docker", Started: time.Date(2026, 12, 1+rel, 9, k, 0, 0, time.UTC), Scenarios: []report.Scenario{
				{Name: "kill one party", Section: "Process", Passed: true, TTD: 2 * time.Second, TTR: time.Duration(ttr["kill one party"][rel][k] * float64(time.Second))},
				{Name: "slow restart", Section: "Process", Passed: true, TTD: 2 * time.Second, TTR: time.Duration(ttr["slow restart"][rel][k] * float64(time.Second))},
				{Name: "refused client link", Section: "Connectivity Issues", Passed: rel == 0 || k != 1, TTD: time.Second, TTR: 3 * time.Second},
			}}
			id, err := s.Record(context.Background(), r, results.Meta{Labels: map[string]string{"release": release, "ci": "yes"}})
			if err != nil {
				t.Fatal(err)
			}
			if first == "" {
				first = id
			}
		}
	}
	return where, first
}

// compare exits 1 on a regression, with the summary on top and the
// regressions first; 0 where nothing regressed.
func TestCompareGates(t *testing.T) {
	db, _ := storeWithReleases(t)
	out, errOut, code := cli(t, "compare", "release=1.4.1", "release=1.4.2", "--db", db)
	t.Logf("kmschaos compare release=1.4.1 release=1.4.2:\n%s", out)
	if code != 1 || strings.TrimSpace(errOut) != "Error: 2 scenarios regressed" {
		t.Fatalf("two regressions: want exit 1 and one line saying so, got %d, %q", code, errOut)
	}
	lines := strings.Split(out, "\n")
	if lines[0] != "2 scenarios regressed: B release=1.4.2 (3 runs) against A release=1.4.1 (3 runs): 2 regression, 1 noise" {
		t.Errorf("the summary on top: %q", lines[0])
	}
	var rows []string
	for _, l := range lines[3:] {
		if f := strings.Fields(l); len(f) > 0 {
			rows = append(rows, l)
		}
	}
	if len(rows) != 4 || !strings.HasPrefix(rows[0], "  SCENARIO ") ||
		!regexpMatch(`^  kill one party\s+3/3 → 3/3\s+2s → 2s\s+10s → 20.1s\s+regression\s+TTR \+10.1s beyond A's noise ±2s$`, rows[1]) ||
		!regexpMatch(`^  refused client link\s+3/3 → 2/3\s+1s → 1s\s+3s → 3s\s+regression\s+was solid, now flakes$`, rows[2]) ||
		!regexpMatch(`^  slow restart\s+3/3 → 3/3\s+2s → 2s\s+10s → 13.5s\s+noise\s+TTR \+3.5s within A's noise ±12s$`, rows[3]) {
		t.Errorf("regressions first, then the noise:\n%s", strings.Join(rows, "\n"))
	}

	// Within the noise only: exit 0.
	out, errOut, code = cli(t, "compare", "release=1.4.1,ci=yes", "release=1.4.2,ci=yes", "--scenario", "slow restart", "--db", db)
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "no regression: B release=1.4.2,ci=yes (3 runs) against A release=1.4.1,ci=yes (3 runs): 1 noise\n") {
		t.Errorf("noise alone: want exit 0, got %d %q\n%s", code, errOut, out)
	}
	out, _, code = cli(t, "compare", "release=1.4.1", "release=1.4.2", "--section", "Connectivity Issues", "--db", db, "-o", "json")
	var got results.Comparison
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 1 || len(got.Scenarios) != 1 ||
		got.Scenarios[0].Judgement != results.Regression || got.Scenarios[0].B.Failed != 1 || len(got.B.Runs) != 3 {
		t.Errorf("--section … -o json: exit %d, %v, %+v", code, err, got)
	}
}

// --output markdown is a pull request comment: a heading with the
// summary, a table of what changed.
func TestCompareMarkdown(t *testing.T) {
	db, _ := storeWithReleases(t)
	out, _, code := cli(t, "compare", "release=1.4.1", "release=1.4.2", "--db", db, "--output", "markdown")
	t.Logf("markdown:\n%s", out)
	want := "### kmschaos compare: 2 scenarios regressed\n\n" +
		"B release=1.4.2 (3 runs) against A release=1.4.1 (3 runs): 2 regression, 1 noise\n\n" +
		"| judgement | scenario | verdicts A → B | TTD A → B | TTR A → B | why |\n" +
		"|---|---|---|---|---|---|\n" +
		"| **regression** | kill one party | 3/3 → 3/3 | 2s → 2s | 10s → 20.1s | TTR +10.1s beyond A's noise ±2s |\n" +
		"| **regression** | refused client link | 3/3 → 2/3 | 1s → 1s | 3s → 3s | was solid, now flakes |\n" +
		"| noise | slow restart | 3/3 → 3/3 | 2s → 2s | 10s → 13.5s | TTR +3.5s within A's noise ±12s |\n\n" +
		"A: `release=1.4.1` (3 runs), B: `release=1.4.2` (3 runs). Rule: `kmschaos compare --help`.\n"
	if code != 1 || out != want {
		t.Errorf("exit %d; want exit 1 and\n%s\ngot\n%s", code, want, out)
	}
}

// Bad input: exit 2, one line, the closest known value named.
func TestCompareBadInput(t *testing.T) {
	db, first := storeWithReleases(t)
	corrupt := filepath.Join(t.TempDir(), "corrupt.db")
	if err := os.WriteFile(corrupt, []byte(strings.Repeat("this is no results store\n", 300)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{first[:11] + "z", "release=1.4.2"}, `unknown run "` + first[:11] + `z" in ` + db + `: did you mean "` + first + `"?`},
		{[]string{"release=1.4.1", "relase=1.4.2"}, `unknown label key "relase" in ` + db + `: did you mean "release"?`},
		{[]string{"release=1.4.1", "release=1.4.3"}, `unknown value of label release "1.4.3" in ` + db + `: did you mean "1.4.1"?`},
		{[]string{"release=1.4.1", "release=1.4.2,ci"}, `B label "ci" in "release=1.4.2,ci": a label is key=value`},
		{[]string{"release=1.4.1", "release=1.4.2", "--scenario", "kill one"}, `unknown scenario "kill one" in ` + db + `: did you mean "kill one party"?`},
		{[]string{"release=1.4.1", "release=1.4.2", "-o", "html"}, `--output "html": use text, json or markdown`},
		{[]string{"release=1.4.1"}, `accepts 2 arg(s), received 1`},
	} {
		out, code := cliOut(t, append([]string{"compare", "--db", db}, c.args...)...)
		if code != 2 || !strings.Contains(out, c.says) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("kmschaos compare %s: exit %d, %q; want exit 2 and one line with %q", strings.Join(c.args, " "), code, out, c.says)
		}
	}
	out, code := cliOut(t, "compare", "--db", corrupt, "release=1.4.1", "release=1.4.2")
	if code != 2 || !strings.Contains(out, "results store "+corrupt+": file is not a database") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("a store that cannot be read: exit %d, %q", code, out)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
