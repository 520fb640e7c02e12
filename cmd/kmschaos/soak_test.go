package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The real command line on the golden runs of fixtures/reports: the
// report is written, and a soak with a red exits 1; a broken scorecard
// exits 2 naming its file and line.
func TestSoakReport(t *testing.T) {
	fx := filepath.Join("..", "..", "fixtures", "reports")
	out := t.TempDir()
	run := func(names ...string) []string {
		args := []string{"soak-report", "--out", out}
		for _, n := range names {
			args = append(args, filepath.Join(fx, n))
		}
		return args
	}

	got, code := cliOut(t, run("soak/run-1")...)
	if code != 0 || !strings.Contains(got, "Flake rate 0/2 (0 %)") {
		t.Errorf("one green run: exit %d, output %q", code, got)
	}
	got, code = cliOut(t, run("soak/run-1", "soak/run-2", "soak/run-3")...)
	if code != 1 || !strings.Contains(got, "2 of 3 runs had a red") {
		t.Errorf("a soak with reds: exit %d, output %q", code, got)
	}
	md, err := os.ReadFile(filepath.Join(out, "soak.md"))
	if err != nil || !strings.Contains(string(md), "Flake rate 1/5 (20 %)") {
		t.Errorf("soak.md not written with the reds (err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(out, "soak.json")); err != nil {
		t.Error(err)
	}
	got, code = cliOut(t, run("soak/run-1", "bad/syntax")...)
	if code != 2 || !strings.Contains(got, filepath.Join("bad", "syntax", "scorecard.json")+":5:") {
		t.Errorf("a broken scorecard: exit %d, output %q", code, got)
	}
}
