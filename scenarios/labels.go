package scenarios

import (
	"fmt"
	"slices"

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
	// LabelSmoke: the smoke slice (make test-smoke), one scenario of each
	// section of the guide, what a pull request's pipeline runs; the whole
	// catalog stays the release gate.
	LabelSmoke = "smoke"
)

// smoke is the smoke slice: one scenario per section of the guide (the
// failure families), picked among the quicker ones and to cover as many
// fault kinds as eight can (every kind but tls: network, process,
// resources, storage, config, prss, keys, and an emergency procedure).
// TestSmokeIsOneScenarioPerSection holds it to that.
var smoke = map[string]string{
	Connectivity: "a refused client link is reported as [FAIL] Cannot connect, fast",
	Emergency:    "graceful restart as written brings the party back with nothing lost",
	KeysSec:      "public material that does not match the shares: decryptions refused, never wrong",
	Performance:  "a CPU-starved party is slow to coordinate; scaling its CPU back recovers it",
	ProcessSec:   "t parties killed: the cluster stays correct and live; starting them recovers",
	Startup:      "malformed config.toml crash-loops; configuration recovery restores it",
	StorageSec:   "a full disk: df shows it full, no torn files are left; freeing space recovers",
	Threshold:    "a new PRSS epoch while a party is unreachable fails on every party, and the parties' logs name it",
}

// sectionLabel is the label of each section of the guide.
var sectionLabel = map[string]string{
	Startup: "startup", Connectivity: "connectivity", Performance: "performance", Threshold: "threshold-network",
	StorageSec: "storage", KeysSec: "keys", ProcessSec: "process", Emergency: "emergency",
}

// faultKinds are the fault kinds, labels of the scenarios that inject them.
var faultKinds = []string{fault.Network, fault.Process, fault.Resources, fault.Storage, fault.Config, fault.PRSS, fault.Keys, fault.TLS}

// known is every label a scenario may carry itself (smoke comes from the
// smoke map alone, so a scenario cannot join the slice twice).
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
	labels := []string{LabelScenario, section}
	for _, l := range sc.Labels {
		// A kind can be its section's name too (process): once is enough.
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	if smoke[sc.Section] == sc.Name {
		labels = append(labels, LabelSmoke)
	}
	return labels, nil
}
