package scenarios

import (
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
)

// Performance Issues: slow responses, high CPU, request timeouts.

// objective is the decryption latency a healthy cluster stays under on
// these machines (a decryption costs about 30 ms of CPU over 13 parties).
var objective = timings.Performance.Objective

var performanceIssues = []scenario.Scenario{
	{
		Name: "latency and jitter on one party's links break the latency objective and show per peer", Section: Performance, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			o := e.Others(k)[0]
			return scenario.Plan{
				Faults: []fault.Fault{fault.Latency([]int{k}, timings.Performance.PartyLatency, timings.Performance.PartyJitter)},
				Detect: []probe.Probe{
					probe.PeerLatency(o, k, timings.Performance.PartySlowPing, timings.Performance.PingMax),
					probe.PeerLatency(k, o, timings.Performance.PartySlowPing, timings.Performance.PingMax),
					DecryptSlower(k, objective),
				},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"network-optimisation"},
				Recovered: []probe.Probe{decryptFaster(k, objective)},
			}
		},
	},

	{
		Name: "latency on t parties: the health check names every slow party", Section: Performance, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			slow := e.Pick(e.T)
			o := e.Others(slow...)[0]
			var detect []probe.Probe
			for _, s := range slow {
				detect = append(detect, probe.PeerLatency(o, s, timings.Performance.TSlowPing, timings.Performance.PingMax))
			}
			detect = append(detect, probe.PeerLatency(o, e.Others(append(slow, o)...)[0], 0, timings.Performance.FastPing))
			return scenario.Plan{
				Faults: []fault.Fault{fault.Latency(slow, timings.Performance.TLatency, timings.Performance.TJitter)},
				Detect: detect,
				During: check.Expect{Live: e.Others()},
				Target: o, Runbooks: []string{"network-optimisation"},
			}
		},
	},

	{
		Name: "a bandwidth cap times out large requests while small ones pass", Section: Performance, Labels: []string{fault.Network},
		Build: func(e *scenario.Env) scenario.Plan {
			i := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.Bandwidth(i, 2)},
				Detect: []probe.Probe{bandwidthStarved(i)},
				During: check.Expect{Live: e.Others()},
				Target: i, Runbooks: []string{"network-optimisation"},
				Recovered: []probe.Probe{largeRequestsPass(i)},
			}
		},
	},

	// "High CPU/memory usage" (Symptoms), short of an OOM kill: the limit
	// is lowered near what the party uses, while it runs. The guide's
	// diagnostics: "Monitor real-time resource usage (CPU, memory, disk
	// I/O)" and, at start-up, "Check resource limits and requests"; its
	// docker stats line is read from the engine (MEM USAGE / LIMIT).
	{
		Name: "memory pressure below the limit: docker stats shows the party near its limit, it keeps serving right and is never OOM-killed; raising the limit recovers it", Section: Performance, Labels: []string{fault.Resources},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			alive := neverRestarted(k)
			return scenario.Plan{
				Faults: []fault.Fault{fault.MemoryPressure(k, 0.85)},
				// The kernel reclaims page cache under the limit, so what docker
				// stats shows settles below the 85% the limit was set for.
				Detect: []probe.Probe{memoryPressure(k, 0.6), alive},
				// The party keeps coordinating under the pressure.
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"raise-memory-limit"},
				Recovered: []probe.Probe{alive},
			}
		},
	},

	{
		Name: "a CPU-starved party is slow to coordinate; scaling its CPU back recovers it", Section: Performance, Labels: []string{fault.Resources},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.CPUQuota(k, 0.02)},
				Detect: []probe.Probe{DecryptSlower(k, objective)},
				During: check.Expect{Live: e.Others(k)},
				Target: k, Runbooks: []string{"scale-resources"},
				Recovered: []probe.Probe{decryptFaster(k, objective)},
			}
		},
	},
}
