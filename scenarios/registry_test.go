package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/harness/scenario"
)

func TestCatalogListsEveryScenarioOnceWithItsLabels(t *testing.T) {
	cat := Catalog()
	if len(cat) < 30 {
		t.Fatalf("the catalog has %d scenarios; the suite registers more than 30", len(cat))
	}
	seen := map[string]bool{}
	for _, e := range cat {
		if seen[e.Name] {
			t.Errorf("scenario %q listed twice", e.Name)
		}
		seen[e.Name] = true
		if e.Scenario.Build == nil || e.Section == "" || e.Group == "" {
			t.Errorf("scenario %q: incomplete entry %+v", e.Name, e)
		}
		if len(e.Labels) < 2 || e.Labels[0] != "scenario" || e.Labels[1] == "" || e.Labels[1] != SectionLabel(e.Section) {
			t.Errorf("scenario %q: labels %v want scenario, its section's label, its own", e.Name, e.Labels)
		}
	}
	// A second call gives the same values, not a second collection.
	if again := Catalog(); len(again) != len(cat) || again[0].Name != cat[0].Name {
		t.Errorf("Catalog is not stable: %d then %d entries", len(cat), len(again))
	}
	if !slices.ContainsFunc(cat, func(e CatalogEntry) bool {
		return strings.HasPrefix(e.Name, "a refused client link") && slices.Contains(e.Labels, "connectivity")
	}) {
		t.Error("the refused client link scenario is missing or not labelled connectivity")
	}
}

// A spec written in a plain Describe would run in the suite but be
// missing from the catalog: it is refused where it is written.
func TestSpecOutsideASectionIsRefused(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "must be called inside a section") {
			t.Errorf("spec outside a section: recovered %v", r)
		}
	}()
	spec(scenario.Scenario{Name: "stray"})
}
