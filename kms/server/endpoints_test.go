package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/kms/metrics"
	"github.com/kmschaos/kmschaos/kms/release"
)

// The metrics port answers as the real party's telemetry server: /health
// and /live always, /ready on uptime alone — a party whatever its state
// (no PRSS, no key, no peer) is "ready" 10 s after it started.
func TestEndpointsTellNoMoreThanTheRealParty(t *testing.T) {
	up := time.Duration(0)
	srv := httptest.NewServer(endpoints(metrics.New(1), func() time.Duration { return up }))
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, c := range []struct {
		up   time.Duration
		path string
		code int
		body string
	}{
		{time.Second, "/health", 200, "ok"},
		{time.Second, "/live", 200, "alive"},
		{time.Second, "/ready", 503, "warming up"},
		{10 * time.Second, "/ready", 503, "warming up"},
		{11 * time.Second, "/ready", 200, "ready"},
		{time.Hour, "/health", 200, "ok"},
		{time.Second, "/version", 200, release.Baseline},
	} {
		up = c.up
		if code, body := get(c.path); code != c.code || body != c.body {
			t.Errorf("%s after %s: %d %q, want %d %q", c.path, c.up, code, body, c.code, c.body)
		}
	}
}
