package resultmetrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/signals"
	"github.com/kmschaos/kmschaos/internal/promtest"
)

// startPrometheus runs a real Prometheus scraping target every second,
// as the suite runs one for each cluster (harness/signals); it is killed
// and its folder removed when the test ends. It returns its API's base
// URL.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	promtest.Tool(t, "prometheus")
	p, err := signals.StartPrometheus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	if err := p.SetTargets([]signals.Target{{Addr: target}}); err != nil {
		t.Fatal(err)
	}
	return p.URL
}

// sample is one series of a query's answer.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query asks Prometheus's HTTP API for expr now.
func query(ctx context.Context, api, expr string) (status string, result []sample, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/api/v1/query?query="+url.QueryEscape(expr), nil)
	if err != nil {
		return "", nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	var answer struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return "", nil, err
	}
	if answer.Status != "success" {
		return answer.Status, nil, fmt.Errorf("%s", answer.Error)
	}
	return answer.Status, answer.Data.Result, nil
}

// await polls Prometheus until expr has one series of value want; on
// failure it says the last answer it had.
func await(t *testing.T, api, expr, want string) {
	t.Helper()
	deadline := time.After(time.Minute)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, result, err := query(ctx, api, expr)
		cancel()
		switch {
		case err != nil:
			last = err.Error()
		case len(result) == 1 && result[0].Value[1] == want:
			return
		default:
			last = fmt.Sprintf("%+v", result)
		}
		select {
		case <-deadline:
			t.Fatalf("Prometheus's %s: want one series of value %s within a minute; the last answer: %s", expr, want, last)
		case <-tick.C:
		}
	}
}

// A real Prometheus scrapes the store's metrics, and every panel of the
// Grafana dashboard is a query it accepts and answers with data.
func TestARealPrometheusScrapesTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server: not in -short")
	}
	store := recordedStore(t)
	// One more Kubernetes run, where kill one party fails: a scenario
	// failing now, for the dashboard's "Failing now".
	if _, err := store.Record(context.Background(), run("kubernetes", t0.Add(3*time.Hour), false, 0), resultsMeta("1.4.2")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(New(store, Options{})))
	t.Cleanup(srv.Close)
	api := startPrometheus(t, srv.Listener.Addr().String())

	await(t, api, `kmschaos_scenario_pass_ratio{backend="docker",scenario="kill one party",section="Process"}`, "0.6666666666666666")
	await(t, api, `kmschaos_scenario_flake_ratio{backend="kubernetes",scenario="kill one party"}`, "1")
	await(t, api, `kmschaos_scenario_verdict{backend="kubernetes",scenario="kill one party",verdict="FAIL"}`, "1")
	await(t, api, `kmschaos_last_run_start_timestamp_seconds{backend="docker"}`, "1796126400")
	await(t, api, `kmschaos_runs_recorded{backend="kubernetes"}`, "2")

	exprs, _ := dashboardQueries(t)
	vars := strings.NewReplacer(`$backend`, `.*`, `$section`, `.*`)
	for _, e := range exprs {
		status, result, err := query(context.Background(), api, vars.Replace(e))
		if err != nil || status != "success" || len(result) == 0 {
			t.Errorf("dashboard expr %q: Prometheus answers %s, %d series, %v; want success with data", e, status, len(result), err)
		}
	}
}
