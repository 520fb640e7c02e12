package scenarios

import (
	"fmt"

	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/material"
)

// Storage Backend Issues: key material not found, access errors, backups.

var _ = section(StorageSec, func() {
	spec(scenario.Scenario{
		Name: "a missing key share is named by the health check; the guide's key recovery breaks access as written, a safe one restores it", Section: StorageSec, Labels: []string{fault.Storage, fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.Remove(k, fault.KeyShare)},
				Detect: []probe.Probe{
					probe.HealthCheckSays(k, fmt.Sprintf(`\[FAIL\] PRIV-p%d/%s/%s: missing`, k, material.FheKeyInfo, e.C.Key.KeyID)),
					probe.LogSays(k, "WARN kms_server: No key share found in storage"),
				},
				// The party still coordinates, with its peers' shares.
				During:   check.Expect{Live: e.Others()},
				Target:   k,
				Runbooks: []string{"key-recovery-as-written", "key-recovery"},
				// Directories at 0600 lose their search bit.
				ExpectDefect: scenario.Defect{Step: "key-recovery-as-written/chmod -R 600 as written", Reason: `party \d+: .*permission denied`},
			}
		},
	})

	spec(scenario.Scenario{
		Name: "a key file the party cannot read shows as [FAIL] permission denied; fixing permissions recovers it", Section: StorageSec, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			rel := fmt.Sprintf("PRIV-p%d/%s/%s", k, material.FheKeyInfo, e.C.Key.KeyID)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Chmod(k, rel, "000", false, false)},
				Detect: []probe.Probe{probe.HealthCheckSays(k, `\[FAIL\] private vault .*permission denied`)},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"fix-permissions"},
			}
		},
	})

	spec(scenario.Scenario{
		Name: "a volume above 85 percent is reported as a warning", Section: StorageSec, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.DiskFull(k, 90)},
				Detect: []probe.Probe{probe.HealthCheckSays(k, `\[WARN\] private vault .*above 85%`), probe.HealthStatus(k, "Healthy")},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"disk-free"},
			}
		},
	})

	spec(scenario.Scenario{
		Name: "a full disk fails writes with ENOSPC, counted, with no torn files; freeing space recovers", Section: StorageSec, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.DiskFull(k, 100)},
				Detect: []probe.Probe{
					probe.HealthCheckSays(k, `\[FAIL\] private vault .*no space left on device`),
					probe.MetricAbove([]int{k}, "kms_storage_errors_total", map[string]string{"vault": "private", "kind": "nospace"}, 0),
					noTempFiles(k),
				},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"disk-free"},
			}
		},
	})
})
