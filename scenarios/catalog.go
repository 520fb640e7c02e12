// Package scenarios is the catalog: every scenario of the troubleshooting
// guide as a plain value (harness/scenario.Scenario), one list per section
// in a file of its own, with the probes and faults they share. It holds
// no test framework: the Ginkgo suite at the module's root registers one
// spec per entry, and `kmschaos scenarios` and `kmschaos run` list and
// run the same values.
package scenarios

import (
	"slices"
	"sync"

	"github.com/kmschaos/kmschaos/harness/scenario"
)

// The sections of the troubleshooting guide; their labels are in labels.go.
const (
	Startup      = "Service Startup Issues"
	Connectivity = "Connectivity Issues"
	Performance  = "Performance Issues"
	Threshold    = "13-Party Threshold Network Issues"
	StorageSec   = "Storage Backend Issues"
	KeysSec      = "Key Management Issues"
	ProcessSec   = "Process faults"
	Emergency    = "Emergency Procedures"
)

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
	{RollingUpgrade, upgradeScenarios},
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

// SectionLabel is the Ginkgo label of a guide section.
func SectionLabel(section string) string { return sectionLabel[section] }
