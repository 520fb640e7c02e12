package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/scenario"
)

func TestLabelsOf(t *testing.T) {
	got, err := labelsOf(scenario.Scenario{Name: "x", Section: StorageSec, Labels: []string{fault.Storage, fault.Keys}})
	// The kind storage is the section's label already: listed once.
	if err != nil || !slices.Equal(got, []string{"scenario", "storage", "keys"}) {
		t.Errorf("labelsOf = %q, %v", got, err)
	}
	for _, tc := range []struct {
		sc   scenario.Scenario
		want string
	}{
		// Before labels were checked, this one ran under the label "".
		{scenario.Scenario{Name: "x", Section: "Storage backend issues"}, `section "Storage backend issues" is not a section of the guide`},
		{scenario.Scenario{Name: "x", Section: Connectivity, Labels: []string{"netwrok"}}, `label "netwrok" is not registered`}, //nolint:misspell // the typo is the test: a misspelt label is refused
		{scenario.Scenario{Name: "x", Section: Connectivity, Labels: []string{""}}, `label "" is not registered`},
	} {
		if _, err := labelsOf(tc.sc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("labelsOf(%+v) = %v, want an error containing %q", tc.sc, err, tc.want)
		}
	}
}

// Every section has a label and no two share one: a filter on a section
// selects exactly its scenarios.
func TestSectionLabelsAreDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, s := range []string{Startup, Connectivity, Performance, Threshold, StorageSec, KeysSec, ProcessSec, Emergency} {
		l, ok := sectionLabel[s]
		if !ok || l == "" {
			t.Errorf("section %q has no label", s)
		}
		if other, dup := seen[l]; dup {
			t.Errorf("sections %q and %q share the label %q", s, other, l)
		}
		seen[l] = s
	}
}

// The smoke slice (label smoke) is one scenario of each section of the
// guide, and each name it lists is a scenario of the catalog: a renamed
// scenario must not drop a section out of the slice unnoticed.
func TestSmokeIsOneScenarioPerSection(t *testing.T) {
	perSection := map[string][]string{}
	for _, e := range Catalog() {
		if slices.Contains(e.Labels, LabelSmoke) {
			perSection[e.Section] = append(perSection[e.Section], e.Name)
		}
	}
	for _, s := range []string{Startup, Connectivity, Performance, Threshold, StorageSec, KeysSec, ProcessSec, Emergency} {
		if got := perSection[s]; len(got) != 1 {
			t.Errorf("section %q has %d smoke scenarios %q, want 1 (scenarios/labels.go: smoke names %q)", s, len(got), got, smoke[s])
		}
	}
	if len(smoke) != len(perSection) {
		t.Errorf("smoke lists %d sections, the catalog labelled %d", len(smoke), len(perSection))
	}
}
