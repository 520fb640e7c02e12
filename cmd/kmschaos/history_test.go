package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/results"
)

// storeWithRuns is a results store holding two runs of two scenarios,
// under release=1.4.1 and release=1.4.2; it returns the store and the
// runs' ids, oldest first.
func storeWithRuns(t *testing.T) (string, []string) {
	t.Helper()
	where, s := tempStore(t)
	var ids []string
	for i, release := range []string{"1.4.1", "1.4.2"} {
		r := &report.Run{Seed: uint64(10 + i), N: 4, T: 1, Backend: "docker", Started: time.Date(2026, 12, 1+i, 9, 0, 0, 0, time.UTC), Scenarios: []report.Scenario{
			{Name: "kill one party", Section: "Process", Passed: i == 0, TTD: 2 * time.Second, TTR: time.Duration(10+10*i) * time.Second},
			{Name: "refused client link", Section: "Connectivity Issues", Passed: true, TTD: time.Second, TTR: 3 * time.Second},
		}}
		id, err := s.Record(context.Background(), r, results.Meta{Labels: map[string]string{"release": release}, Commit: "0123456789abcdef"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return where, ids
}

// history lists the runs and each scenario's last verdicts with TTD and
// TTR, narrowed by label or scenario, and the same as JSON.
func TestHistoryShowsRunsAndScenarios(t *testing.T) {
	db, ids := storeWithRuns(t)
	out, errOut, code := cli(t, "history", "--db", db)
	if code != 0 || errOut != "" {
		t.Fatalf("history: exit %d, %s", code, errOut)
	}
	for _, want := range []string{ids[1] + "  2026-12-02 09:00  docker      4/1     0123456789a   1/1/0          release=1.4.2",
		"  Process\n    kill one party\n      FAIL  TTD 2s        TTR 20s       run " + ids[1], "      PASS  TTD 2s        TTR 10s       run " + ids[0]} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "  "+ids[1]+"  ") > strings.Index(out, "  "+ids[0]+"  ") {
		t.Errorf("runs newest first: %s before %s:\n%s", ids[1], ids[0], out)
	}
	out, _, code = cli(t, "history", "--db", db, "--label", "release=1.4.1")
	if code != 0 || !strings.Contains(out, ids[0]) || strings.Contains(out, ids[1]) {
		t.Errorf("--label release=1.4.1 shows only %s:\n%s", ids[0], out)
	}
	out, _, code = cli(t, "history", "--db", db, "--scenario", "refused client link", "--last", "1", "--output", "json")
	var got struct {
		Runs      []results.Run
		Scenarios []results.ScenarioHistory
	}
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("history --output json: exit %d, %v\n%s", code, err, out)
	}
	if len(got.Runs) != 2 || len(got.Scenarios) != 1 || got.Scenarios[0].Name != "refused client link" ||
		len(got.Scenarios[0].Last) != 1 || got.Scenarios[0].Last[0].Run != ids[1] || got.Scenarios[0].Last[0].TTR != 3*time.Second {
		t.Errorf("--scenario --last 1: %+v", got)
	}
}

// Bad input for history and for recording a run: exit 2, one line, the
// closest known value named, nothing run.
func TestHistoryBadInput(t *testing.T) {
	db, ids := storeWithRuns(t)
	corrupt := filepath.Join(t.TempDir(), "corrupt.db")
	if err := os.WriteFile(corrupt, []byte(strings.Repeat("this is no results store\n", 300)), 0o644); err != nil {
		t.Fatal(err)
	}
	reports := filepath.Join(t.TempDir(), "reports")
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"history", "--db", db, ids[0][:11] + "z"}, `unknown run "` + ids[0][:11] + `z" in ` + db + `: did you mean "` + ids[0] + `"?`},
		{[]string{"history", "--db", db, "--label", "relase=1.4.2"}, `unknown label key "relase" in ` + db + `: did you mean "release"?`},
		{[]string{"history", "--db", db, "--label", "release=1.4.22"}, `unknown value of label release "1.4.22" in ` + db + `: did you mean "1.4.2"?`},
		{[]string{"history", "--db", db, "--label", "release"}, `--label "release": a label is key=value, e.g. release=1.4.2`},
		{[]string{"history", "--db", db, "--scenario", "kill one"}, `unknown scenario "kill one" in ` + db + `: did you mean "kill one party"?`},
		{[]string{"history", "--db", corrupt}, "results store " + corrupt + ": file is not a database"},
		{[]string{"history", "--db", db, "--since", "last week"}, `--since "last week": give a date`},
		// A run with a store it cannot use, or a label without =, stops
		// before any cluster is looked for (--run names none), and writes
		// no report.
		{[]string{"run", "--label", "connectivity", "--report", reports, "--db", corrupt, "--run", "0000dead"}, "results store " + corrupt + ": file is not a database"},
		{[]string{"run", "--label", "connectivity", "--report", reports, "--tag", "release", "--run", "0000dead"}, `--tag "release": a label is key=value`},
	} {
		out, code := cliOut(t, c.args...)
		if code != 2 || !strings.Contains(out, c.says) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("kmschaos %s: exit %d, %q; want exit 2 and one line with %q", strings.Join(c.args, " "), code, out, c.says)
		}
	}
	if _, err := os.Stat(reports); !os.IsNotExist(err) {
		t.Errorf("a refused run wrote %s", reports)
	}
}

// tempStore is a new results store in the test's temporary folder, closed
// when the test ends, and where it is.
func tempStore(t *testing.T) (string, *results.Store) {
	t.Helper()
	where := filepath.Join(t.TempDir(), "results.db")
	s, err := results.Open(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return where, s
}
