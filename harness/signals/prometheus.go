package signals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/alerts"
)

// ErrNoPrometheus is StartPrometheus's error where Debian's prometheus is not
// installed: the alerts are then "not measured", never "silent".
var ErrNoPrometheus = errors.New("no prometheus on PATH (apt-get install prometheus; KMSCHAOS_SETUP_PROMETHEUS=1 make setup installs it)")

// Required is whether a missing Prometheus fails the run
// (KMSCHAOS_REQUIRE_PROMETHEUS=1, as make test sets it).
func Required() bool { return os.Getenv("KMSCHAOS_REQUIRE_PROMETHEUS") == "1" }

// Prometheus is a real Prometheus the harness runs for one cluster:
// scraping every target each second and evaluating the shipped alerts
// (harness/alerts) each second, its configuration and TSDB in a folder of
// its own (kmschaos-prometheus-*, swept with the harness's folders), on a
// free loopback port. It dies with the process that started it.
type Prometheus struct {
	URL    string // its HTTP API, http://127.0.0.1:port
	dir    *cluster.OwnedDir
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
}

// config scrapes the targets of targets.json (file_sd: written once the
// cluster's links are known, read again by Prometheus when it changes) and
// evaluates the rules every second.
const config = `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [kms.rules.yml]
scrape_configs:
  - job_name: kms-core
    file_sd_configs:
      - files: [targets.json]
`

// StartPrometheus starts Prometheus with the shipped rules and no target yet, and
// waits until it answers as ready.
func StartPrometheus(ctx context.Context) (*Prometheus, error) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		return nil, ErrNoPrometheus
	}
	dir, err := cluster.MkdirOwned("kmschaos-prometheus-*")
	if err != nil {
		return nil, err
	}
	p := &Prometheus{dir: dir, exited: make(chan struct{})}
	if err := p.start(ctx, bin); err != nil {
		return nil, errors.Join(err, p.Stop())
	}
	return p, nil
}

func (p *Prometheus) start(ctx context.Context, bin string) error {
	d := p.dir.Path
	for name, b := range map[string][]byte{"prometheus.yml": []byte(config), "kms.rules.yml": alerts.Rules, "targets.json": []byte("[]")} {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o600); err != nil {
			return err
		}
	}
	addr, err := freePort()
	if err != nil {
		return err
	}
	if p.log, err = os.Create(filepath.Join(d, "prometheus.log")); err != nil {
		return err
	}
	p.URL = "http://" + addr
	p.cmd = exec.Command(bin, "--config.file="+filepath.Join(d, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(d, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	// Killed with the harness however it ends: a Prometheus never
	// outlives the run that started it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return err
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	ctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Signals.PrometheusReady)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("prometheus exited at start: %s", p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("prometheus not ready within %s: %s", fixtures.Intervals.Signals.PrometheusReady, p.logTail())
		case <-time.After(fixtures.Intervals.Probe.AwaitPoll):
		}
	}
}

// freePort is a loopback address no one listens on now (never 9090,
// which another Prometheus may hold).
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (p *Prometheus) logTail() string {
	b, _ := os.ReadFile(filepath.Join(p.dir.Path, "prometheus.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Target is one scrape target: host:port, and labels its series carry.
type Target struct {
	Addr   string
	Labels map[string]string
}

// SetTargets replaces the targets (file_sd: written whole, then renamed,
// so Prometheus never reads half a file).
func (p *Prometheus) SetTargets(ts []Target) error {
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels,omitempty"`
	}
	gs := make([]group, len(ts))
	for i, t := range ts {
		gs[i] = group{Targets: []string{t.Addr}, Labels: t.Labels}
	}
	b, err := json.Marshal(gs)
	if err != nil {
		return err
	}
	tmp := filepath.Join(p.dir.Path, "targets.json.new")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(p.dir.Path, "targets.json"))
}

// ClusterTargets are the parties' /metrics through their mesh links,
// each labelled with its party number.
func ClusterTargets(c *cluster.Cluster) []Target {
	ts := make([]Target, c.Topology.N)
	for i := range ts {
		u, _ := url.Parse(c.Party(i + 1).MetricsURL())
		ts[i] = Target{Addr: u.Host, Labels: map[string]string{"party": strconv.Itoa(i + 1)}}
	}
	return ts
}

// Stop kills Prometheus and removes its folder; it may be called on a
// half-started one.
func (p *Prometheus) Stop() error {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	if p.log != nil {
		p.log.Close()
	}
	return p.dir.Remove()
}

// Series is one series of a range query: its labels and its points.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Point is one value of a series at a time.
type Point struct {
	At    time.Time
	Value string
}

// QueryRange asks for expr over [from, to], a point every step.
func (p *Prometheus) QueryRange(ctx context.Context, expr string, from, to time.Time, step time.Duration) ([]Series, error) {
	q := url.Values{"query": {expr}, "start": {unix(from)}, "end": {unix(to)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query_range?"+q.Encode(), &data); err != nil {
		return nil, err
	}
	out := make([]Series, len(data.Result))
	for i, r := range data.Result {
		out[i].Labels = r.Metric
		for _, v := range r.Values {
			sec, _ := v[0].(float64)
			val, _ := v[1].(string)
			out[i].Points = append(out[i].Points, Point{At: time.UnixMilli(int64(sec * 1000)), Value: val})
		}
	}
	return out, nil
}

// Query asks for expr at a time; each series has one point.
func (p *Prometheus) Query(ctx context.Context, expr string, at time.Time) ([]Series, error) {
	q := url.Values{"query": {expr}, "time": {unix(at)}}
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query?"+q.Encode(), &data); err != nil {
		return nil, err
	}
	out := make([]Series, len(data.Result))
	for i, r := range data.Result {
		sec, _ := r.Value[0].(float64)
		val, _ := r.Value[1].(string)
		out[i] = Series{Labels: r.Metric, Points: []Point{{At: time.UnixMilli(int64(sec * 1000)), Value: val}}}
	}
	return out, nil
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

// get reads one answer of the HTTP API into data.
func (p *Prometheus) get(ctx context.Context, path string, data any) error {
	ctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Signals.Query)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var answer struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return fmt.Errorf("prometheus %s: %w", path, err)
	}
	if answer.Status != "success" {
		return fmt.Errorf("prometheus %s: %s", path, answer.Error)
	}
	return json.Unmarshal(answer.Data, data)
}
