package scenarios

import (
	"fmt"

	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/scenario"
)

// The catalog's Ginkgo labels besides the guide's sections (sectionLabel)
// and the fault kinds (fault.Network, …). A scenario's labels are checked
// against these when the catalog is built: a typo or an unknown section
// stops the suite instead of becoming a label no filter ever selects.
const (
	LabelScenario    = "scenario"     // every scenario
	LabelProcedure   = "procedure"    // an emergency procedure run on a healthy cluster
	LabelDiagnostics = "diagnostics"  // the guide's grpcurl commands
	LabelMesh        = "mesh"         // the toxiproxy mesh itself
	LabelSteadyState = "steady-state" // the cluster without a fault
	LabelMeta        = "meta"         // the harness's own guarantees
	LabelCleanup     = "cleanup"
	LabelSecrets     = "secrets"
	// LabelKubernetes: the scenario's runbook is a Kubernetes operator's
	// (kubectl, helm); on another backend it is skipped.
	LabelKubernetes = "kubernetes"
)

// sectionLabel is the label of each section of the guide.
var sectionLabel = map[string]string{
	Startup: "startup", Connectivity: "connectivity", Performance: "performance", Threshold: "threshold-network",
	StorageSec: "storage", KeysSec: "keys", ProcessSec: "process", Emergency: "emergency",
}

// faultKinds are the fault kinds, labels of the scenarios that inject them.
var faultKinds = []string{fault.Network, fault.Process, fault.Resources, fault.Storage, fault.Config, fault.PRSS, fault.Keys, fault.TLS}

// known is every label a scenario may carry.
func known() map[string]bool {
	k := map[string]bool{}
	for _, l := range []string{LabelScenario, LabelProcedure, LabelDiagnostics, LabelMesh, LabelSteadyState, LabelMeta, LabelCleanup, LabelSecrets, LabelKubernetes} {
		k[l] = true
	}
	for _, l := range sectionLabel {
		k[l] = true
	}
	for _, l := range faultKinds {
		k[l] = true
	}
	return k
}

// labelsOf is what a scenario is labelled with: "scenario", its section's
// label, then its own. An unknown section or label is an error naming it.
func labelsOf(sc scenario.Scenario) ([]string, error) {
	section, ok := sectionLabel[sc.Section]
	if !ok {
		return nil, fmt.Errorf("scenario %q: section %q is not a section of the guide (scenarios/catalog.go lists them)", sc.Name, sc.Section)
	}
	k := known()
	for _, l := range sc.Labels {
		if !k[l] {
			return nil, fmt.Errorf("scenario %q: label %q is not registered (scenarios/labels.go lists them)", sc.Name, l)
		}
	}
	return append([]string{LabelScenario, section}, sc.Labels...), nil
}
