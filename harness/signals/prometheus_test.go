package signals

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/internal/promtest"
)

// A real Prometheus, started as a suite cluster's is, scrapes a fake
// party whose kms_backup_errors_total appears (the real counter's first
// error) and whose rate limiter is full: KMSBackupError fires at once (it
// has no for:) and KMSRateLimiterSaturated stays pending through its
// for: 5m, each recorded from the fault's start; the Kubernetes alerts
// are not measured, and a silent one is silent.
func TestARealPrometheusRecordsTheAlertsOfAFault(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server: not in -short")
	}
	promtest.Tool(t, "prometheus")
	var broken atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		usage := 120
		fmt.Fprintln(w, "# TYPE kms_rate_limiter_usage gauge")
		if broken.Load() {
			usage = 50000
			fmt.Fprintln(w, "# TYPE kms_backup_errors_total counter")
			fmt.Fprintln(w, `kms_backup_errors_total{operation="keygen",error="io"} 1`)
		}
		fmt.Fprintf(w, "kms_rate_limiter_usage %d\n", usage)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	p, err := StartPrometheus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	if err := p.SetTargets([]Target{{Addr: srv.Listener.Addr().String(), Labels: map[string]string{"party": "3"}}}); err != nil {
		t.Fatal(err)
	}
	await(t, p, `count_over_time(up{party="3"}[1m]) >= 2`) // clean samples before the fault
	origin := time.Now()
	broken.Store(true)
	await(t, p, `ALERTS{alertname="KMSBackupError",alertstate="firing"}`)
	await(t, p, `ALERTS{alertname="KMSRateLimiterSaturated",alertstate="pending"}`)
	seen := time.Since(origin).Seconds()
	// The fake party exports kms_backup_errors_total, as the real one
	// does (observability/src/metrics.rs), whether ours does yet or not.
	if !partyMetrics()["kms_backup_errors_total"] {
		partyMetrics()["kms_backup_errors_total"] = true
		t.Cleanup(func() { delete(partyMetrics(), "kms_backup_errors_total") })
	}
	got := map[string]report.Signal{}
	for _, s := range alertsOver(ctx, Alerts{Prometheus: p}, origin, time.Now()) {
		got[s.Name] = s
	}
	b := got["KMSBackupError"]
	if b.Fired == nil || *b.Fired <= 0 || *b.Fired > seen+1 || b.Pending != nil || b.Detail != "party 3 operation=keygen error=io" {
		t.Errorf("KMSBackupError: %s (%s), pending %v; want firing within the %.1f s it took to see it, never pending, party 3's", b.Cell(), b.Detail, b.Pending, seen)
	}
	r := got["KMSRateLimiterSaturated"]
	if r.Pending == nil || *r.Pending <= 0 || *r.Pending > seen+1 || r.Fired != nil || r.Needs != "for: 5m" {
		t.Errorf("KMSRateLimiterSaturated: %s; want pending within %.1f s, not firing (for: 5m)", r.Cell(), seen)
	}
	if c := got["KMSPodCrashLooping"]; !strings.Contains(c.NotMeasured, "kube-state-metrics") {
		t.Errorf("KMSPodCrashLooping: %q, want not measured (kube-state-metrics)", c.Cell())
	}
	if o := got["KMSOperationErrorsIncreasing"]; o.Cell() != "—" {
		t.Errorf("KMSOperationErrorsIncreasing with no error: %q, want silent", o.Cell())
	}
	if n := len(got); n != len(shippedRules()) {
		t.Errorf("%d signals, want one per shipped alert (%d)", n, len(shippedRules()))
	}
}

// Without a Prometheus every alert is not measured, never silent.
func TestNoPrometheusIsNotMeasured(t *testing.T) {
	for _, s := range alertsOver(context.Background(), Alerts{Missing: "no prometheus"}, t0, at(30)) {
		if s.NotMeasured == "" || s.Cell() != "not measured" {
			t.Errorf("%s without Prometheus: %q, want not measured", s.Name, s.Cell())
		}
	}
}

// await polls Prometheus until expr has a series.
func await(t *testing.T, p *Prometheus, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := p.Query(context.Background(), expr, time.Now())
		if err == nil && len(got) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus: no series for %s within 30 s (last error %v)", expr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
