package resultmetrics

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboard is the Grafana dashboard the docs offer.
const dashboard = "../../docs/grafana/kmschaos-results.json"

// dashboardQueries are the PromQL expressions of the dashboard's panels
// (every "expr") and the metrics its variables read (label_values).
func dashboardQueries(t *testing.T) (exprs, variableMetrics []string) {
	t.Helper()
	b, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", dashboard, err)
	}
	labelValues := regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					exprs = append(exprs, s)
				}
				if s, ok := x.(string); ok && k == "definition" {
					for _, m := range labelValues.FindAllStringSubmatch(s, -1) {
						variableMetrics = append(variableMetrics, m[1])
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(exprs) == 0 {
		t.Fatalf("%s: no expr found", dashboard)
	}
	return exprs, variableMetrics
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promKeywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}
)

// metricNames are the metric names a PromQL expression reads: its
// identifiers that are not functions, keywords, label names in matchers
// or groupings, or strings.
func metricNames(expr string) []string {
	e := promString.ReplaceAllString(expr, `""`)
	e = promMatchers.ReplaceAllString(e, " ")
	e = promGrouping.ReplaceAllString(e, " ")
	var names []string
	for _, m := range promIdent.FindAllStringSubmatch(e, -1) {
		if m[1] != "" || slices.Contains(promKeywords, strings.ToLower(m[0])) {
			continue // a function, or a keyword
		}
		names = append(names, m[0])
	}
	return names
}

func TestMetricNames(t *testing.T) {
	got := metricNames(`topk(10, kmschaos_a{x=~"$b", y="up"} > 0) and on (scenario) (kmschaos_b[5m] == 1) or sum by (section) (up)`)
	if want := []string{"kmschaos_a", "kmschaos_b", "up"}; !slices.Equal(got, want) {
		t.Errorf("metricNames: %q, want %q", got, want)
	}
}

// Every expression of the dashboard reads only metrics the collector
// exports, and at least one: a renamed metric breaks this test, not a
// team's dashboard.
func TestDashboardReadsOnlyExportedMetrics(t *testing.T) {
	exprs, vars := dashboardQueries(t)
	for _, e := range exprs {
		names := metricNames(e)
		if len(names) == 0 {
			t.Errorf("dashboard expr %q reads no metric", e)
		}
		for _, n := range names {
			if !slices.Contains(Names(), n) {
				t.Errorf("dashboard expr %q reads %s, which the collector does not export (it does: %s)", e, n, strings.Join(Names(), ", "))
			}
		}
	}
	for _, n := range vars {
		if !slices.Contains(Names(), n) {
			t.Errorf("a dashboard variable reads %s, which the collector does not export", n)
		}
	}
}
