package scenarios

import (
	"strings"

	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
)

// Process faults, used by several sections: kill, graceful stop, pause.

func list(ps []int) string {
	var s []string
	for _, p := range ps {
		s = append(s, itoa(p))
	}
	return strings.Join(s, ",")
}

var processFaults = []scenario.Scenario{
	{
		Name: "t parties killed: the cluster stays correct and live; starting them recovers", Section: ProcessSec, Labels: []string{fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			dead := e.Pick(e.T)
			alive := e.Others(dead...)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Kill(dead...)},
				Detect: []probe.Probe{probe.Killed(dead[0]), probe.HealthStatus(alive[0], "Healthy")},
				During: check.Expect{Live: alive, Down: dead},
				Target: alive[0], Runbooks: []string{"start-parties"}, Vars: map[string]string{"targets": list(dead)},
			}
		},
	},

	{
		// On Kubernetes a killed party is a StatefulSet scaled to zero;
		// the real KMS's operations pages bring it back with kubectl.
		Name: "a party scaled to zero is brought back with the operations pages' kubectl steps", Section: ProcessSec,
		Labels: []string{fault.Process, LabelKubernetes},
		Build: func(e *scenario.Env) scenario.Plan {
			p := e.One()
			alive := e.Others(p)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Kill(p)},
				Detect: []probe.Probe{probe.Killed(p), probe.HealthStatus(alive[0], "Healthy")},
				During: check.Expect{Live: alive, Down: []int{p}},
				Target: p, Runbooks: []string{"kubectl-scale-up"},
			}
		},
	},

	{
		// FAULTS.md says t+1 killed must fail closed. With n = 3t+1, t+1
		// killed leaves 2t >= t+1 parties, which still decrypt: the
		// cluster must stay live. Failing closed starts below t+1 (next).
		Name: "t+1 parties killed: 2t parties remain, still at least t+1, the cluster stays correct and live", Section: ProcessSec, Labels: []string{fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			dead := e.Pick(e.T + 1)
			alive := e.Others(dead...)
			return scenario.Plan{
				Faults:          []fault.Fault{fault.Kill(dead...)},
				BeyondThreshold: true,
				Detect:          []probe.Probe{probe.Killed(dead[0]), probe.HealthStatus(alive[0], "Degraded", "Unhealthy")},
				During:          check.Expect{Live: alive, Down: dead},
				Target:          alive[0], Runbooks: []string{"start-parties"}, Vars: map[string]string{"targets": list(dead)},
			}
		},
	},

	{
		Name: "all but t parties killed: every operation fails closed, nothing wrong; starting them recovers", Section: ProcessSec, Labels: []string{fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			alive := e.Pick(e.T)
			dead := e.Others(alive...)
			return scenario.Plan{
				Faults:          []fault.Fault{fault.Kill(dead...)},
				BeyondThreshold: true,
				Detect: []probe.Probe{probe.HealthStatus(alive[0], "Unhealthy"),
					probe.DecryptFails(alive[0], "Unavailable", "not enough valid decryption shares"),
					// /ready is the process's uptime, as the real party's.
					probe.Endpoint(alive[0], "/ready", 200, `^ready$`)},
				During: check.Expect{Down: e.Others()},
				Target: alive[0], Runbooks: []string{"start-parties"}, Vars: map[string]string{"targets": list(dead)},
				Defects: []string{`the guide's start-up symptom "StatefulSet not ready" never shows a lost threshold: with only t parties left every decryption fails, yet each party's /ready answers 200 "ready" (it says only that the process has run 10 s, as the real party's does); only kms-health-check (Unhealthy) shows it`},
			}
		},
	},

	{
		Name: "a graceful stop drains in-flight work and exits 0", Section: ProcessSec, Labels: []string{fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.Stop(k)},
				Detect: []probe.Probe{probe.Exited(k, 0), probe.LogSays(k, "Received shutdown signal, draining in-flight work(.|\n)*KMS server stopped")},
				During: check.Expect{Live: e.Others(k), Down: []int{k}},
				Target: k, Runbooks: []string{"start-parties"}, Vars: map[string]string{"targets": itoa(k)},
			}
		},
	},

	{
		Name: "t paused parties (gray failure): connections hang, peers time out, decryption stays right", Section: ProcessSec, Labels: []string{fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			frozen := e.Pick(e.T)
			alive := e.Others(frozen...)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Pause(frozen...)},
				Detect: []probe.Probe{probe.Paused(frozen[0]), probe.PeerUnreachable(alive[0], frozen[0], "Timeout after")},
				During: check.Expect{Live: alive},
				Target: alive[0], Runbooks: []string{"unpause"},
				Vars: map[string]string{"targets": list(frozen), "observer": itoa(alive[0])},
			}
		},
	},
}
