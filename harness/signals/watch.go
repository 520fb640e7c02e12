// Package signals records, during a scenario, which of an operator's
// signals showed its fault and when: the shipped alerts (harness/alerts)
// as a real Prometheus evaluates them, kms-health-check's grade (the
// timeline's monitor hands its samples over), the container engine's
// state, the parties' /health, /live and /ready, and the chart's gRPC
// probes evaluated as kubelet would. A signal this run cannot measure is
// recorded as not measured, with why: never as silent.
package signals

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/report"
	kmsclient "github.com/kmschaos/kmschaos/kms/client"
)

// Alerts is where a run's alerts are read: a Prometheus, or why there
// is none.
type Alerts struct {
	Prometheus *Prometheus
	Missing    string // why there is no Prometheus ("no prometheus")
}

// Watch samples a cluster's signals from its start to Stop.
type Watch struct {
	c      *cluster.Cluster
	alerts Alerts
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu      sync.Mutex
	origin  time.Time
	sampled map[string][]reading // by path, and the gRPC health's under grpcKey
	grade   []reading
	engine  []reading
	noMesh  bool // the cluster has no links to sample the endpoints through
}

// The parties' HTTP endpoints (kms/server endpoints.go, as the real
// observability/src/telemetry.rs serves them).
var paths = []string{"/health", "/live", "/ready"}

// Begin starts sampling c's endpoints and gRPC health once a second, each
// party on its own, every call bounded, so that a party that hangs slows
// only its own samples. It returns once every endpoint has been read
// once (a few milliseconds; a call is bounded by HTTPCall): the state
// the fault finds, which an earlier fault's restart may have left
// warming up, is known.
func Begin(c *cluster.Cluster, a Alerts) *Watch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watch{c: c, alerts: a, cancel: cancel, sampled: map[string][]reading{}}
	var first sync.WaitGroup
	for i := 1; i <= c.Topology.N; i++ {
		if !c.Party(i).HasHTTP() {
			w.noMesh = true
			continue
		}
		for _, p := range paths {
			first.Add(1)
			w.loop(ctx, &first, func(ctx context.Context) {
				if r := w.getHTTP(ctx, i, p); ctx.Err() == nil { // not a call Stop cut short
					w.add(p, r)
				}
			})
		}
		var g grpcTarget
		w.loop(ctx, nil, func(ctx context.Context) {
			if r := g.check(ctx, w.c, i); ctx.Err() == nil {
				w.add(grpcKey, r)
			}
		})
	}
	first.Wait()
	return w
}

// loop runs sample every Poll until ctx ends; first, if not nil, is told
// when the first sample is taken.
func (w *Watch) loop(ctx context.Context, first *sync.WaitGroup, sample func(context.Context)) {
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		t := time.NewTicker(fixtures.Intervals.Signals.Poll)
		defer t.Stop()
		for {
			sample(ctx)
			if first != nil {
				first.Done()
				first = nil
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// grpcKey holds the gRPC health checks among the samples.
const grpcKey = "grpc"

func (w *Watch) add(key string, r reading) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sampled[key] = append(w.sampled[key], r)
}

// getHTTP is one GET of a party's endpoint through its mesh link, the
// way a scraper or an HTTP probe reaches it.
func (w *Watch) getHTTP(ctx context.Context, i int, path string) reading {
	ctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Signals.HTTPCall)
	defer cancel()
	r := reading{At: time.Now(), Party: i}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.c.Party(i).HTTPURL(path), nil)
	resp, err := http.DefaultClient.Do(req)
	r.Took = time.Since(r.At)
	switch {
	case err != nil:
		r.Detail = "no answer: " + err.Error()
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		r.Detail = path + " answered " + resp.Status
	default:
		resp.Body.Close()
		r.OK = true
	}
	return r
}

// grpcTarget is a party's own address for the gRPC probes, looked up
// again after a failed check (a restarted container may have another).
type grpcTarget struct{ addr string }

// check is one grpc.health.v1 Check with no service name, as a kubelet's
// gRPC probe asks it, on a fresh connection to the party's own address (a
// kubelet reaches the pod, not the client link's proxy). It waits up to
// the liveness probe's timeout, the longest; the readiness probe judges
// the time it took.
func (g *grpcTarget) check(ctx context.Context, c *cluster.Cluster, i int) (r reading) {
	r = reading{At: time.Now(), Party: i}
	defer func() {
		if !r.OK {
			g.addr = ""
		}
	}()
	if g.addr == "" {
		addr, err := c.Party(i).DirectEndpoint(ctx)
		if err != nil { // a container stopped has no address
			r.Detail = "no address: " + err.Error()
			return r
		}
		g.addr = addr
	}
	ctx, cancel := context.WithTimeout(ctx, liveness.Timeout)
	defer cancel()
	cl, err := kmsclient.Dial(g.addr)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	defer cl.Close()
	resp, err := grpc_health_v1.NewHealthClient(cl.Conn()).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	r.Took = time.Since(r.At)
	switch {
	case err != nil:
		r.Detail = "gRPC health: " + err.Error()
	case resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING:
		r.Detail = "gRPC health: " + resp.GetStatus().String()
	default:
		r.OK = true
	}
	return r
}

// Injected sets the time the signals are measured from: the start of
// the injection, as time-to-detect is.
func (w *Watch) Injected(at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.origin = at
}

// Party takes one of the timeline monitor's samples of party i: whether
// its container runs, and whether kms-health-check grades it Optimal.
func (w *Watch) Party(at time.Time, i int, running bool, state string, optimal bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.engine = append(w.engine, reading{At: at, Party: i, OK: running, Detail: state})
	w.grade = append(w.grade, reading{At: at, Party: i, OK: running && optimal, Detail: state})
}

// Stop ends the sampling at the end of the recovery and says what each
// signal showed since the injection; nil if nothing was injected. It
// may be called more than once: the first call's answer stays.
func (w *Watch) Stop(ctx context.Context) *report.Coverage {
	w.cancel()
	w.done.Wait()
	end := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.origin.IsZero() {
		return nil
	}
	cov := &report.Coverage{Window: end.Sub(w.origin).Seconds()}
	cov.Signals = append(cov.Signals, alertsOver(ctx, w.alerts, w.origin, end)...)
	cov.Signals = append(cov.Signals,
		firstBad("kms-health-check grade", report.SourceTool, w.grade, w.origin),
		firstBad("container not running", report.SourceEngine, w.engine, w.origin))
	const noMesh = "the cluster has no mesh links to reach the parties through"
	for _, p := range paths {
		s := firstBad(p, report.SourceEndpoint, w.sampled[p], w.origin)
		if w.noMesh {
			s = report.Signal{Name: p, Source: report.SourceEndpoint, NotMeasured: noMesh}
		}
		cov.Signals = append(cov.Signals, s)
	}
	unreachable := unanswered(w.sampled[grpcKey])
	for _, p := range []kubeletProbe{readiness, liveness} {
		s := p.evaluate(w.sampled[grpcKey], w.origin, end, w.c.Topology.N)
		switch {
		case w.noMesh:
			s = report.Signal{Name: p.Name, Source: report.SourceKubelet, NotMeasured: noMesh}
		case unreachable != "":
			s = report.Signal{Name: p.Name, Source: report.SourceKubelet, NotMeasured: unreachable}
		}
		cov.Signals = append(cov.Signals, s)
	}
	w.origin = time.Time{}
	return cov
}

// unanswered says why the gRPC probes cannot be judged when no party's
// own address ever answered the harness (pods a host cannot route to):
// every check failing is the harness's blindness, not the fault.
func unanswered(rs []reading) string {
	for _, r := range rs {
		if r.OK {
			return ""
		}
	}
	if len(rs) == 0 {
		return "no gRPC health check was made"
	}
	return "no party's own gRPC address ever answered the harness (" + rs[0].Detail + ")"
}

// alertsOver reads the ALERTS series over [origin, end]: one signal per
// shipped alert.
func alertsOver(ctx context.Context, a Alerts, origin, end time.Time) []report.Signal {
	rules := shippedRules()
	var series []Series
	missing := a.Missing
	if a.Prometheus != nil {
		var err error
		// A point a second: the last one past end, so that what was
		// evaluated in the window's last second is read.
		series, err = a.Prometheus.QueryRange(ctx, "ALERTS", origin, end.Add(time.Second), time.Second)
		if err != nil {
			missing = fmt.Sprintf("querying the alerts: %v", err)
		}
	} else if missing == "" {
		missing = "no prometheus"
	}
	out := alertSignals(rules, series, origin)
	for i, r := range rules {
		if why := unmeasurable(r); why != "" {
			out[i] = report.Signal{Name: r.Alert, Source: report.SourceAlert, NotMeasured: why}
		} else if missing != "" {
			out[i] = report.Signal{Name: r.Alert, Source: report.SourceAlert, NotMeasured: missing}
		}
	}
	return out
}
