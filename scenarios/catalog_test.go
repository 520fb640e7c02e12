package scenarios

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"testing"
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
		if e.Scenario.Build == nil || e.Section == "" {
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

// Every group holds scenarios, and one named after a section of the guide
// holds that section's only: `kmschaos scenarios` prints them under it.
func TestEveryGroupHoldsItsSectionsScenarios(t *testing.T) {
	n := 0
	for _, g := range Groups() {
		if len(g.Entries) == 0 {
			t.Errorf("group %q is empty", g.Name)
		}
		for _, e := range g.Entries {
			if _, guide := sectionLabel[g.Name]; guide && e.Section != g.Name {
				t.Errorf("scenario %q of section %q is listed in the group %q", e.Name, e.Section, g.Name)
			}
		}
		n += len(g.Entries)
	}
	if n != len(Catalog()) {
		t.Errorf("the groups hold %d scenarios, the catalog %d", n, len(Catalog()))
	}
}

// A list of scenarios that groups does not name runs nowhere: neither the
// suite nor `kmschaos scenarios` would know it.
func TestEverySectionListIsInTheCatalog(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.SkipObjectResolution) //nolint:staticcheck // SA1019: one directory of one package with no build tags, which is what ParseDir does right
	if err != nil {
		t.Fatal(err)
	}
	var declared, listed []string
	for _, f := range pkgs["scenarios"].Files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					cl, ok := vs.Values[i].(*ast.CompositeLit)
					switch {
					case ok && types.ExprString(cl.Type) == "[]scenario.Scenario":
						declared = append(declared, name.Name)
					case ok && name.Name == "groups":
						for _, el := range cl.Elts {
							if g, ok := el.(*ast.CompositeLit); ok && len(g.Elts) == 2 {
								listed = append(listed, types.ExprString(g.Elts[1]))
							}
						}
					}
				}
			}
		}
	}
	sort.Strings(declared)
	sort.Strings(listed)
	if len(declared) == 0 || !slices.Equal(declared, listed) {
		t.Errorf("lists of scenarios declared: %v\nlisted in groups: %v", declared, listed)
	}
}
