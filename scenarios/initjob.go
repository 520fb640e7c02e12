package scenarios

import (
	"fmt"
	"regexp"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/material"
)

// The chart's PRSS init Job (issue 23 item 3): the operations pages'
// "Step 2: Initialize PRSS" (zama-ai/kms docs/operations/
// production-deployment.md) is helm upgrade <release> . --set
// kmsInit.enabled=true --wait, kubectl logs -f of
// job/<release>-threshold-init, then kms-health-check live on every
// party. The Job is the real chart's (charts/kms-core/templates/
// kms-threshold-init-job.yaml; ours in cluster/kube/chart): a post-install/
// post-upgrade hook whose init container check-kms-cores loops
// grpc_health_probe over every core, with no bound, before its container
// runs timeout 1200 kms-init. Kubernetes only: on Docker the helm step is
// unsupported and both scenarios are skipped, saying so.

// initJobTimeout bounds the operator's helm upgrade (--timeout): the
// pages give none, and helm's default is 5 minutes.
var initJobTimeout = timings.Threshold.InitJobHelmTimeout

// exitCodesDefect is the chart's reading of grpc_health_probe's exit code.
const exitCodesDefect = `the chart's init Job (charts/kms-core/templates/kms-threshold-init-job.yaml) takes grpc_health_probe's exit code equal to kmsPeers.count for "reachable but not yet initialized", and exit 0 for "already initialized": the probe's codes are 0 SERVING, 1 bad arguments, 2 connection failure, 3 RPC failure, 4 NOT_SERVING (grpc-health-probe v0.4.63 main.go:64-73), so the branch means NOT_SERVING only at kmsPeers.count 4, "connection failed" at 2 (an unreachable core then counts as reached), and nothing at the chart's default 1 or at 13; and the real party's overall status "" is SERVING from its start whatever its PRSS (tonic-health HealthReporter::new; kms_impl.rs:733-734 and server.rs:172-173 set only the core service, NOT_SERVING then SERVING once it serves), so every core that answers is logged "already initialized" before any init. The count it writes (/mnt/kms-init-count) is only echoed`

// initJobWaitsOnACore: one core stopped while the Job runs on a cluster
// not yet initialised.
func initJobWaitsOnACore() scenario.Scenario {
	return scenario.Scenario{
		Name:    "the chart's PRSS init Job waits forever on a core that never answers: helm gives up and marks the release failed, the Job's log names the core, and bringing the core back lets the Job finish",
		Section: Threshold, Long: true, Labels: []string{fault.PRSS, LabelKubernetes},
		Build: func(e *scenario.Env) scenario.Plan {
			two := e.Pick(2)
			k, down := two[0], two[1] // k's operator runs the init; down does not answer
			if e.Rng.IntN(2) == 1 {
				k, down = down, k
			}
			job := fault.InitJobName(k)
			release := cluster.ReleaseName(k)
			return scenario.Plan{
				// A cluster not yet initialised (the pages' Step 2
				// follows the deployment), one core stopped, and the
				// pages' init run with a bounded helm timeout.
				Faults: []fault.Fault{
					fault.RemoveEverywhere(e.N, fault.PRSSEpochData),
					fault.Stop(down),
					fault.InitJob(k, initJobTimeout),
				},
				BeyondThreshold: true, // no party holds PRSS: every operation fails closed
				Detect: []probe.Probe{
					probe.OperatorSays("helm history: the upgrade failed on its post-upgrade hook, the release failed",
						`(?m)^\d+\s.*\sfailed\s.*Upgrade "`+release+`" failed: post-upgrade hooks failed`, "helm", "history", release, "--max", "1"),
					probe.OperatorSays("kubectl get job: the init Job has not completed",
						`(?m)^`+job+`\s+(\S+\s+)?0/1\s`, "kubectl", "get", "job", job),
					probe.OperatorSays(fmt.Sprintf("kubectl logs of the Job's check-kms-cores: still retrying kms-party-%d", down),
						fmt.Sprintf(`failed to connect to kms-core at kms-party-%d:\d+, retrying\n(.*\n)*.*failed to connect to kms-core at kms-party-%d:\d+, retrying`, down, down),
						"kubectl", "logs", "job/"+job, "-c", "check-kms-cores"),
				},
				During: check.Expect{Down: e.Others()},
				Target: k, Runbooks: []string{"prss-init-job-waiting"},
				Defects: []string{
					`the operations pages' Step 2: Initialize PRSS (docs/operations/production-deployment.md) runs helm upgrade --set kmsInit.enabled=true --wait and kubectl logs -f of the init Job, and says nothing of a core that does not answer: the Job's init container check-kms-cores loops grpc_health_probe with no bound (the Job has no activeDeadlineSeconds; kmsInit.timeoutSeconds bounds kms-init only, after it), helm gives up at its --timeout (5 minutes by default) with "post-upgrade hooks failed" and marks the release failed while the Job goes on waiting, and the pages' kubectl logs job/... shows the init container's lines only with -c check-kms-cores. Nothing says to find the core in that log and bring it back, that the Job then completes by itself, nor to turn kmsInit off again: once a Step 2 succeeded, every later upgrade with --reuse-values runs the hook again (a failed one's values are not reused: helm v3.22.0 pkg/action/upgrade.go:223-241), and that Job fails, every party holding the default epoch, marking the release failed`,
					exitCodesDefect,
				},
			}
		},
	}
}

// initReachedSomeParties: the epoch on some parties only, and the Job run
// again as the pages run it.
func initReachedSomeParties() scenario.Scenario {
	return scenario.Scenario{
		Name:    "an init that reached only some parties: the pages' validation grades every party Optimal, the chart's init Job run again fails on the parties that hold the epoch; a new epoch on every party recovers",
		Section: Threshold, Long: true, Labels: []string{fault.PRSS, LabelKubernetes},
		Build: func(e *scenario.Env) scenario.Plan {
			// The parties an init cut off part-way did not reach hold no
			// epoch; the others hold it. The state is made by removing the
			// epoch from t parties (the simulated set-up, like the real
			// one, stores on every party or none when the network holds).
			missing := e.Pick(e.T)
			holders := e.Others(missing...)
			// The operator of a party the init missed runs it again.
			m := missing[e.Rng.IntN(len(missing))]
			k := m
			job := fault.InitJobName(k)
			release := cluster.ReleaseName(k)
			faults := []fault.Fault{}
			for _, p := range missing {
				faults = append(faults, fault.Remove(p, fault.PRSSEpochData))
			}
			faults = append(faults, fault.InitJob(k, initJobTimeout))
			return scenario.Plan{
				Faults: faults,
				Detect: []probe.Probe{
					// The pages' validation: kms-health-check live on every
					// party. The real tool has no PRSS check.
					probe.HealthStatus(m, "Optimal"),
					probe.LogSays(m, "WARN kms_server: No epoch data found in storage"),
					probe.DecryptFails(m, "NotFound", "Epoch "+material.DefaultEpochID+" not found"),
					probe.OperatorSays("helm history: the upgrade failed on its post-upgrade hook",
						`(?m)^\d+\s.*\sfailed\s.*Upgrade "`+release+`" failed: post-upgrade hooks failed`, "helm", "history", release, "--max", "1"),
					// kms-init is told InvalidArgument and the request id
					// only; the reason is in the refusing party's log.
					probe.OperatorSays("kubectl logs of the Job's threshold-init: kms-init panics on a party's InvalidArgument",
						regexp.QuoteMeta(`code: InvalidArgument, message: "Failed on requestID `+material.DefaultEpochID+` with metric new_mpc_epoch"`), "kubectl", "logs", "job/"+job, "-c", "threshold-init"),
					probe.AnyLogSays(regexp.QuoteMeta(`with metric new_mpc_epoch and error code Client specified an invalid argument. Error message: Epoch ID ` + material.DefaultEpochID + ` already exists`)),
				},
				During: check.Expect{Live: holders, Down: missing},
				Target: k, Runbooks: []string{"prss-init-job-off", "prss-reinit"},
				Defects: []string{
					`the operations pages' Step 2: Initialize PRSS validates the set-up with kms-health-check live on every party, which grades a party without PRSS Optimal (the real tool has no PRSS check: tools/kms-health-check/src/checks.rs), so an init that reached only some parties passes it; only the parties' start-up warning "No epoch data found in storage" and a decryption through them (NotFound) show it`,
					`the pages give no way to finish an init that reached only some parties: the chart's Job runs kms-init, which sets up the fixed DEFAULT_EPOCH_ID only (core/service/src/bin/kms-init.rs: no epoch flag, "change this once we want to trigger another init"), and a party that holds it refuses it with InvalidArgument, "Epoch ID … already exists" in its own log only (epoch_manager.rs:1505-1511), kms-init being told "Failed on requestID … with metric new_mpc_epoch" (core/service/src/engine/utils.rs), on which it panics; so the Job fails and retries until its backoff limit while helm gives up at its timeout. What recovers here is a fresh epoch on every party with the core-client's new-epoch (prss-reinit), which the pages never mention for this`,
					exitCodesDefect,
				},
			}
		},
	}
}
