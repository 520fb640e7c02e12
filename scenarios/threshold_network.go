package scenarios

import (
	"fmt"

	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/material"
)

// 13-Party Threshold Network Issues: fewer than t+1 parties reachable,
// session synchronisation, PRSS set-up.

var thresholdNetworkIssues = []scenario.Scenario{
	{
		Name: "a partition n-t | t: the majority stays Healthy and right, the minority fails cleanly", Section: Threshold, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			minority := e.Pick(e.T)
			majority := e.Others(minority...)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Partition(majority, minority)},
				Detect: []probe.Probe{probe.HealthStatus(majority[0], "Healthy"), probe.HealthStatus(minority[0], "Unhealthy")},
				During: check.Expect{Live: majority, Down: minority},
				Target: majority[0], Runbooks: []string{"peer-network-recovery"},
			}
		},
	},

	{
		Name: "a partition where every side is smaller than t+1: every party Unhealthy, every operation fails closed", Section: Threshold, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			perm := e.Pick(e.N)
			var groups [][]int
			for len(perm) > 0 {
				k := min(e.T, len(perm))
				groups = append(groups, perm[:k])
				perm = perm[k:]
			}
			return scenario.Plan{
				Faults:          []fault.Fault{fault.Partition(groups...)},
				BeyondThreshold: true,
				Detect:          []probe.Probe{probe.HealthStatus(groups[0][0], "Unhealthy"), probe.HealthStatus(groups[len(groups)-1][0], "Unhealthy")},
				During:          check.Expect{Down: e.Others()},
				Target:          groups[0][0], Runbooks: []string{"peer-network-recovery"},
			}
		},
	},

	{
		Name: "a one-way partition: the cut-off party sees nobody, everyone sees it", Section: Threshold, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			a := e.One()
			rest := e.Others(a)
			return scenario.Plan{
				Faults: []fault.Fault{fault.OneWay([]int{a}, rest)},
				Detect: []probe.Probe{probe.PeerUnreachable(a, rest[0], "connection refused"), probe.PeerReachable(rest[0], a), probe.HealthStatus(a, "Unhealthy")},
				During: check.Expect{Live: rest, Down: []int{a}},
				Target: a, Runbooks: []string{"peer-network-recovery"},
			}
		},
	},

	{
		Name: "a non-transitive partition: a and b lose each other, c still sees both", Section: Threshold, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			p := e.Pick(3)
			a, b, c := p[0], p[1], p[2]
			return scenario.Plan{
				Faults:          []fault.Fault{fault.Cut([2]int{a, b})},
				BeyondThreshold: e.T < 2, // two parties touched, though the cluster keeps t+1 everywhere
				Detect: []probe.Probe{probe.PeerUnreachable(a, b, "connection refused"), probe.PeerUnreachable(b, a, "connection refused"),
					probe.PeerReachable(c, a), probe.PeerReachable(c, b)},
				During: check.Expect{Live: e.Others()},
				Target: a, Runbooks: []string{"peer-network-recovery"},
			}
		},
	},

	{
		Name: "a flapping link: the health check sees the peer come and go", Section: Threshold, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			p := e.Pick(2)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Flapping(p[0], p[1], timings.Threshold.FlapPeriod)},
				Detect: []probe.Probe{flaps(p[0], p[1], timings.Threshold.FlapWindow)},
				During: check.Expect{Live: e.Others(), MinLive: 0.8},
				Target: p[0], Runbooks: []string{"peer-network-recovery"},
			}
		},
	},

	{
		Name: "missing PRSS: the party warns and answers NotFound; the guide's re-initialisation fails as written, a full one recovers", Section: Threshold, Long: true, Labels: []string{fault.PRSS},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			// The guide's kms-init names kms-threshold-{1..4}, and sets
			// up the default epoch, the only one the real one knows:
			// whatever the party, some of the four hold it, and kms-init
			// panics on the first refusal. What it prints names no
			// reason: InvalidArgument and the request id only.
			defect := scenario.Defect{Step: "prss-reinit-as-written/kms-init as written",
				Reason: `(?s)exit status 1, want 0: .*panicked at core/service/src/bin/kms-init\.rs.*code: InvalidArgument, message: "Failed on requestID ` + material.DefaultEpochID + ` with metric new_mpc_epoch"`}
			says := fmt.Sprintf("PRSS re-initialisation as written cannot repair party %d: kms-init sets up the default epoch only (the real one has no other: core/service/src/bin/kms-init.rs), which the parties of kms-threshold-{1..4} already hold, so it panics on the first refusal, told only InvalidArgument \"Failed on requestID … with metric new_mpc_epoch\" (the reason, \"Epoch ID … already exists\", is in that party's log alone)", k)
			return scenario.Plan{
				Defects: []string{says, "13-Party Threshold Network Issues > Diagnostic Steps > 2. PRSS Setup Verification: \"Verify PRSS setup using kms-health-check tool\" cannot work: the real kms-health-check has no PRSS check (tools/kms-health-check/src/output.rs prints config, connectivity, key material, operator key and peers); a party without PRSS is graded Optimal. Only its start-up warning and a decryption it coordinates (NotFound) show it"},
				Faults:  []fault.Fault{fault.Remove(k, fault.PRSSEpochData)},
				Detect: []probe.Probe{
					probe.LogSays(k, "WARN kms_server: No epoch data found in storage"),
					// The real health check has no PRSS section: it grades
					// this party Optimal.
					probe.HealthStatus(k, "Optimal"),
					probe.DecryptFails(k, "NotFound", "Epoch "+material.DefaultEpochID+" not found"),
				},
				During:       check.Expect{Live: e.Others(k), Down: []int{k}},
				Target:       k,
				Runbooks:     []string{"prss-reinit-as-written", "prss-reinit"},
				ExpectDefect: defect,
			}
		},
	},

	{
		Name: "corrupt PRSS data: the party refuses to start and crash-loops; removing it and re-initialising recovers", Section: Threshold, Labels: []string{fault.PRSS},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.Flip(k, fault.PRSSEpochData)},
				Detect: []probe.Probe{
					probe.CrashLooping(k),
					probe.LogSays(k, "reading failed for EpochData with id "+material.DefaultEpochID),
				},
				During: check.Expect{Live: e.Others(k)},
				Target: k, Runbooks: []string{"prss-remove-bad-epoch", "prss-reinit"},
			}
		},
	},

	{
		Name: "silently wrong PRSS: the peers catch the party at run time and name it", Section: Threshold, Labels: []string{fault.PRSS},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			inconsistent := fmt.Sprintf(`ERROR kms_server: PRSS share inconsistent with the other parties'[^\n]* party="?%d\b`, k)
			return scenario.Plan{
				Faults: []fault.Fault{fault.ScramblePRSS(k)},
				Detect: []probe.Probe{probe.AnyLogSays(inconsistent)},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"prss-reinit"},
				Recovered: []probe.Probe{probe.LogQuiet(e.Others(k), inconsistent, timings.Threshold.InvalidSharesSteady)},
			}
		},
	},

	{
		Name: "a new PRSS epoch while a party is unreachable fails on every party, and the parties' logs name it", Section: Threshold, Long: true, Labels: []string{fault.Network, fault.PRSS},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults:       []fault.Fault{fault.Isolate(k)},
				Detect:       []probe.Probe{initFailsNaming(k)},
				DetectWithin: timings.Threshold.InitFailsWithin,
				During:       check.Expect{Live: e.Others(k), Down: []int{k}},
				Target:       k, Runbooks: []string{"kms-init-after-heal"},
				Defects: []string{`the guide's "Check PRSS initialization completed across all 13 parties" has no tool that names an unreachable party: on a running cluster the real kms-init cannot run at all (it knows only DEFAULT_EPOCH_ID, which every party holds, and panics on the first InvalidArgument), and a new epoch is the core-client's new-epoch, which, like kms-init, reports only a gRPC code and "Failed on requestID … with metric …" (core/service/src/engine/utils.rs, From<MetricedError> for Status): the party the set-up waited for is named in the other parties' logs alone`},
			}
		},
	},

	// The guide's own threshold, at its boundary: "Your party needs
	// connectivity to at least 4 other parties for t=4 threshold operations"
	// and the symptom "Peer connectivity failures (< 5 parties reachable)".
	// With exactly t+1 parties left (5 of 13, 2 of 4) decryption must still
	// work; one fewer must fail closed, which "all but t parties killed"
	// (process.go) proves.
	{
		Name: "exactly t+1 parties reachable (the guide's threshold): every one still decrypts right, though the health check grades it Unhealthy", Section: Threshold, Labels: []string{fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			alive := e.Pick(e.T + 1)
			dead := e.Others(alive...)
			return scenario.Plan{
				Faults:          []fault.Fault{fault.Kill(dead...)},
				BeyondThreshold: true, // n-(t+1) = 2t parties away, more than t
				Detect: []probe.Probe{
					probe.Killed(dead[0]),
					// "Check your party's connectivity to others using kms-health-check"
					probe.HealthStatus(alive[0], "Unhealthy"),
					probe.HealthCheckSays(alive[0], fmt.Sprintf(`%d of %d peers reachable`, e.T, e.N-1)),
					probe.Decrypts(alive...),
				},
				During: check.Expect{Live: alive, Down: dead},
				Target: alive[0], Runbooks: []string{"start-parties"}, Vars: map[string]string{"targets": list(dead)},
				Defects: []string{fmt.Sprintf("at exactly t+1 = %d parties reachable the cluster still decrypts, as the guide's threshold says (symptom only below it: \"< 5 parties reachable\"), but every party grades itself Unhealthy (kms-health-check: \"Critical: Only %d peers reachable, but %d required nodes for threshold operations\"): an operator alerting on that grade pages for a cluster that still serves, and the guide does not say which to believe", e.T+1, e.T, e.T+1)},
			}
		},
	},

	// More than t parties down, one at a time, judged with the client the
	// Helm chart deploys (quorum.go).
	{
		Name: "parties killed one by one past t: the chart's core-client stops at the first one down, while the pages call the cluster operational", Section: Threshold, Labels: []string{fault.Process},
		Build: quorumScenario,
	},

	// Issue 23 item 4, the real KMS's operations pages
	// (docs/operations/advanced/common-errors.md:60-77): a party "very
	// late" for a request "will never be able to catch up for this specific
	// request". The late party learns it from its peers' Status::Completed
	// and logs it at WARN (threshold-networking
	// sending_service/service.rs:251-260; kms/service/late.go). The pages
	// give no procedure: ours checks that the party keeps up with the
	// sessions that follow.
	{
		Name: "a late party cannot join the sessions that moved on: it says so in its log, and keeps up with the next ones", Section: Threshold, Labels: []string{fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			late := e.One()
			others := e.Others(late)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Late(late, others[0])},
				Detect: []probe.Probe{probe.LogSays(late, sessionCompleted(itoa(others[0])))},
				During: check.Expect{Live: others},
				Target: late, Runbooks: []string{"late-party"},
				Recovered: []probe.Probe{probe.LogQuiet([]int{late}, sessionCompleted(`\d+`), timings.Threshold.LateSteady)},
				Defects: []string{
					`the operations pages (docs/operations/advanced/common-errors.md) show a late party by "ERROR distributed_decryption::networking::grpc: msg="unknown session id SessionId(..) for from sender .."", which the real party prints nowhere any more: a message for a session it has not started opens an Inactive session (threshold-networking grpc/server.rs), and the late party's own line is "WARN ... Failed to send message to SingleSet(<id>) party since it claims the session is already completed"`,
					"the operations pages say a very late party can never catch up on that request and give no procedure: nothing says the request is lost only for that party, that it keeps up with the next ones by itself, nor what to check",
				},
			}
		},
	},

	initJobWaitsOnACore(),
	initReachedSomeParties(),
}

// sessionCompleted is the real late sender's line naming the party whose
// session moved on (sending_service/service.rs:258).
func sessionCompleted(party string) string {
	return `WARN kms_server: Failed to send message to SingleSet\(` + party + `\) party since it claims the session is already completed`
}
