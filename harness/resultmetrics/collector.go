// Package resultmetrics exports the results store to Prometheus: a
// collector that reads the store at each scrape — each scenario's last
// verdict, TTD and TTR, its pass and flake rates over its last verdicts,
// each section's pass rate, the newest run — and the http.Handler that
// serves it as /metrics ('kmschaos serve').
package resultmetrics

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/results"
)

// Source is what the collector reads: a *results.Store.
type Source interface {
	Latest(ctx context.Context, f results.Filter, window int) ([]results.Latest, error)
}

// DefaultWindow is how many of a scenario's last verdicts its pass and
// flake rates are taken over.
const DefaultWindow = 10

// Options of a collector.
type Options struct {
	Filter  results.Filter // only the runs it selects (labels, backend, section …)
	Window  int            // verdicts per scenario for the rates; DefaultWindow if 0
	Timeout time.Duration  // a scrape's reading of the store at most; fixtures' metrics.scrape if 0
	// Log is told once when the store starts failing, and once when it
	// answers again: not at every scrape. nil says nothing.
	Log func(format string, a ...any)
}

// Collector is a prometheus.Collector over the results store, read at
// scrape time.
type Collector struct {
	src Source
	o   Options

	mu      sync.Mutex
	failing bool // the last scrape's reading failed (logged once)
}

// New is a collector over src.
func New(src Source, o Options) *Collector {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Timeout <= 0 {
		o.Timeout = fixtures.Intervals.Metrics.Scrape
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	return &Collector{src: src, o: o}
}

var (
	scenarioLabels = []string{"scenario", "section", "backend"}

	runsRecorded = newDesc("kmschaos_runs_recorded",
		"Runs recorded in the results store (matching the serve's label filter), per backend.", []string{"backend"})
	lastRunStart = newDesc("kmschaos_last_run_start_timestamp_seconds",
		"When the newest recorded run started, in Unix seconds.", []string{"backend"})
	lastRunDuration = newDesc("kmschaos_last_run_duration_seconds",
		"How long the newest recorded run took, in seconds.", []string{"backend"})
	lastRunScenarios = newDesc("kmschaos_last_run_scenarios",
		"Scenarios of the newest recorded run by verdict (PASS, FAIL, SKIP).", []string{"backend", "verdict"})
	scenarioVerdict = newDesc("kmschaos_scenario_verdict",
		"A scenario's last verdict: 1 for the verdict it had (PASS, FAIL or SKIP), 0 for the two others.", append(scenarioLabels, "verdict"))
	scenarioTTD = newDesc("kmschaos_scenario_ttd_seconds",
		"A scenario's time to detect in its last run, in seconds; absent when that run measured none.", scenarioLabels)
	scenarioTTR = newDesc("kmschaos_scenario_ttr_seconds",
		"A scenario's time to recover in its last run, in seconds; absent when that run measured none.", scenarioLabels)
	scenarioPass = newDesc("kmschaos_scenario_pass_ratio",
		"Passes over the verdicts judged (PASS or FAIL; a SKIP is neither) among a scenario's last --window verdicts.", scenarioLabels)
	scenarioFlake = newDesc("kmschaos_scenario_flake_ratio",
		"Among a scenario's last --window judged verdicts, newest first, the share of consecutive pairs that differ (a PASS after a FAIL or the reverse): 0 steady, 1 alternating at every run.", scenarioLabels)
	scenarioJudged = newDesc("kmschaos_scenario_judged_runs",
		"How many of a scenario's last --window verdicts were judged (PASS or FAIL): what its ratios are taken over.", scenarioLabels)
	sectionPass = newDesc("kmschaos_section_pass_ratio",
		"Passes over the verdicts judged of every scenario of a guide section, each over its last --window verdicts.", []string{"section", "backend"})
)

// all and names are the collector's metrics in the order newDesc made
// them: what Describe sends, and their names.
var (
	all   []*prometheus.Desc
	names []string
)

func newDesc(name, help string, labels []string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	all, names = append(all, d), append(names, name)
	return d
}

// Names are the metric names the collector exports.
func Names() []string { return slices.Clone(names) }

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range all {
		ch <- d
	}
}

// Collect reads the store and sends what it says now. A store that fails
// is one invalid metric: the scrape fails (Handler answers 500).
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
	defer cancel()
	latest, err := c.src.Latest(ctx, c.o.Filter, c.o.Window)
	c.note(err)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(runsRecorded, err)
		return
	}
	for _, l := range latest {
		collectBackend(ch, l)
	}
}

// note logs a change: the store failing, or answering again.
func (c *Collector) note(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil && !c.failing:
		c.o.Log("the results store failed a scrape (logged once until it answers again): %v", err)
	case err == nil && c.failing:
		c.o.Log("the results store answers again")
	}
	c.failing = err != nil
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

var verdicts = []string{"PASS", "FAIL", "SKIP"}

func collectBackend(ch chan<- prometheus.Metric, l results.Latest) {
	b := l.Backend
	gauge(ch, runsRecorded, float64(l.Runs), b)
	if l.Runs == 0 {
		return
	}
	gauge(ch, lastRunStart, float64(l.Newest.Started.UnixNano())/1e9, b)
	gauge(ch, lastRunDuration, l.Newest.Duration.Seconds(), b)
	gauge(ch, lastRunScenarios, float64(l.Newest.Passed), b, "PASS")
	gauge(ch, lastRunScenarios, float64(l.Newest.Failed), b, "FAIL")
	gauge(ch, lastRunScenarios, float64(l.Newest.Skipped), b, "SKIP")

	type tally struct{ passed, judged int }
	sections := map[string]*tally{}
	var order []string
	for _, h := range l.Scenarios {
		if len(h.Last) == 0 {
			continue
		}
		last := h.Last[0]
		for _, v := range verdicts {
			gauge(ch, scenarioVerdict, boolf(last.Verdict == v), h.Name, h.Section, b, v)
		}
		if last.TTD > 0 {
			gauge(ch, scenarioTTD, last.TTD.Seconds(), h.Name, h.Section, b)
		}
		if last.TTR > 0 {
			gauge(ch, scenarioTTR, last.TTR.Seconds(), h.Name, h.Section, b)
		}
		r := Rates(h.Last)
		gauge(ch, scenarioJudged, float64(r.Judged), h.Name, h.Section, b)
		if r.Judged > 0 {
			gauge(ch, scenarioPass, float64(r.Passed)/float64(r.Judged), h.Name, h.Section, b)
		}
		if r.Judged > 1 {
			gauge(ch, scenarioFlake, float64(r.Flips)/float64(r.Judged-1), h.Name, h.Section, b)
		}
		t := sections[h.Section]
		if t == nil {
			t = &tally{}
			sections[h.Section] = t
			order = append(order, h.Section)
		}
		t.passed += r.Passed
		t.judged += r.Judged
	}
	for _, s := range order {
		if t := sections[s]; t.judged > 0 {
			gauge(ch, sectionPass, float64(t.passed)/float64(t.judged), s, b)
		}
	}
}

// Tally is what a scenario's last verdicts add up to.
type Tally struct {
	Passed, Judged int // PASS, and PASS or FAIL (a SKIP is not judged)
	Flips          int // consecutive judged verdicts that differ
}

// Rates tallies verdicts (newest first): the pass rate is Passed/Judged,
// the flake rate Flips/(Judged-1) — how often a verdict was not the one
// before it, so a scenario failing every time is broken, not flaky.
func Rates(last []results.Verdict) Tally {
	var t Tally
	prev := ""
	for _, v := range last {
		if v.Verdict != "PASS" && v.Verdict != "FAIL" {
			continue
		}
		t.Judged++
		if v.Verdict == "PASS" {
			t.Passed++
		}
		if prev != "" && prev != v.Verdict {
			t.Flips++
		}
		prev = v.Verdict
	}
	return t
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Handler serves the collector's metrics in Prometheus's text format (a
// registry of its own: no Go runtime metrics beside them). A scrape the
// store fails answers 500 saying why.
func Handler(c *Collector) http.Handler {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}
