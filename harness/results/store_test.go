package results

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// The same suite of store tests runs against a SQLite file on disk and a
// real PostgreSQL server.

func TestSQLiteStore(t *testing.T) {
	storeSuite(t, sqliteFile)
}

// sqliteFile is a fresh SQLite store's path.
func sqliteFile(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "results.db")
}

func TestPostgresStore(t *testing.T) {
	storeSuite(t, postgresURL)
}

func storeSuite(t *testing.T, fresh func(t *testing.T) string) {
	t.Helper() // each failure's message says which check failed
	t.Run("records a run and history shows it", func(t *testing.T) { testRecordAndHistory(t, fresh(t)) })
	t.Run("filters runs", func(t *testing.T) { testFilters(t, fresh(t)) })
	t.Run("names the closest of what is unknown", func(t *testing.T) { testUnknown(t, fresh(t)) })
	t.Run("migrates a v1 store keeping its rows", func(t *testing.T) { testMigratesV1(t, fresh(t)) })
	t.Run("refuses a newer schema in one line", func(t *testing.T) { testRefusesNewer(t, fresh(t)) })
	t.Run("history keeps a scenario that ran long ago", func(t *testing.T) { testHistoryOldScenario(t, fresh(t)) })
	t.Run("compare finds regressions, not noise", func(t *testing.T) { testCompareReleases(t, fresh(t)) })
	t.Run("compare says too few runs", func(t *testing.T) { testCompareTooFew(t, fresh(t)) })
	t.Run("compare names the closest of an unknown side", func(t *testing.T) { testCompareUnknown(t, fresh(t)) })
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// sampleRun is a run of three scenarios in two sections, started at.
func sampleRun(at time.Time, ttrOfKill time.Duration, killPassed bool) *report.Run {
	return &report.Run{
		Seed: 42, N: 4, T: 1, Backend: "docker", Machine: "test", Started: at, Duration: time.Minute,
		Scenarios: []report.Scenario{
			{Name: "kill one party", Section: "Process", Passed: killPassed, TTD: 2 * time.Second, TTR: ttrOfKill,
				RecoveredBy: report.ByGuide, Keys: report.KeysIntact, Ops: report.Ops{OK: 100, Failed: 3},
				Phases: report.Phases{Reset: time.Second, Prelude: 3 * time.Second, Detect: 2 * time.Second, Runbook: ttrOfKill}},
			{Name: "refused client link", Section: "Connectivity", Passed: true, TTD: 500 * time.Millisecond, TTR: 4 * time.Second,
				Defects: []string{"step 2 names the wrong port"}},
			{Name: "evict a node", Section: "Process", Skipped: "docker cannot evict"},
		},
	}
}

func mustOpen(t *testing.T, where string) *Store {
	t.Helper()
	s, err := Open(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testRecordAndHistory(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	s := mustOpen(t, where)
	id1, err := s.Record(ctx, sampleRun(t0, 10*time.Second, true), Meta{Labels: map[string]string{"release": "1.4.1"}, Commit: "abc123", Image: "sha256:feed"})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := s.Record(ctx, sampleRun(t0.Add(time.Hour), 20*time.Second, false), Meta{Labels: map[string]string{"release": "1.4.2", "ci": "yes"}, Commit: "def456"})
	if err != nil {
		t.Fatal(err)
	}
	// Reopened, as the next command would: the rows are on disk/server.
	_ = s.Close()
	s = mustOpen(t, where)
	runs, err := s.Runs(ctx, Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != id2 || runs[1].ID != id1 {
		t.Fatalf("runs newest first: want %s, %s; got %+v", id2, id1, runs)
	}
	r := runs[1]
	if r.Seed != 42 || r.N != 4 || r.T != 1 || r.Backend != "docker" || r.Commit != "abc123" || r.Image != "sha256:feed" ||
		!r.Started.Equal(t0) || r.Labels["release"] != "1.4.1" || r.Passed != 2 || r.Failed != 0 || r.Skipped != 1 {
		t.Errorf("run as recorded: %+v", r)
	}
	if runs[0].Failed != 1 || runs[0].Labels["ci"] != "yes" {
		t.Errorf("second run: %+v", runs[0])
	}
	hist, err := s.Scenarios(ctx, Filter{Scenario: "kill one party"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || len(hist[0].Last) != 2 {
		t.Fatalf("history of one scenario over two runs: %+v", hist)
	}
	last := hist[0].Last
	if last[0].Verdict != "FAIL" || last[0].TTR != 20*time.Second || last[1].Verdict != "PASS" || last[1].TTR != 10*time.Second ||
		last[1].TTD != 2*time.Second || last[1].RecoveredBy != "guide" || last[0].Run != id2 {
		t.Errorf("last verdicts, newest first: %+v", last)
	}
	// Phases, ops, keys and defects are kept too.
	var reset, prelude, detect, runbook int64
	var opsOK, opsFailed int
	var keys, defects string
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT reset_ns, prelude_ns, detect_ns, runbook_ns, ops_ok, ops_failed, keys FROM scenarios WHERE run_id = ? AND name = ?`), id1, "kill one party").
		Scan(&reset, &prelude, &detect, &runbook, &opsOK, &opsFailed, &keys); err != nil {
		t.Fatal(err)
	}
	if time.Duration(reset) != time.Second || time.Duration(prelude) != 3*time.Second || time.Duration(detect) != 2*time.Second || time.Duration(runbook) != 10*time.Second || opsOK != 100 || opsFailed != 3 || keys != "intact" {
		t.Errorf("kept per scenario: reset %d prelude %d detect %d runbook %d ops %d/%d keys %s", reset, prelude, detect, runbook, opsOK, opsFailed, keys)
	}
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT defects FROM scenarios WHERE run_id = ? AND name = ?`), id1, "refused client link").Scan(&defects); err != nil || defects != "step 2 names the wrong port" {
		t.Errorf("defects kept: %q %v", defects, err)
	}
	// last bounds each scenario's verdicts.
	hist, err = s.Scenarios(ctx, Filter{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 {
		t.Fatalf("three scenarios: %+v", hist)
	}
	for _, h := range hist {
		if len(h.Last) != 1 || h.Last[0].Run != id2 {
			t.Errorf("%s: want only the newest run's verdict, got %+v", h.Name, h.Last)
		}
	}
	if hist[0].Section != "Connectivity" || hist[1].Name != "evict a node" {
		t.Errorf("sorted by section then name: %s/%s, %s", hist[0].Section, hist[0].Name, hist[1].Name)
	}
}

func testFilters(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	s := mustOpen(t, where)
	old, _ := s.Record(ctx, sampleRun(t0, time.Second, true), Meta{Labels: map[string]string{"release": "1.4.1"}})
	k8s := sampleRun(t0.Add(48*time.Hour), time.Second, true)
	k8s.Backend = "kubernetes"
	k8s.Scenarios = k8s.Scenarios[1:2] // only the connectivity one
	newer, _ := s.Record(ctx, k8s, Meta{Labels: map[string]string{"release": "1.4.2"}})
	ids := func(f Filter) string {
		runs, err := s.Runs(ctx, f, 10)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var out []string
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return strings.Join(out, ",")
	}
	for name, c := range map[string]struct {
		f    Filter
		want string
	}{
		"label":    {Filter{Labels: map[string]string{"release": "1.4.1"}}, old},
		"backend":  {Filter{Backend: "kubernetes"}, newer},
		"since":    {Filter{Since: t0.Add(time.Hour)}, newer},
		"scenario": {Filter{Scenario: "kill one party"}, old},
		"section":  {Filter{Section: "Process"}, old},
		"run":      {Filter{Run: old}, old},
		"none":     {Filter{}, newer + "," + old},
	} {
		if got := ids(c.f); got != c.want {
			t.Errorf("%s: want runs %s, got %s", name, c.want, got)
		}
	}
	hist, err := s.Scenarios(ctx, Filter{Section: "Connectivity"}, 5)
	if err != nil || len(hist) != 1 || len(hist[0].Last) != 2 {
		t.Errorf("--section keeps only its scenarios: %+v %v", hist, err)
	}
}

func testUnknown(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	s := mustOpen(t, where)
	if _, err := s.Runs(ctx, Filter{Labels: map[string]string{"release": "1.4.1"}}, 10); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "has none recorded") {
		t.Errorf("an empty store: %v", err)
	}
	id, _ := s.Record(ctx, sampleRun(t0, time.Second, true), Meta{Labels: map[string]string{"release": "1.4.1"}})
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{Filter{Run: id[:len(id)-1] + "x"}, `did you mean "` + id + `"`},
		{Filter{Labels: map[string]string{"relase": "1.4.1"}}, `unknown label key "relase"`},
		{Filter{Labels: map[string]string{"relase": "1.4.1"}}, `did you mean "release"`},
		{Filter{Labels: map[string]string{"release": "1.4.3"}}, `did you mean "1.4.1"`},
		{Filter{Scenario: "kill one parti"}, `did you mean "kill one party"`},
		{Filter{Section: "process"}, `did you mean "Process"`},
	} {
		_, err := s.Runs(ctx, c.f, 10)
		if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: want one line with %q, got %v", c.f, c.want, err)
		}
	}
}

// testMigratesV1 builds the store an older kmschaos wrote (schema v1:
// no labels, no phases) with a run in it, opens it with this one, and
// finds the run kept and the store able to take labelled runs.
func testMigratesV1(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	old, err := connect(where)
	if err != nil {
		t.Fatal(err)
	}
	p, err := old.provider(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := old.db.ExecContext(ctx, `INSERT INTO runs (id, started_ns, duration_ns, seed, backend, n, t, commit_sha, machine)
		VALUES ('0ld0ld0ld0ld', 1000, 60000000000, 7, 'docker', 13, 4, 'v1commit', 'old host')`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.db.ExecContext(ctx, `INSERT INTO scenarios (run_id, position, name, section, verdict, ttd_ns, ttr_ns, ops_ok, ops_failed, ops_wrong, keys, defects)
		VALUES ('0ld0ld0ld0ld', 0, 'kill one party', 'Process', 'PASS', 3000000000, 9000000000, 50, 1, 0, 'intact', '')`); err != nil {
		t.Fatal(err)
	}
	if v, err := old.Version(ctx); err != nil || v != 1 {
		t.Fatalf("the old store is at v%d (%v), want v1", v, err)
	}
	_ = old.Close()

	s := mustOpen(t, where)
	if v, err := s.Version(ctx); err != nil || v != SchemaVersion {
		t.Fatalf("migrated to v%d (%v), want v%d", v, err, SchemaVersion)
	}
	runs, err := s.Runs(ctx, Filter{}, 10)
	if err != nil || len(runs) != 1 || runs[0].ID != "0ld0ld0ld0ld" || runs[0].Commit != "v1commit" || runs[0].Seed != 7 || runs[0].Passed != 1 {
		t.Fatalf("the v1 run kept: %+v %v", runs, err)
	}
	hist, err := s.Scenarios(ctx, Filter{Scenario: "kill one party"}, 5)
	if err != nil || len(hist) != 1 || hist[0].Last[0].TTR != 9*time.Second {
		t.Fatalf("the v1 scenario's TTR kept: %+v %v", hist, err)
	}
	if runs[0].Report != "" {
		t.Errorf("the v1 run's report path: %q, want '' (it was not kept then)", runs[0].Report)
	}
	id, err := s.Record(ctx, sampleRun(t0.Add(time.Hour), time.Second, true), Meta{Labels: map[string]string{"release": "2"}, ID: "0123456789ab", Report: "/ci/reports/report.html"})
	if err != nil {
		t.Fatalf("recording into the migrated store: %v", err)
	}
	if runs, err = s.Runs(ctx, Filter{Run: id}, 1); err != nil || id != "0123456789ab" || len(runs) != 1 || runs[0].Report != "/ci/reports/report.html" {
		t.Errorf("the run recorded with its id and report path: %s %+v %v", id, runs, err)
	}
}

// testRefusesNewer opens a store a newer kmschaos migrated further.
func testRefusesNewer(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	s := mustOpen(t, where)
	if _, err := s.Record(ctx, sampleRun(t0, time.Second, true), Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`), SchemaVersion+1, true); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	_, err := Open(ctx, where)
	var u *Unreadable
	if !errors.As(err, &u) || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d is newer than this kmschaos knows (%d)", SchemaVersion+1, SchemaVersion)) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line refusing the newer schema, got %v", err)
	}
	if !strings.Contains(err.Error(), redact(where)) {
		t.Errorf("the message names the store: %v", err)
	}
	t.Log(err)
}

func TestRefusesCorruptFile(t *testing.T) {
	where := filepath.Join(t.TempDir(), "results.db")
	if err := os.WriteFile(where, []byte(strings.Repeat("not a database, a text file someone wrote over it\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), where)
	var u *Unreadable
	if !errors.As(err, &u) || !strings.Contains(err.Error(), where) || !strings.Contains(err.Error(), "not a database") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line naming the file that is not a store, got %v", err)
	}
	t.Log(err)
}

func TestRefusesUnreachableServer(t *testing.T) {
	port, err := freePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	where := "postgres://kmschaos:secret@127.0.0.1:" + strconv.Itoa(port) + "/results?sslmode=disable"
	_, err = Open(ctx, where)
	var u *Unreadable
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line naming the server, without its password, got %v", err)
	}
	t.Log(err)
}

func TestParseLabels(t *testing.T) {
	got, err := ParseLabels("--label", []string{"release=1.4.2", "ci=yes"}, "release=1.4.1,team=ops")
	if err != nil || FormatLabels(got) != "ci=yes,release=1.4.2,team=ops" {
		t.Errorf("flags win over KMSCHAOS_LABELS: %v %v", got, err)
	}
	for _, bad := range [][2]string{{"release", ""}, {"=x", ""}, {"", "team"}} {
		var flags []string
		if bad[0] != "" {
			flags = []string{bad[0]}
		}
		if _, err := ParseLabels("--label", flags, bad[1]); err == nil || !strings.Contains(err.Error(), "key=value") {
			t.Errorf("%q %q: want an error teaching key=value, got %v", bad[0], bad[1], err)
		}
	}
}

// testHistoryOldScenario: Scenarios reads the newest runs first and stops
// once every scenario has its last verdicts; a scenario only the oldest
// run ran, and one the labelled runs never ran, must not stop it early
// or be lost.
func testHistoryOldScenario(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	s := mustOpen(t, where)
	var ids []string
	for k := 0; k < 5; k++ {
		r := sampleRun(t0.Add(time.Duration(k)*time.Hour), time.Duration(k+1)*time.Second, true)
		if k > 0 {
			r.Scenarios = r.Scenarios[:2] // "evict a node" only in the oldest run
		}
		id, err := s.Record(ctx, r, Meta{Labels: map[string]string{"release": strconv.Itoa(k % 2)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	hist, err := s.Scenarios(ctx, Filter{}, 2)
	if err != nil || len(hist) != 3 {
		t.Fatalf("three scenarios: %+v %v", hist, err)
	}
	for _, h := range hist {
		want := []string{ids[4], ids[3]}
		if h.Name == "evict a node" {
			want = []string{ids[0]}
		}
		var got []string
		for _, v := range h.Last {
			got = append(got, v.Run)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: want runs %v, newest first, got %v", h.Name, want, got)
		}
	}
	hist, err = s.Scenarios(ctx, Filter{Labels: map[string]string{"release": "1"}}, 5)
	if err != nil || len(hist) != 2 || len(hist[0].Last) != 2 || hist[0].Last[0].Run != ids[3] || hist[0].Last[1].Run != ids[1] {
		t.Errorf("release=1 (runs 1 and 3, no eviction): %+v %v", hist, err)
	}
}
