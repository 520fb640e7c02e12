package scenarios

import (
	"fmt"

	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
)

// Connectivity Issues: connection refused, timeouts, intermittent
// connectivity, DNS.

var connectivityIssues = []scenario.Scenario{
	{
		Name: "a refused client link is reported as [FAIL] Cannot connect, fast", Section: Connectivity, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			i := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.ClientRefused(i)},
				Detect: []probe.Probe{clientCheck(i, `\[FAIL\] Cannot connect: .*connection refused`, timings.Connectivity.RefusedCheck)},
				During: check.Expect{Live: e.Others(i), Down: []int{i}},
				Target: i, Runbooks: []string{"client-link-recovery"},
			}
		},
	},

	{
		Name: "a silently hanging client link is reported as a timeout within the tool's own bound", Section: Connectivity, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			i := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.ClientHang(i)},
				Detect: []probe.Probe{clientCheck(i, `\[FAIL\] Cannot connect: .*Timeout after 5s`, timings.Connectivity.HangCheck)},
				During: check.Expect{Live: e.Others(i), Down: []int{i}},
				Target: i, Runbooks: []string{"client-link-recovery"},
			}
		},
	},

	intermittent("intermittent connection resets: the peers log every share the party did not send; healed, the lines stop", func(j int) fault.Fault { return fault.Resets(j, 0.7) }),
	intermittent("connections cut after a few kilobytes: the peers log every share the party did not send; healed, the lines stop", func(j int) fault.Fault { return fault.LimitData(j, 2<<10) }),

	{
		Name: "a peer name that no longer resolves is named by the health check; the check by IP works", Section: Connectivity, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			p := e.Pick(2)
			i, j := p[0], p[1]
			return scenario.Plan{
				Faults: []fault.Fault{fault.DNSLoss(i, j)},
				Detect: []probe.Probe{probe.HealthCheckSays(i, fmt.Sprintf(`\[FAIL\] Party %d @ kms-peer-%d:\d+\n\s+Error: .*lookup kms-peer-%d.*no such host`, j, j, j))},
				During: check.Expect{Live: e.Others()},
				Target: i, Runbooks: []string{"dns-recovery"},
				Vars: map[string]string{"peer": fmt.Sprint(j), "peer_ip_port": e.C.PeerProxyAddr(i, j)},
			}
		},
	},
}

// intermittent is a link to one party that fails now and then: the
// coordinating peers log each share it did not send, and the lines stop
// once healed (the real KMS counts no failed peer call in a metric).
func intermittent(name string, f func(j int) fault.Fault) scenario.Scenario {
	return scenario.Scenario{
		Name: name, Section: Connectivity, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			j := e.One()
			noShare := fmt.Sprintf(`WARN kms_server: No decryption share from party[^\n]* party=%d\b`, j)
			return scenario.Plan{
				Faults: []fault.Fault{f(j)},
				Detect: []probe.Probe{probe.AnyLogSays(noShare)},
				During: check.Expect{Live: e.Others(j), MinLive: 0.8},
				Target: j, Runbooks: []string{"peer-network-recovery"},
				Recovered: []probe.Probe{probe.LogQuiet(e.Others(j), noShare, timings.Connectivity.PeerErrorsSteady)},
			}
		},
	}
}
