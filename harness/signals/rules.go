package signals

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/kmschaos/kmschaos/harness/alerts"
	"github.com/kmschaos/kmschaos/kms/metrics"
)

// shippedRules are the alerts of harness/alerts, in the file's order.
var shippedRules = sync.OnceValue(func() []rule {
	var f struct {
		Groups []struct {
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(alerts.Rules, &f); err != nil {
		panic("harness/alerts: kms.rules.yml: " + err.Error()) // promtool-tested: never
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
})

var (
	// Where a PromQL expression names no metric: label matchers, ranges,
	// strings, and the label lists of by (...), on (...) and the like.
	notMetric = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|"[^"]*"|\b(?:by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)`)
	ident     = regexp.MustCompile(`\b[a-zA-Z_][a-zA-Z0-9_:]*\b(\s*\()?`)
	keywords  = map[string]bool{"and": true, "or": true, "unless": true, "offset": true, "bool": true}
)

// metricsOf are the metrics a rule's expression reads.
func metricsOf(expr string) []string {
	var out []string
	for _, m := range ident.FindAllStringSubmatch(notMetric.ReplaceAllString(expr, " "), -1) {
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[0]), "("))
		if m[1] != "" || keywords[name] || slices.Contains(out, name) {
			continue // a function's name, a keyword
		}
		out = append(out, name)
	}
	return out
}

// exporters of the metrics a party does not export, by prefix.
var exporters = []struct{ prefix, who string }{
	{"kube_", "kube-state-metrics"},
	{"kubelet_", "the kubelet"},
	{"container_", "cAdvisor (the kubelet)"},
}

// partyMetrics are the metrics our party defines (kms/metrics), labelled
// or not, whether a series exists yet or not.
var partyMetrics = sync.OnceValue(func() map[string]bool {
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	out := map[string]bool{}
	v := reflect.ValueOf(metrics.New(0)).Elem()
	for i := range v.NumField() {
		c, ok := v.Field(i).Interface().(prometheus.Collector)
		if !ok {
			continue
		}
		ch := make(chan *prometheus.Desc, 16)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := fq.FindStringSubmatch(d.String()); m != nil {
				out[m[1]] = true
			}
		}
	}
	return out
})

// unmeasurable says why a rule cannot be evaluated in a run whose
// Prometheus scrapes only the parties: a metric it reads that no party
// exports ("" when every one is a party's).
func unmeasurable(r rule) string {
	var why []string
	for _, m := range metricsOf(r.Expr) {
		if partyMetrics()[m] {
			continue
		}
		who := "no exporter"
		for _, e := range exporters {
			if strings.HasPrefix(m, e.prefix) {
				who = e.who
			}
		}
		if who == "no exporter" {
			why = append(why, fmt.Sprintf("reads %s, which the party does not export", m))
			continue
		}
		why = append(why, fmt.Sprintf("reads %s, which %s exports; this run's Prometheus scrapes only the parties' /metrics", m, who))
	}
	return strings.Join(why, "; ")
}
