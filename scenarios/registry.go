package scenarios

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// The catalog is data: every file of this package declares its scenarios
// with spec(...) inside a section(...) body, and Catalog() lists them as
// values. The Ginkgo suite registers its Its from those values (section
// does it, at init), and the CLI lists and runs the same values without
// Ginkgo. Specs that are not scenarios (the meta specs, the steady state)
// stay plain Ginkgo Describe/It blocks, outside the catalog.

// CatalogCatalogEntry is one scenario of the catalog.
type CatalogEntry struct {
	Name    string
	Section string   // the guide's section (the scenario's own)
	Group   string   // the Ginkgo container it is registered under
	Labels  []string // every Ginkgo label of its It: "scenario", the section's, its own
	// Scenario is the value to run: its Build makes the plan from a
	// cluster and a seed.
	Scenario scenario.Scenario
}

type sectionDef struct {
	name string
	body func()
}

var (
	sections []sectionDef

	// collecting is where spec puts scenarios while Catalog runs the
	// section bodies; nil outside them.
	collecting *[]scenario.Scenario

	catalogOnce sync.Once
	catalog     []CatalogEntry
)

// section declares a group of scenarios: body calls spec for each. It
// registers the group as a Ginkgo container whose Its come from the
// catalog, so the suite and the CLI share one list.
func section(name string, body func()) bool {
	sections = append(sections, sectionDef{name, body})
	Describe(name, func() {
		for _, e := range Catalog() {
			if e.Group == name {
				register(e)
			}
		}
	})
	return true
}

// spec declares one scenario of the section whose body calls it.
func spec(sc scenario.Scenario) {
	if collecting == nil {
		// A spec(...) in a plain Describe would run in the suite and be
		// missing from the CLI's catalog: refuse it where it is written.
		panic(fmt.Sprintf("scenario %q: spec(...) must be called inside a section(...) body, not a Describe: the catalog (kmschaos scenarios) would miss it", sc.Name))
	}
	*collecting = append(*collecting, sc)
}

// Catalog lists every scenario, in declaration order (the order of the
// files, then of the specs in each).
func Catalog() []CatalogEntry {
	catalogOnce.Do(func() {
		for _, s := range sections {
			var got []scenario.Scenario
			collecting = &got
			s.body()
			collecting = nil
			for _, sc := range got {
				labels, err := labelsOf(sc)
				if err != nil {
					// While the catalog is built: the suite stops here, naming
					// the scenario, instead of running it under a label
					// nothing selects.
					panic(err)
				}
				catalog = append(catalog, CatalogEntry{Name: sc.Name, Section: sc.Section, Group: s.name, Labels: labels, Scenario: sc})
			}
		}
	})
	return slices.Clone(catalog)
}

// Processes is how many of the suite's clusters run at once (Ginkgo's
// parallel processes; 1 under go test).
func Processes() int {
	cfg, _ := GinkgoConfiguration()
	return max(cfg.ParallelTotal, 1)
}

// priority schedules long specs first on the suite's parallel clusters.
func priority(long bool) SpecPriority {
	if long {
		return SpecPriority(1)
	}
	return SpecPriority(0)
}

// SectionLabel is the Ginkgo label of a guide section.
func SectionLabel(section string) string { return sectionLabel[section] }

// register makes a catalog entry a Ginkgo It against the shared cluster.
func register(e CatalogEntry) {
	sc := e.Scenario
	It(sc.Name, Label(e.Labels...), priority(sc.Long), func(ctx SpecContext) {
		root, err := localcluster.ModuleRoot()
		Expect(err).NotTo(HaveOccurred())
		res, err := scenario.Run(ctx, env.Cluster(), sc, env.Rand(sc.Name), scenario.Options{
			RunbookDir: filepath.Join(root, "runbooks"),
			// The suite's parallel clusters share one machine's workload
			// budget: with two, each decrypts half as often.
			WorkloadShare: Processes(),
			Cleanup: func(heal func(context.Context) error) {
				DeferCleanup(func(ctx SpecContext) error { return heal(ctx) }, NodeTimeout(timings.Heal))
			},
		})
		record(res)
		AddReportEntry("scorecard", oneLine(res))
		// A verb the backend cannot offer: the row says skipped, and so
		// does Ginkgo, neither passed nor failed (err is nil).
		if res.Result() == report.ResultSkip {
			Skip(res.Skipped)
		}
		Expect(err).NotTo(HaveOccurred(), "scenario %q", sc.Name)
	}, SpecTimeout(timings.Spec))
}
