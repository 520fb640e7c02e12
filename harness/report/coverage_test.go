package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// coverageRun is a run of four scenarios: one an alert fires for, one it
// leaves pending, one no alert sees (the grade and /ready do), and one
// run without a Prometheus; plus a scenario without a fault.
func coverageRun() *Run {
	notK8s := "reads kube_pod_container_status_waiting_reason, which kube-state-metrics exports; this run's Prometheus scrapes only the parties' /metrics"
	row := func(name string, window float64, sigs ...Signal) Scenario {
		return Scenario{Name: name, Section: "Process", Passed: true, Coverage: &Coverage{Window: window, Signals: sigs}}
	}
	crash := Signal{Name: "KMSPodCrashLooping", Source: SourceAlert, NotMeasured: notK8s}
	return &Run{N: 13, T: 4, Seed: 7, Backend: "docker", Machine: "2 CPUs", Started: time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC), Scenarios: []Scenario{
		row("backup vault unwritable", 40.2,
			Signal{Name: "KMSBackupError", Source: SourceAlert, Fired: Secs(3), Needs: "no for:, fires at once"},
			Signal{Name: "KMSRateLimiterSaturated", Source: SourceAlert, Needs: "for: 5m"}, crash,
			Signal{Name: "kms-health-check grade", Source: SourceTool},
			Signal{Name: ProbeLiveness, Source: SourceKubelet, Needs: "10 failed probes 10s apart"}),
		row("rate limiter burst", 25,
			Signal{Name: "KMSBackupError", Source: SourceAlert},
			Signal{Name: "KMSRateLimiterSaturated", Source: SourceAlert, Pending: Secs(2.04), Needs: "for: 5m"}, crash,
			Signal{Name: "kms-health-check grade", Source: SourceTool},
			Signal{Name: ProbeLiveness, Source: SourceKubelet, Pending: Secs(10), Needs: "10 failed probes 10s apart"}),
		row("kill t parties", 31.6,
			Signal{Name: "KMSBackupError", Source: SourceAlert},
			Signal{Name: "KMSRateLimiterSaturated", Source: SourceAlert, Before: true, Needs: "for: 5m"}, crash,
			Signal{Name: "kms-health-check grade", Source: SourceTool, Fired: Secs(1.2), Detail: "party 3: running, Healthy"},
			Signal{Name: ProbeLiveness, Source: SourceKubelet, Pending: Secs(10), Fired: Secs(100), Needs: "10 failed probes 10s apart"}),
		row("crash loop", 50,
			Signal{Name: "KMSBackupError", Source: SourceAlert, NotMeasured: "no prometheus"},
			Signal{Name: "kms-health-check grade", Source: SourceTool, Fired: Secs(4)}),
		{Name: "steady state", Section: "Process", Passed: true},
		// Skipped on this backend (a verb it lacks): sampled until the
		// skip, no alert, and yet no finding and no row.
		{Name: "helm init job", Section: "Process", Skipped: "running helm is not supported on the docker backend",
			Coverage: &Coverage{Window: 30, Signals: []Signal{{Name: "KMSBackupError", Source: SourceAlert}}}},
	}}
}

// The matrix has a row per scenario with a fault and a column per
// signal; the faults no alert catches are those measured with no alert
// pending or firing (an alert left active by an earlier fault does not
// count); a run without Prometheus is "not measured", never "uncaught".
func TestCoverageMatrixAndTheFaultsNoAlertCatches(t *testing.T) {
	r := coverageRun()
	uncaught, notMeasured := r.Uncaught()
	var names []string
	for _, f := range uncaught {
		names = append(names, f.Where)
	}
	if strings.Join(names, "|") != "kill t parties" {
		t.Errorf("uncaught: %q, want only kill t parties", names)
	}
	if strings.Join(notMeasured, "|") != "crash loop" {
		t.Errorf("not measured: %q, want crash loop", notMeasured)
	}
	for _, f := range uncaught {
		if !strings.Contains(f.Text, "in the 32 s from the fault to the end of its recovery (2 of the 3 alerts evaluated; the others not measured on docker)") ||
			!strings.Contains(f.Text, "what showed it: kms-health-check grade 1.2 s, liveness probe restart at 100 s") {
			t.Errorf("the finding: %q, want its window and what did show it", f.Text)
		}
	}

	md := r.CoverageMarkdown()
	for _, want := range []string{
		"| scenario | KMSBackupError | KMSRateLimiterSaturated | KMSPodCrashLooping | kms-health-check grade | liveness probe |",
		"| backup vault unwritable (40 s) | fires 3 s | — | not measured | — | — |",
		"| rate limiter burst (25 s) | — | pending 2 s (for: 5m) | not measured | — | failing 10 s (acts after 10 failed probes 10s apart) |",
		"| kill t parties (32 s) | — | active before | not measured | 1.2 s | restart at 100 s |",
		"| crash loop (50 s) | not measured | not measured | not measured | 4 s | not measured |",
		"* KMSPodCrashLooping: reads kube_pod_container_status_waiting_reason, which kube-state-metrics exports",
		"Faults no shipped alert catches, not even pending (1 of 4):",
		"* *kill t parties*: no alert of the operations pages",
		"Alerts not measured (no prometheus) in: crash loop",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("coverage markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "steady state") {
		t.Error("a scenario without a fault has no row")
	}
	if strings.Contains(md, "helm init job") {
		t.Error("a scenario skipped on the backend has a row or a finding")
	}

	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Detection coverage (seconds from the injection",
		"- rate limiter burst (window 25 s): KMSBackupError: —; KMSRateLimiterSaturated: pending 2 s (for: 5m);",
		"Faults no shipped alert catches (not even pending):\n- kill t parties: no alert",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text scorecard lacks %q:\n%s", want, text.String())
		}
	}

	path := filepath.Join(t.TempDir(), "index.html")
	if err := r.WriteHTML(path); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<h2>Detection coverage <span class="n">(4 faults × 5 signals)</span></h2>`,
		`<td title="party 3: running, Healthy"><b>1.2 s</b></td>`,
		`<li><b>kill t parties</b>: no alert of the operations pages`,
		`Alerts not measured (no prometheus) in: crash loop`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
}

// The generated text replaces what is between the markers, and only that.
func TestReplaceCoverage(t *testing.T) {
	doc := []byte("# Coverage\n\nintro\n\n" + CoverageBegin + "\nold\n" + CoverageEnd + "\n\nafter\n")
	out, err := ReplaceCoverage(doc, coverageRun().CoverageSummary())
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.HasPrefix(s, "# Coverage\n\nintro\n\n"+CoverageBegin) || !strings.HasSuffix(s, CoverageEnd+"\n\nafter\n") || strings.Contains(s, "old") ||
		!strings.Contains(s, "in 1 of the 4 with a fault, no alert of the operations pages") ||
		!strings.Contains(s, "\n* kill t parties — 32 s, 2 of 3 alerts; first shown by kms-health-check grade 1.2 s\n") {
		t.Errorf("replaced:\n%s", s)
	}
	if _, err := ReplaceCoverage([]byte("no markers"), "x"); err == nil {
		t.Error("a document without markers: want an error")
	}
}

// The README's line names the signal that showed the fault first, not
// the first the scenario lists; one that did not show it is never named.
func TestEarliestIsTheFirstInTime(t *testing.T) {
	c := Coverage{Signals: []Signal{
		{Name: "KMSBackupError", Source: SourceAlert},
		{Name: "kms-health-check grade", Source: SourceTool, Fired: Secs(2.7)},
		{Name: "/health", Source: SourceEndpoint, Fired: Secs(0.9)},
		{Name: "readiness probe", Source: SourceKubelet, Pending: Secs(0.5), NotMeasured: "not on docker"},
	}}
	if s, ok := c.earliest(); !ok || s.Name != "/health" {
		t.Errorf("earliest = %q, %v; want /health (0.9 s)", s.Name, ok)
	}
	if _, ok := (&Coverage{Signals: c.Signals[:1]}).earliest(); ok {
		t.Error("no signal showed the fault: want none")
	}
}
