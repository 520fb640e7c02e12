package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kmschaos/kmschaos/kms/metrics"
	"github.com/kmschaos/kmschaos/kms/release"
)

// warmUp is how long /ready answers "warming up" after the process
// started: the real party's readiness is its uptime past 10 s, nothing
// else (observability/src/telemetry.rs, readiness_handler).
const warmUp = 10 * time.Second

// endpoints serves the metrics port as the real party's telemetry server
// does (observability/src/telemetry.rs): /metrics; /health "ok" and /live
// "alive", always; /version the release's version; /ready "ready" once the process has run warmUp, 503
// "warming up" before. None of them looks at keys, PRSS or peers — an
// operator learns those from the health check, the logs and the metrics,
// and a simulated party must not tell more than the real one.
func endpoints(m *metrics.Metrics, uptime func() time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Gatherer(), promhttp.HandlerOpts{}))
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/live", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "alive") })
	mux.HandleFunc("/version", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, release.Version()) })
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if uptime() > warmUp {
			fmt.Fprint(w, "ready")
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "warming up")
	})
	return mux
}

// uptimeSince is the time since start, the process's start.
func uptimeSince(start time.Time) func() time.Duration {
	return func() time.Duration { return time.Since(start) }
}
