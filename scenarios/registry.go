package scenarios

import (
	"context"
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

// The catalog is data: each section file of this package declares its
// scenarios as a plain list, groups below puts the lists in order, and
// Catalog() lists them as values. The Ginkgo suite registers one It per
// entry, and the CLI lists and runs the same values without Ginkgo.
// Specs that are not scenarios (the meta specs, the steady state) stay
// plain Ginkgo Describe/It blocks, outside the catalog.

// CatalogEntry is one scenario of the catalog.
type CatalogEntry struct {
	Name    string
	Section string   // the guide's section (the scenario's own)
	Labels  []string // every Ginkgo label of its It: "scenario", the section's, its own
	// Scenario is the value to run: its Build makes the plan from a
	// cluster and a seed.
	Scenario scenario.Scenario
}

// Group is one container of the suite: a section's scenarios.
type Group struct {
	Name    string // the Ginkgo container: the guide section's name, or the catalog's own (PeerLinkTLS)
	Entries []CatalogEntry
}

// groups is the catalog, in the order `kmschaos scenarios` lists it.
var groups = []struct {
	name      string
	scenarios []scenario.Scenario
}{
	{Connectivity, connectivityIssues},
	{Emergency, emergencyProcedures},
	{KeysSec, keyManagementIssues},
	{Performance, performanceIssues},
	{ProcessSec, processFaults},
	{Startup, startupIssues},
	{StorageSec, storageIssues},
	{Threshold, thresholdNetworkIssues},
	{PeerLinkTLS, peerLinkTLS},
}

// built is the catalog with each scenario's labels, made once.
var built = sync.OnceValue(func() []Group {
	var out []Group
	for _, g := range groups {
		grp := Group{Name: g.name}
		for _, sc := range g.scenarios {
			labels, err := labelsOf(sc)
			if err != nil {
				// The suite stops here, naming the scenario, instead of
				// running it under a label nothing selects.
				panic(err)
			}
			grp.Entries = append(grp.Entries, CatalogEntry{Name: sc.Name, Section: sc.Section, Labels: labels, Scenario: sc})
		}
		out = append(out, grp)
	}
	return out
})

// Groups lists the catalog as the suite registers it: one container per
// group, its scenarios in the order they are written.
func Groups() []Group {
	out := slices.Clone(built())
	for i := range out {
		out[i].Entries = slices.Clone(out[i].Entries)
	}
	return out
}

// Catalog lists every scenario, in the order of Groups.
func Catalog() []CatalogEntry {
	var out []CatalogEntry
	for _, g := range built() {
		out = append(out, g.Entries...)
	}
	return out
}

// The suite's containers of the catalog: one It per scenario.
var _ = func() bool {
	for _, g := range Groups() {
		Describe(g.Name, func() {
			for _, e := range g.Entries {
				register(e)
			}
		})
	}
	return true
}()

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
