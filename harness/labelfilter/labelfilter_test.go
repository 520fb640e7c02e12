package labelfilter

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// The label sets the comparison judges filters on: every combination of
// a few of the catalog's labels, and a label in another case.
var labelSets = func() [][]string {
	vocab := []string{"scenario", "connectivity", "network", "prss", "storage"}
	var out [][]string
	for mask := 0; mask < 1<<len(vocab); mask++ {
		var set []string
		for i, l := range vocab {
			if mask&(1<<i) != 0 {
				set = append(set, l)
			}
		}
		out = append(out, set)
	}
	return append(out, []string{"Network", "PRSS"})
}()

// same says whether two filters select the same of labelSets.
func same(t *testing.T, expr string, ours Filter, theirs types.LabelFilter) {
	t.Helper()
	for _, set := range labelSets {
		if ours(set) != theirs(set) {
			t.Errorf("%q on %v: kmschaos says %v, Ginkgo %v", expr, set, ours(set), theirs(set))
			return
		}
	}
}

// The words the suite takes must select what they select in the suite:
// every expression the help and the docs show, and the edges.
func TestFiltersSelectWhatTheSuiteSelects(t *testing.T) {
	for _, expr := range []string{
		"", "network", "NETWORK", "  network  ", "!network", "!!network",
		"network && prss", "network || prss", "network, prss", "network,prss",
		"network || prss && storage", "(network || prss) && storage",
		"!network && prss", "!(network && prss)", "connectivity && !network",
		"/^net/", "/Net/", "/^(prss|storage)$/ && !scenario", "((network))",
		"process || storage || prss || resources || config",
		"threshold-network && !prss", "a label with spaces",
	} {
		theirs, err := types.ParseLabelFilter(expr)
		if err != nil {
			t.Fatalf("Ginkgo refuses %q: %v", expr, err)
		}
		ours, err := Parse(expr)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		same(t, expr, ours, theirs)
	}
}

// What the suite refuses is refused, with where. Two are refused that
// Ginkgo takes: an unclosed /pattern/ (Ginkgo reads to the end) and a
// label set.
func TestMalformedFiltersAreRefused(t *testing.T) {
	for expr, want := range map[string]string{
		"network &&":           "(at character 11)",
		"&& network":           "no label before it",
		"network & prss":       "did you mean '&&'",
		"network | prss":       "did you mean '||'",
		"(network":             "not closed",
		"network)":             "no '(' before it",
		"()":                   "empty '()'",
		"network prss (x)":     "operator is missing",
		"/[/":                  "the pattern",
		"/net":                 "not closed",
		"!":                    "ends where a label is expected",
		" ":                    "ends where a label is expected",
		"env: containsAny {a}": "label sets",
		"network || , prss":    "where a label is expected",
	} {
		_, err := Parse(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error with %q", expr, err, want)
		}
		if _, gerr := types.ParseLabelFilter(expr); gerr == nil && !strings.Contains(expr, "/net") && !strings.Contains(expr, ":") {
			t.Errorf("%q: Ginkgo accepts what kmschaos refuses", expr)
		}
	}
}

// Random expressions over the syntax's tokens: where Ginkgo accepts one,
// kmschaos selects the same; where Ginkgo refuses it, so does kmschaos.
func TestRandomFiltersAgreeWithTheSuite(t *testing.T) {
	tokens := []string{"network", "prss", "storage", "Scenario", "!", "&&", "||", ",", "(", ")", "/^s/", "/k$/", " "}
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(9) {
			b.WriteString(tokens[rng.IntN(len(tokens))])
			if rng.IntN(2) == 0 {
				b.WriteByte(' ')
			}
		}
		expr := b.String()
		theirs, gerr := types.ParseLabelFilter(expr)
		ours, err := Parse(expr)
		switch {
		case gerr != nil && err == nil:
			t.Errorf("%q: Ginkgo refuses it (%v), kmschaos accepts it", expr, gerr)
		case gerr == nil && err != nil:
			t.Errorf("%q: Ginkgo accepts it, kmschaos refuses it: %v", expr, err)
		case gerr == nil:
			accepted++
			same(t, expr, ours, theirs)
		}
		if t.Failed() {
			return
		}
	}
	if accepted < 1000 {
		t.Fatalf("only %d of the random expressions parsed: the comparison judged too little", accepted)
	}
	t.Logf("%d accepted expressions compared", accepted)
}
