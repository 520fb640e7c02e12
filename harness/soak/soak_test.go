package soak

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

var update = flag.Bool("update", false, "rewrite the golden soak report in fixtures/reports")

// fixtures holds three runs of two scenarios at n=4: run 1 green (a real
// scorecard, events left out); run 2 with the hanging link undetected
// (a reason with a newline and a '|') and a scenario only it has; run 3
// killed before it wrote a scorecard.
const fixtures = "../../fixtures/reports"

func runDirs() []string {
	return []string{
		filepath.Join(fixtures, "soak", "run-1"),
		filepath.Join(fixtures, "soak", "run-2"),
		filepath.Join(fixtures, "soak", "run-3"),
	}
}

func TestLoadAggregatesTheRuns(t *testing.T) {
	r, err := Load(runDirs())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Runs) != 3 || r.Runs[0].Seed != 4242 || r.Runs[1].Seed != 31337 {
		t.Fatalf("runs = %+v", r.Runs)
	}
	if run := r.Runs[2]; run.Missing == "" || !run.Red() || run.ExitStatus == nil || *run.ExitStatus != 1 {
		t.Errorf("the run without a scorecard is not reported red and missing: %+v", run)
	}
	if r.Runs[0].Red() || !r.Runs[1].Red() {
		t.Errorf("red runs: 1 %v, 2 %v; want only run 2 of the two with scorecards", r.Runs[0].Red(), r.Runs[1].Red())
	}
	// Two scenarios ran twice and one once: 5 scenario runs, 1 failed.
	if r.ScenarioRuns != 5 || r.FailedRuns != 1 || r.RedRuns != 2 {
		t.Errorf("scenario runs %d, failed %d, red runs %d; want 5, 1, 2", r.ScenarioRuns, r.FailedRuns, r.RedRuns)
	}
	hang := find(t, r, "a silently hanging client link")
	if hang.Ran != 2 || hang.Failed != 1 || hang.FlakeRate != 0.5 {
		t.Errorf("hanging link: ran %d failed %d rate %v; want 2, 1, 0.5", hang.Ran, hang.Failed, hang.FlakeRate)
	}
	if c := hang.Cells[1]; c.Passed || !strings.HasPrefix(c.Reason, "detection did not happen within 45s") {
		t.Errorf("run 2's failure lost its reason: %+v", c)
	}
	// An undetected run has no TTD to count: the spread is over run 1 only.
	if hang.TTD.Count != 1 || hang.TTR.Count != 1 {
		t.Errorf("hanging link measured TTD %d times, TTR %d times; want once each", hang.TTD.Count, hang.TTR.Count)
	}
	disk := find(t, r, "a full disk")
	if disk.TTD.Count != 2 || disk.TTD.Min != 480359565 || disk.TTD.Max != 612*time.Millisecond || disk.TTD.Median != (480359565+612*time.Millisecond)/2 {
		t.Errorf("full disk TTD = %+v", disk.TTD)
	}
	only := find(t, r, "a second storage scenario")
	if only.Ran != 1 || only.Cells[0].Ran || !only.Cells[1].Ran {
		t.Errorf("a scenario of one run only: %+v", only)
	}
}

func find(t *testing.T, r *Report, prefix string) Scenario {
	t.Helper()
	for _, s := range r.Scenarios {
		if strings.HasPrefix(s.Name, prefix) {
			return s
		}
	}
	t.Fatalf("no scenario %q in %d", prefix, len(r.Scenarios))
	return Scenario{}
}

// The Markdown report is compared with a golden copy (go test -update
// rewrites it); reasons stay in their cell and the full reason follows.
func TestWriteMarkdownGolden(t *testing.T) {
	r, err := Load(runDirs())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join(fixtures, "soak.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("soak.md differs from %s (go test -update to accept):\n%s", golden, b.String())
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "| a silently hanging") && strings.Contains(line, "**FAIL**") {
			// name, run 1, run 2, run 3, flake rate: 6 unescaped bars.
			if n := strings.Count(line, "|") - strings.Count(line, `\|`); n != 6 {
				t.Errorf("a reason broke the table row (%d cells): %q", n-1, line)
			}
		}
	}
	for _, want := range []string{"Flake rate 1/5 (20 %)", "KMSCHAOS_SEED=31337", "the fault outlived the scenario: toxic timeout on client-4"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("soak.md lacks %q", want)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	r, err := Load(runDirs())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "reports")
	paths, err := r.WriteFiles(dir)
	if err != nil || len(paths) != 2 {
		t.Fatalf("WriteFiles = %v, %v", paths, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "soak.json"))
	if err != nil || !strings.Contains(string(b), `"flake_rate": 0.2`) {
		t.Errorf("soak.json lacks the flake rate (err %v)", err)
	}
}

func TestBadInputNamesFileLineAndText(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want string
	}{
		{"bad/syntax", `scorecard.json:5: invalid character ',' looking for beginning of object key string: "{\"name\": \"x\",, }"`},
		{"bad/not-a-scorecard", `scorecard.json:1: not a scorecard: it has no cluster size (n): "{"`},
		{"bad/exit-status", `exit-status:1: not an exit status: "killed"`},
		{"does-not-exist", "no such file or directory"},
		{"soak/run-1/scorecard.json", "not a run directory"},
	} {
		_, err := Load([]string{filepath.Join(fixtures, tc.dir)})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want an InputError containing %q", tc.dir, err, tc.want)
		}
	}
}

func TestDistOf(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		in   []time.Duration
		want Dist
	}{
		{nil, Dist{}},
		{[]time.Duration{3 * s}, Dist{1, 3 * s, 3 * s, 3 * s}},
		{[]time.Duration{5 * s, 1 * s, 3 * s}, Dist{3, s, 3 * s, 5 * s}},
		{[]time.Duration{4 * s, 1 * s, 2 * s, 9 * s}, Dist{4, s, 3 * s, 9 * s}},
	} {
		if got := distOf(tc.in); got != tc.want {
			t.Errorf("distOf(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// A scenario that failed with no error recorded still says so.
func TestAggregateFailureWithoutReason(t *testing.T) {
	r := Aggregate([]Run{{Index: 1}}, []*report.Run{{N: 4, Scenarios: []report.Scenario{{Name: "x"}}}})
	if c := r.Scenarios[0].Cells[0]; c.Reason == "" || r.FlakeRate != 1 {
		t.Errorf("cell %+v, flake rate %v", c, r.FlakeRate)
	}
}

// A skipped cell (the backend cannot offer a verb the scenario needs) is
// neither a pass nor a flake: it is out of the flake rate's denominator,
// its run is not red, and soak.md shows it as skip with its reason.
func TestSkippedIsNotAFlake(t *testing.T) {
	why := "Pause is not supported on the kubernetes backend: a pod cannot be frozen"
	runs := []Run{{Index: 1}, {Index: 2}, {Index: 3}}
	cards := []*report.Run{
		{N: 4, Scenarios: []report.Scenario{{Name: "pause", Passed: true, Duration: time.Minute}}},
		{N: 4, Scenarios: []report.Scenario{{Name: "pause", Skipped: why, Duration: time.Second}}},
		{N: 4, Scenarios: []report.Scenario{{Name: "pause", Error: "did not recover", Duration: time.Minute}}},
	}
	r := Aggregate(runs, cards)
	s := r.Scenarios[0]
	if s.Ran != 2 || s.Failed != 1 || s.Skipped != 1 || s.FlakeRate != 0.5 {
		t.Errorf("ran %d, failed %d, skipped %d, flake rate %v; want 2, 1, 1, 0.5", s.Ran, s.Failed, s.Skipped, s.FlakeRate)
	}
	if r.ScenarioRuns != 2 || r.FailedRuns != 1 || r.SkippedRuns != 1 || r.FlakeRate != 0.5 {
		t.Errorf("report: %d scenario runs, %d failed, %d skipped, flake rate %v; want 2, 1, 1, 0.5", r.ScenarioRuns, r.FailedRuns, r.SkippedRuns, r.FlakeRate)
	}
	if run := r.Runs[1]; run.Red() || run.Failed != 0 || run.Passed != 0 || run.Skipped != 1 {
		t.Errorf("the run with the skip: %+v, red %v; want 1 skipped and not red", run, run.Red())
	}
	if c := s.Cells[1]; c.Passed || c.Skipped != why || c.Reason != "" {
		t.Errorf("the skipped cell %+v", c)
	}
	if s.Duration.Count != 2 || s.Duration.Min != time.Minute {
		t.Errorf("duration spread %+v: a skipped run's time must not count", s.Duration)
	}

	var b strings.Builder
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"| pause | pass | skip | **FAIL**: did not recover | 1/2 (50 %) |", "1 of 2 scenario runs failed (1 more skipped, not counted)", "## Skipped\n\n- run 2, pause: " + why, "not counted in the flake rate"} {
		if !strings.Contains(md, want) {
			t.Errorf("soak.md lacks %q:\n%s", want, md)
		}
	}
	_, failures, _ := strings.Cut(md, "## Failures")
	if failures, _, _ = strings.Cut(failures, "## Skipped"); strings.Contains(failures, "run 2") {
		t.Errorf("the skip is listed as a failure:\n%s", md)
	}
}
