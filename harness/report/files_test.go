package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The suite and `kmschaos run` write the scorecard the same three ways,
// into a directory that need not exist yet.
func TestWriteFilesWritesTheScorecardThreeWays(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := &Run{Seed: 7, N: 4, T: 1, Machine: Machine(), Scenarios: []Scenario{{Name: "a party is killed", Section: "Process faults", Passed: true}}}
	paths, err := r.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"scorecard.txt", "scorecard.json", "report.html"}
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if i >= len(want) || filepath.Base(p) != want[i] || err != nil || !strings.Contains(string(b), "a party is killed") {
			t.Errorf("path %d %s: %v, want %s naming the scenario:\n%.300s", i, p, err, want[min(i, len(want)-1)], b)
		}
	}
	if len(paths) != len(want) {
		t.Errorf("wrote %v, want %v", paths, want)
	}
	back, err := ReadRun(filepath.Join(dir, "scorecard.json"))
	if err != nil || back.Seed != 7 || len(back.Scenarios) != 1 || !strings.Contains(back.Machine, "cores") {
		t.Errorf("scorecard.json reads back as %+v, %v", back, err)
	}
}
