package signals

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

var t0 = time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func val(p *float64) string {
	if p == nil {
		return "never"
	}
	return strings.TrimSuffix(strings.TrimSuffix(report.Signal{Fired: p}.Cell(), " s"), "")
}

// A plain signal shows at its first bad reading after the injection; one
// before the injection is not the fault's, nor are the bad readings of a
// party already failing then (an earlier fault's restart warming up)
// until it has been well again.
func TestFirstBadCountsFromTheInjection(t *testing.T) {
	rs := []reading{
		{At: at(-2), Party: 4, Detail: "/ready answered 503 (before)"},
		{At: at(-1), Party: 9, Detail: "/ready answered 503 (warming up)"},
		{At: at(0.5), Party: 2, OK: true},
		{At: at(1), Party: 9, Detail: "/ready answered 503 (still warming up)"},
		{At: at(2), Party: 9, OK: true},
		{At: at(3.2), Party: 7, Detail: "no answer: connection refused"},
		{At: at(4), Party: 2, Detail: "later"},
	}
	s := firstBad("/ready", report.SourceEndpoint, rs, t0)
	if s.Fired == nil || *s.Fired != 3.2 || s.Detail != "party 7: no answer: connection refused" {
		t.Errorf("got fired %s, detail %q; want 3.2 s, party 7's refusal", val(s.Fired), s.Detail)
	}
	if s := firstBad("/ready", report.SourceEndpoint, append(slices.Clone(rs[:5]), reading{At: at(5), Party: 9, Detail: "refused"}), t0); val(s.Fired) != "5" {
		t.Errorf("party 9 well again at 2 s, failing at 5 s: got %s, want 5", val(s.Fired))
	}
	if s := firstBad("/live", report.SourceEndpoint, rs[2:3], t0); s.Showed() {
		t.Errorf("a party always well: got %s, want never", s.Cell())
	}
}

// every reads party's health every second over [from, to): bad where bad says.
func every(party int, from, to float64, bad func(float64) (ok bool, took time.Duration)) []reading {
	var out []reading
	for s := from; s < to; s++ {
		ok, took := bad(s)
		r := reading{At: at(s), Party: party, OK: ok, Took: took}
		if !ok {
			r.Detail = "gRPC health: connection refused"
		}
		out = append(out, r)
	}
	return out
}

// Kubelet's readiness probe (every 5 s, 30 failures) marks a party down
// for good from 3 s not ready at 5 + 29×5 = 150 s; its liveness probe
// (every 10 s, 10 failures) restarts it at 10 + 9×10 = 100 s. A party
// that comes back in between resets the count.
func TestKubeletProbesActAtTheirThreshold(t *testing.T) {
	down := every(5, -3, 200, func(s float64) (bool, time.Duration) { return s < 3, 2 * time.Millisecond })
	flapping := every(6, -3, 200, func(s float64) (bool, time.Duration) { return int(s)%60 == 0, 2 * time.Millisecond })
	rs := slices.Concat(down, flapping)
	r := readiness.evaluate(rs, t0, at(200), 13)
	if val(r.Pending) != "5" || val(r.Fired) != "150" || !strings.Contains(r.Detail, "party 5") {
		t.Errorf("readiness: pending %s, fired %s (%s); want 5, 150, party 5", val(r.Pending), val(r.Fired), r.Detail)
	}
	l := liveness.evaluate(rs, t0, at(200), 13)
	if val(l.Pending) != "10" || val(l.Fired) != "100" {
		t.Errorf("liveness: pending %s, fired %s; want 10, 100", val(l.Pending), val(l.Fired))
	}
	if got := liveness.evaluate(rs, t0, at(60), 13); got.Fired != nil || got.Cell() != "failing 10 s (acts after 10 failed probes 10s apart)" {
		t.Errorf("a window shorter than the threshold: %q, want failing without acting", got.Cell())
	}
	// A party failing before the injection (and never well since) is not
	// this fault's.
	if got := readiness.evaluate(every(8, -3, 200, func(float64) (bool, time.Duration) { return false, 0 }), t0, at(200), 13); got.Showed() {
		t.Errorf("a party down since before the fault: readiness %s, want nothing", got.Cell())
	}
	// Alone, the flapping party never reaches a threshold.
	if got := readiness.evaluate(flapping, t0, at(200), 13); got.Fired != nil {
		t.Errorf("a party answering once a minute: readiness fired at %s, want never (each success resets the count)", val(got.Fired))
	}
}

// A party answering SERVING in 2 s fails the readiness probe (timeout
// 1 s) and passes the liveness probe (timeout 5 s).
func TestAProbeJudgesTheTimeTheAnswerTook(t *testing.T) {
	slow := every(3, 0, 200, func(float64) (bool, time.Duration) { return true, 2 * time.Second })
	if r := readiness.evaluate(slow, t0, at(200), 13); r.Fired == nil || !strings.Contains(r.Detail, "past the probe's timeout of 1s") {
		t.Errorf("readiness of a 2 s answer: %s (%s), want not ready", r.Cell(), r.Detail)
	}
	if l := liveness.evaluate(slow, t0, at(200), 13); l.Showed() {
		t.Errorf("liveness of a 2 s answer: %s, want never", l.Cell())
	}
}

func series(labels string, from, to float64) Series {
	l := map[string]string{}
	for _, kv := range strings.Split(labels, ",") {
		k, v, _ := strings.Cut(kv, "=")
		l[k] = v
	}
	s := Series{Labels: l}
	for x := from; x <= to; x++ {
		s.Points = append(s.Points, Point{At: at(x), Value: "1"})
	}
	return s
}

// ALERTS over the window: the first pending and the first firing of
// each alert, from the injection; an instance already active at the
// injection is an earlier fault's, its firing included.
func TestAlertSignalsFromTheAlertsSeries(t *testing.T) {
	rules := []rule{{Alert: "KMSRateLimiterSaturated", For: "5m"}, {Alert: "KMSBackupError"}, {Alert: "KMSOperationErrorsIncreasing", For: "10m"}, {Alert: "KMSCPULoadAbove80Percent", For: "15m"}}
	got := alertSignals(rules, []Series{
		series("alertname=KMSRateLimiterSaturated,alertstate=pending,party=3", 4, 40),
		series("alertname=KMSRateLimiterSaturated,alertstate=pending,party=9", 2, 40),
		series("alertname=KMSBackupError,alertstate=firing,party=1,operation=boot", 7, 40),
		series("alertname=KMSOperationErrorsIncreasing,alertstate=pending,party=2", 0, 20),
		series("alertname=KMSOperationErrorsIncreasing,alertstate=firing,party=2", 21, 40),
	}, t0)
	want := []string{"pending 2 s (for: 5m)", "fires 7 s", "active before", "—"}
	for i, w := range want {
		if got[i].Cell() != w {
			t.Errorf("%s: %q, want %q", rules[i].Alert, got[i].Cell(), w)
		}
	}
	if got[0].Detail != "party 9" || got[1].Detail != "party 1 operation=boot" {
		t.Errorf("details %q, %q: want the first party's", got[0].Detail, got[1].Detail)
	}
	if got[2].Showed() || got[3].Showed() {
		t.Error("an alert active before the fault, or silent, is not credited")
	}
}

// Each shipped alert reads the metrics its expression names; those the
// party does not export make it not measured, saying who would.
func TestWhichShippedAlertsAParty(t *testing.T) {
	reads := map[string]string{}
	for _, r := range shippedRules() {
		reads[r.Alert] = strings.Join(metricsOf(r.Expr), " ")
	}
	want := map[string]string{
		"KMSPodCrashLooping":                "kube_pod_container_status_waiting_reason",
		"KMSPodMemoryAbove80PercentOfLimit": "container_memory_working_set_bytes kube_pod_container_resource_limits",
		"KMSStorageAbove85Percent":          "kubelet_volume_stats_used_bytes kubelet_volume_stats_capacity_bytes",
		"KMSOperationErrorsIncreasing":      "kms_operation_errors_total",
		"KMSBackupError":                    "kms_backup_errors_total",
		"KMSRateLimiterSaturated":           "kms_rate_limiter_usage",
		"KMSHostMemoryAbove85Percent":       "kms_memory_usage kms_total_memory",
		"KMSCPULoadAbove80Percent":          "kms_cpu_load",
		"KMSInsecureOperation":              "kms_operations_total",
	}
	for a, w := range want {
		if reads[a] != w {
			t.Errorf("%s reads %q, want %q", a, reads[a], w)
		}
	}
	if len(reads) != len(want) {
		t.Errorf("%d shipped alerts, want %d", len(reads), len(want))
	}
	for _, r := range shippedRules() {
		why := unmeasurable(r)
		switch r.Alert {
		case "KMSPodCrashLooping":
			if !strings.Contains(why, "kube-state-metrics exports") {
				t.Errorf("%s: %q, want kube-state-metrics named", r.Alert, why)
			}
		case "KMSRateLimiterSaturated", "KMSOperationErrorsIncreasing", "KMSInsecureOperation":
			if why != "" {
				t.Errorf("%s reads the party's own metrics: %q, want measured", r.Alert, why)
			}
		}
	}
}

// The gRPC probes are judged only where the harness reaches the parties'
// own addresses: one party answering once is enough, none is blindness.
func TestUnansweredProbesAreNotMeasured(t *testing.T) {
	refused := reading{Party: 1, Detail: "gRPC health: connection refused"}
	if got := unanswered([]reading{refused, {Party: 2, OK: true}, refused}); got != "" {
		t.Errorf("one party answered: %q, want measured", got)
	}
	if got := unanswered([]reading{refused, refused}); !strings.Contains(got, "no party's own gRPC address ever answered the harness (gRPC health: connection refused)") {
		t.Errorf("none answered: %q, want not measured, saying why", got)
	}
}
