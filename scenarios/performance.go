package scenarios

import (
	"fmt"
	"strings"

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

	// "Rate limiter exhausted" (../shared/REAL-KMS.md, 6): the real party's
	// token bucket (core/service/src/util/rate_limiter.rs) refuses a public
	// decryption it has no token for, ResourceExhausted, until decryptions
	// in flight end. The bucket is lowered for the burst to exhaust it
	// (fault.RateLimitBurst says why); the party's own refusal, log line
	// and gauge are what the real party shows: the client gets only
	// "Failed on requestID <default id> with metric public_decrypt_request"
	// (MetricedError, core/service/src/engine/utils.rs), the limiter's
	// reason is in the log, and kms_rate_limiter_usage reads the full
	// bucket. The operations pages give no procedure: the runbook is the
	// harness's (the burst ends, bucket_size is restored).
	{
		Name: "the rate limiter exhausted under a burst answers resource_exhausted, its usage gauge saturated; the burst over and bucket_size restored, the party serves again", Section: Performance, Labels: []string{fault.Resources},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			// Four clients to a token: a decryption holds its token for tens of
			// ms and a client polls for its result, so fewer would leave the
			// bucket full only part of the time.
			const bucket, workers = 4, 16
			defaultID := "01" + strings.Repeat("00", 31)
			return scenario.Plan{
				Faults: []fault.Fault{fault.RateLimitBurst(k, bucket, workers)},
				Detect: []probe.Probe{
					probe.DecryptFails(k, "ResourceExhausted", "Failed on requestID "+defaultID+" with metric public_decrypt_request"),
					probe.LogSays(k, `ERROR kms_server: Grpc failure on requestID `+defaultID+` with metric public_decrypt_request and error code Some resource has been exhausted\. Error message: not enough tokens in bucket for pub_decrypt, need 1 from 0: no permits available`),
					rateLimiterSaturated(k, bucket),
				},
				// The gauge reads the whole bucket only when its 5 s sample
				// lands with every token held.
				DetectWithin: timings.Performance.RateLimitDetectWithin,
				During:       check.Expect{Live: e.Others(k)},
				Target:       k, Runbooks: []string{"rate-limit-burst"},
				Defects: []string{fmt.Sprintf(`the real operations pages give no procedure for an exhausted rate limiter: docs/operations/advanced/metrics.md says only "alert if kms_rate_limiter_usage saturates" and lists resource_exhausted among the error labels; nowhere do they say that the bucket bounds the decryptions in flight (not a rate), that saturation means usage equal to bucket_size (%d here), which no metric exports, that a refused request may be sent again as it is (a comment of core/service/src/engine/threshold/service/public_decryptor.rs), or how to raise bucket_size (only the chart's kmsCore.rateLimiter.bucketSize); and the client is told only "Failed on requestID %s with metric public_decrypt_request", the limiter's reason being in the party's log alone`, bucket, defaultID)},
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
