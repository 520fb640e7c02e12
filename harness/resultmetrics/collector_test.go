package resultmetrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/results"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) // Unix 1796119200

// run is a recorded run's scorecard: kill one party passes or fails,
// the client link passes, the eviction passes on Kubernetes and is
// skipped on Docker.
func run(backend string, at time.Time, killPassed bool, killTTR time.Duration) *report.Run {
	evict := report.Scenario{Name: "evict a node", Section: "Process", Skipped: "docker cannot evict"}
	if backend == "kubernetes" {
		evict = report.Scenario{Name: "evict a node", Section: "Process", Passed: true, TTD: time.Second, TTR: 3 * time.Second}
	}
	return &report.Run{Seed: 42, N: 4, T: 1, Backend: backend, Started: at, Duration: 90 * time.Second, Scenarios: []report.Scenario{
		{Name: "kill one party", Section: "Process", Passed: killPassed, TTD: 2 * time.Second, TTR: killTTR},
		{Name: "refused client link", Section: "Connectivity Issues", Passed: true, TTD: 500 * time.Millisecond, TTR: 4 * time.Second},
		evict,
	}}
}

// recordedStore is a SQLite store of four runs: on Docker, kill one
// party passes (1.4.1), fails (1.4.2), passes (1.4.2), an hour apart; on
// Kubernetes one run (1.4.2) in between.
func recordedStore(t *testing.T) *results.Store {
	t.Helper()
	ctx := context.Background()
	s, err := results.Open(ctx, filepath.Join(t.TempDir(), "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, r := range []struct {
		run     *report.Run
		release string
	}{
		{run("docker", t0, true, 10*time.Second), "1.4.1"},
		{run("kubernetes", t0.Add(30*time.Minute), true, 8*time.Second), "1.4.2"},
		{run("docker", t0.Add(time.Hour), false, 0), "1.4.2"},
		{run("docker", t0.Add(2*time.Hour), true, 12*time.Second), "1.4.2"},
	} {
		if _, err := s.Record(ctx, r.run, resultsMeta(r.release)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func resultsMeta(release string) results.Meta {
	return results.Meta{Labels: map[string]string{"release": release}}
}

const help = `# HELP kmschaos_last_run_duration_seconds How long the newest recorded run took, in seconds.
# TYPE kmschaos_last_run_duration_seconds gauge
# HELP kmschaos_last_run_scenarios Scenarios of the newest recorded run by verdict (PASS, FAIL, SKIP).
# TYPE kmschaos_last_run_scenarios gauge
# HELP kmschaos_last_run_start_timestamp_seconds When the newest recorded run started, in Unix seconds.
# TYPE kmschaos_last_run_start_timestamp_seconds gauge
# HELP kmschaos_runs_recorded Runs recorded in the results store (matching the serve's label filter), per backend.
# TYPE kmschaos_runs_recorded gauge
# HELP kmschaos_scenario_flake_ratio Among a scenario's last --window judged verdicts, newest first, the share of consecutive pairs that differ (a PASS after a FAIL or the reverse): 0 steady, 1 alternating at every run.
# TYPE kmschaos_scenario_flake_ratio gauge
# HELP kmschaos_scenario_judged_runs How many of a scenario's last --window verdicts were judged (PASS or FAIL): what its ratios are taken over.
# TYPE kmschaos_scenario_judged_runs gauge
# HELP kmschaos_scenario_pass_ratio Passes over the verdicts judged (PASS or FAIL; a SKIP is neither) among a scenario's last --window verdicts.
# TYPE kmschaos_scenario_pass_ratio gauge
# HELP kmschaos_scenario_ttd_seconds A scenario's time to detect in its last run, in seconds; absent when that run measured none.
# TYPE kmschaos_scenario_ttd_seconds gauge
# HELP kmschaos_scenario_ttr_seconds A scenario's time to recover in its last run, in seconds; absent when that run measured none.
# TYPE kmschaos_scenario_ttr_seconds gauge
# HELP kmschaos_scenario_verdict A scenario's last verdict: 1 for the verdict it had (PASS, FAIL or SKIP), 0 for the two others.
# TYPE kmschaos_scenario_verdict gauge
# HELP kmschaos_section_pass_ratio Passes over the verdicts judged of every scenario of a guide section, each over its last --window verdicts.
# TYPE kmschaos_section_pass_ratio gauge
`

// Every series the collector exports over the recorded store, exactly.
func TestCollectorExportsTheStore(t *testing.T) {
	c := New(recordedStore(t), Options{})
	want := help + `kmschaos_runs_recorded{backend="docker"} 3
kmschaos_runs_recorded{backend="kubernetes"} 1
kmschaos_last_run_start_timestamp_seconds{backend="docker"} 1796126400
kmschaos_last_run_start_timestamp_seconds{backend="kubernetes"} 1796121000
kmschaos_last_run_duration_seconds{backend="docker"} 90
kmschaos_last_run_duration_seconds{backend="kubernetes"} 90
kmschaos_last_run_scenarios{backend="docker",verdict="PASS"} 2
kmschaos_last_run_scenarios{backend="docker",verdict="FAIL"} 0
kmschaos_last_run_scenarios{backend="docker",verdict="SKIP"} 1
kmschaos_last_run_scenarios{backend="kubernetes",verdict="PASS"} 3
kmschaos_last_run_scenarios{backend="kubernetes",verdict="FAIL"} 0
kmschaos_last_run_scenarios{backend="kubernetes",verdict="SKIP"} 0
kmschaos_scenario_verdict{backend="docker",scenario="kill one party",section="Process",verdict="PASS"} 1
kmschaos_scenario_verdict{backend="docker",scenario="kill one party",section="Process",verdict="FAIL"} 0
kmschaos_scenario_verdict{backend="docker",scenario="kill one party",section="Process",verdict="SKIP"} 0
kmschaos_scenario_verdict{backend="docker",scenario="refused client link",section="Connectivity Issues",verdict="PASS"} 1
kmschaos_scenario_verdict{backend="docker",scenario="refused client link",section="Connectivity Issues",verdict="FAIL"} 0
kmschaos_scenario_verdict{backend="docker",scenario="refused client link",section="Connectivity Issues",verdict="SKIP"} 0
kmschaos_scenario_verdict{backend="docker",scenario="evict a node",section="Process",verdict="PASS"} 0
kmschaos_scenario_verdict{backend="docker",scenario="evict a node",section="Process",verdict="FAIL"} 0
kmschaos_scenario_verdict{backend="docker",scenario="evict a node",section="Process",verdict="SKIP"} 1
kmschaos_scenario_verdict{backend="kubernetes",scenario="kill one party",section="Process",verdict="PASS"} 1
kmschaos_scenario_verdict{backend="kubernetes",scenario="kill one party",section="Process",verdict="FAIL"} 0
kmschaos_scenario_verdict{backend="kubernetes",scenario="kill one party",section="Process",verdict="SKIP"} 0
kmschaos_scenario_verdict{backend="kubernetes",scenario="refused client link",section="Connectivity Issues",verdict="PASS"} 1
kmschaos_scenario_verdict{backend="kubernetes",scenario="refused client link",section="Connectivity Issues",verdict="FAIL"} 0
kmschaos_scenario_verdict{backend="kubernetes",scenario="refused client link",section="Connectivity Issues",verdict="SKIP"} 0
kmschaos_scenario_verdict{backend="kubernetes",scenario="evict a node",section="Process",verdict="PASS"} 1
kmschaos_scenario_verdict{backend="kubernetes",scenario="evict a node",section="Process",verdict="FAIL"} 0
kmschaos_scenario_verdict{backend="kubernetes",scenario="evict a node",section="Process",verdict="SKIP"} 0
kmschaos_scenario_ttd_seconds{backend="docker",scenario="kill one party",section="Process"} 2
kmschaos_scenario_ttd_seconds{backend="docker",scenario="refused client link",section="Connectivity Issues"} 0.5
kmschaos_scenario_ttd_seconds{backend="kubernetes",scenario="kill one party",section="Process"} 2
kmschaos_scenario_ttd_seconds{backend="kubernetes",scenario="refused client link",section="Connectivity Issues"} 0.5
kmschaos_scenario_ttd_seconds{backend="kubernetes",scenario="evict a node",section="Process"} 1
kmschaos_scenario_ttr_seconds{backend="docker",scenario="kill one party",section="Process"} 12
kmschaos_scenario_ttr_seconds{backend="docker",scenario="refused client link",section="Connectivity Issues"} 4
kmschaos_scenario_ttr_seconds{backend="kubernetes",scenario="kill one party",section="Process"} 8
kmschaos_scenario_ttr_seconds{backend="kubernetes",scenario="refused client link",section="Connectivity Issues"} 4
kmschaos_scenario_ttr_seconds{backend="kubernetes",scenario="evict a node",section="Process"} 3
kmschaos_scenario_judged_runs{backend="docker",scenario="kill one party",section="Process"} 3
kmschaos_scenario_judged_runs{backend="docker",scenario="refused client link",section="Connectivity Issues"} 3
kmschaos_scenario_judged_runs{backend="docker",scenario="evict a node",section="Process"} 0
kmschaos_scenario_judged_runs{backend="kubernetes",scenario="kill one party",section="Process"} 1
kmschaos_scenario_judged_runs{backend="kubernetes",scenario="refused client link",section="Connectivity Issues"} 1
kmschaos_scenario_judged_runs{backend="kubernetes",scenario="evict a node",section="Process"} 1
kmschaos_scenario_pass_ratio{backend="docker",scenario="kill one party",section="Process"} 0.6666666666666666
kmschaos_scenario_pass_ratio{backend="docker",scenario="refused client link",section="Connectivity Issues"} 1
kmschaos_scenario_pass_ratio{backend="kubernetes",scenario="kill one party",section="Process"} 1
kmschaos_scenario_pass_ratio{backend="kubernetes",scenario="refused client link",section="Connectivity Issues"} 1
kmschaos_scenario_pass_ratio{backend="kubernetes",scenario="evict a node",section="Process"} 1
kmschaos_scenario_flake_ratio{backend="docker",scenario="kill one party",section="Process"} 1
kmschaos_scenario_flake_ratio{backend="docker",scenario="refused client link",section="Connectivity Issues"} 0
kmschaos_section_pass_ratio{backend="docker",section="Process"} 0.6666666666666666
kmschaos_section_pass_ratio{backend="docker",section="Connectivity Issues"} 1
kmschaos_section_pass_ratio{backend="kubernetes",section="Process"} 1
kmschaos_section_pass_ratio{backend="kubernetes",section="Connectivity Issues"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// --window and --label narrow what the rates are taken over.
func TestCollectorWindowAndFilter(t *testing.T) {
	s := recordedStore(t)
	// The last two Docker verdicts of kill one party: PASS, FAIL.
	c := New(s, Options{Window: 2, Filter: results.Filter{Backend: "docker"}})
	want := help + `kmschaos_scenario_pass_ratio{backend="docker",scenario="kill one party",section="Process"} 0.5
kmschaos_scenario_pass_ratio{backend="docker",scenario="refused client link",section="Connectivity Issues"} 1
kmschaos_scenario_flake_ratio{backend="docker",scenario="kill one party",section="Process"} 1
kmschaos_scenario_flake_ratio{backend="docker",scenario="refused client link",section="Connectivity Issues"} 0
kmschaos_runs_recorded{backend="docker"} 3
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "kmschaos_scenario_pass_ratio", "kmschaos_scenario_flake_ratio", "kmschaos_runs_recorded"); err != nil {
		t.Error(err)
	}
	// release=1.4.1: one Docker run, no flake rate from one verdict.
	c = New(s, Options{Filter: results.Filter{Labels: map[string]string{"release": "1.4.1"}}})
	want = help + `kmschaos_runs_recorded{backend="docker"} 1
kmschaos_scenario_pass_ratio{backend="docker",scenario="kill one party",section="Process"} 1
kmschaos_scenario_pass_ratio{backend="docker",scenario="refused client link",section="Connectivity Issues"} 1
kmschaos_last_run_start_timestamp_seconds{backend="docker"} 1796119200
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "kmschaos_scenario_pass_ratio", "kmschaos_scenario_flake_ratio", "kmschaos_runs_recorded", "kmschaos_last_run_start_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

// The flake rate is how often a verdict differs from the one before it:
// failing every time is broken, not flaky; skips do not count.
func TestRates(t *testing.T) {
	vs := func(s string) []results.Verdict {
		var out []results.Verdict
		for _, v := range strings.Fields(s) {
			out = append(out, results.Verdict{Verdict: v})
		}
		return out
	}
	for _, c := range []struct {
		verdicts string
		want     Tally
	}{
		{"PASS PASS PASS", Tally{Passed: 3, Judged: 3}},
		{"FAIL FAIL FAIL FAIL", Tally{Judged: 4}},
		{"PASS FAIL PASS FAIL", Tally{Passed: 2, Judged: 4, Flips: 3}},
		{"PASS SKIP PASS FAIL FAIL", Tally{Passed: 2, Judged: 4, Flips: 1}},
		{"SKIP SKIP", Tally{}},
	} {
		if got := Rates(vs(c.verdicts)); got != c.want {
			t.Errorf("Rates(%s) = %+v, want %+v", c.verdicts, got, c.want)
		}
	}
}

// failingSource fails while fail is set.
type failingSource struct {
	mu   sync.Mutex
	fail bool
}

func (f *failingSource) Latest(context.Context, results.Filter, int) ([]results.Latest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errors.New("results store db.example: connection refused")
	}
	return []results.Latest{{Backend: "docker"}}, nil
}

// A store failing at scrape time fails the scrape with 500 saying why,
// logged once however many scrapes fail, and once when it answers again.
func TestAFailingStoreFailsTheScrapeLoggedOnce(t *testing.T) {
	src := &failingSource{fail: true}
	var mu sync.Mutex
	var logged []string
	srv := httptest.NewServer(Handler(New(src, Options{Log: func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(format, a...))
	}})))
	defer srv.Close()
	scrape := func() (int, string) {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for range 3 {
		if code, body := scrape(); code != http.StatusInternalServerError || !strings.Contains(body, "connection refused") {
			t.Errorf("a failing store's scrape: %d %q; want 500 saying why", code, body)
		}
	}
	src.mu.Lock()
	src.fail = false
	src.mu.Unlock()
	if code, body := scrape(); code != http.StatusOK || !strings.Contains(body, `kmschaos_runs_recorded{backend="docker"} 0`) {
		t.Errorf("the store answering again: %d %q", code, body)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"the results store failed a scrape (logged once until it answers again): results store db.example: connection refused", "the results store answers again"}
	if strings.Join(logged, "\n") != strings.Join(want, "\n") {
		t.Errorf("logged %q; want %q", logged, want)
	}
}
