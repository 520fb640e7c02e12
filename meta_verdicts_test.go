package kmschaos_test

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/scenarios"
)

// Verdicts that must be able to fail: each spec breaks the cluster (or
// the guide) in one way the catalog's checks exist for, and proves the
// runner turns red for that reason and no other.

// lyingCoordinator recreates party k as a coordinator that returns every
// plaintext plus one (kms-server --test-only-lie); healing recreates it
// from the baseline.
func lyingCoordinator(k int) fault.Fault {
	return fault.New(fmt.Sprintf("party %d lies as coordinator (test only)", k), fault.Process, []int{k},
		func(ctx context.Context, c *cluster.Cluster) (fault.Heal, error) {
			heal := func(ctx context.Context) error {
				if err := c.Recreate(ctx, k); err != nil {
					return err
				}
				return awaitOptimal(ctx, c)
			}
			if err := c.RecreateWith(ctx, k, "--test-only-lie"); err != nil {
				return heal, err
			}
			return heal, awaitOptimal(ctx, c)
		})
}

func awaitOptimal(ctx context.Context, c *cluster.Cluster) error {
	ctx, cancel := context.WithTimeout(ctx, timings.Meta.Optimal)
	defer cancel()
	return c.AwaitOptimal(ctx)
}

// lies is the detection of the lying coordinator: its own warning.
func lies(k int) probe.Probe { return probe.LogSays(k, "TEST ONLY: --test-only-lie is set") }

// writeRunbook writes a runbook file into dir.
func writeRunbook(dir, name, body string) {
	Expect(os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(body), 0o644)).To(Succeed())
}

var _ = Describe("Verdicts that can fail", Label("meta"), func() {
	It("turns red when the workload sees a wrong value, naming party, value sent and value returned", func(ctx SpecContext) {
		dir := metaRunbooks()
		var k int
		err := runMeta(ctx, scenario.Scenario{Name: "meta: a lying coordinator seen by the workload", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				k = e.One()
				return scenario.Plan{Faults: []fault.Fault{lyingCoordinator(k)}, Detect: []probe.Probe{lies(k)},
					Target: k, Runbooks: []string{"heal-only"}}
			}}, dir)
		Expect(err).To(MatchError(MatchRegexp(`\d+ WRONG decryption\(s\): op \d+ via party %d at [0-9:.]+: decrypted (\d+), the ciphertext holds \d+`, k)))
	})

	It("turns red when a probe sees a wrong value", func(ctx SpecContext) {
		var k int
		err := runMeta(ctx, scenario.Scenario{Name: "meta: a lying coordinator seen by a probe", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				k = e.One()
				return scenario.Plan{Faults: []fault.Fault{lyingCoordinator(k)}, Detect: []probe.Probe{probe.Decrypts(k)},
					DetectWithin: timings.Meta.WrongValueWithin, NoWorkload: true, Target: k}
			}}, "")
		// Only the witness's verdict says "on record": the probe's own
		// error, quoted by the failed detection, does not.
		Expect(err).To(MatchError(MatchRegexp(`a WRONG decryption is on record: party %d returned \d+ for \d+ \(seen by probe: decrypts right through parties \[%d\]`, k, k)))
	})

	It("turns red when a runbook's check sees a wrong value", func(ctx SpecContext) {
		dir := metaRunbooks()
		var k int
		err := runMeta(ctx, scenario.Scenario{Name: "meta: a lying coordinator seen by a runbook check", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				k = e.One()
				return scenario.Plan{Faults: []fault.Fault{lyingCoordinator(k)}, Detect: []probe.Probe{lies(k)},
					NoWorkload: true, Target: k, Runbooks: []string{"check-decrypts"}}
			}}, dir)
		Expect(err).To(MatchError(ContainSubstring(`runbook step failed`)))
		Expect(err).To(MatchError(MatchRegexp(`a WRONG decryption is on record: party %d returned \d+ for \d+ \(seen by probe: decrypts right through parties \[%d\]`, k, k)))
	})

	It("turns red when the steady-state check sees a wrong value", func(ctx SpecContext) {
		var k int
		err := runMeta(ctx, scenario.Scenario{Name: "meta: a lying coordinator seen by the steady-state check", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				k = e.One()
				return scenario.Plan{Faults: []fault.Fault{lyingCoordinator(k)}, Detect: []probe.Probe{lies(k)},
					NoWorkload: true, Target: k, RecoverWithin: timings.Meta.LiesRecoverWithin}
			}}, "")
		Expect(err).To(MatchError(MatchRegexp(`a WRONG decryption is on record: party %d returned \d+ for \d+ \(seen by the steady-state check`, k)))
	})

	// A skip is no hiding place: a wrong value the workload saw before a
	// runbook step the backend cannot offer still turns the row red.
	It("turns red when the workload saw a wrong value before the scenario was skipped", func(ctx SpecContext) {
		dir := metaRunbooks()
		var k int
		res, err := runMetaRow(ctx, scenario.Scenario{Name: "meta: a lying coordinator, then a step the backend cannot offer", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				k = e.One()
				return scenario.Plan{Faults: []fault.Fault{lyingCoordinator(k)}, Detect: []probe.Probe{lies(k)},
					Target: k, Runbooks: []string{"unsupported-here"}}
			}}, dir)
		// runMetaRow does not turn a skipped row into a skipped spec: a
		// SKIP here is the red this spec exists to show.
		Expect(res.Result()).To(Equal(report.ResultFail), "the row: %s", res.Skipped)
		Expect(err).To(MatchError(MatchRegexp(`\d+ WRONG decryption\(s\): op \d+ via party %d`, k)))
		Expect(err).To(MatchError(MatchRegexp(`\(and the scenario was skipped: .*not supported`)))
		Expect(res.Ops.Wrong).To(BeNumerically(">", 0), "the row shows the wrong operations")
	})

	// The availability verdict: parties that must stay live under the
	// fault must have served. A plan that wrongly expects the killed party
	// to serve turns red, through that check and no other.
	It("turns red when a party that must stay live does not serve during the fault", func(ctx SpecContext) {
		dir := metaRunbooks()
		var k int
		err := runMeta(ctx, scenario.Scenario{Name: "meta: a killed party expected live", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				k = e.One()
				return scenario.Plan{Faults: []fault.Fault{fault.Kill(k)}, Detect: []probe.Probe{probe.HealthStatus(e.Others(k)[0], "Healthy")},
					During: check.Expect{Live: []int{k}}, Target: k, Runbooks: []string{"heal-only"}}
			}}, dir)
		Expect(err).To(MatchError(MatchRegexp(`only \d+ of \d+ operations through parties \[%d\] succeeded during the fault \(\d+%%, want at least 90%%\)`, k)))
	})

	It("does not let a log line written before the fault satisfy a detection", func(ctx SpecContext) {
		c := env.Cluster()
		_, err := c.Reset(ctx)
		Expect(err).NotTo(HaveOccurred())
		k := 1 + env.Rand(CurrentSpecReport().FullText()).IntN(c.Topology.N)
		const line = "Starting threshold KMS server"
		// The party's whole history has the line (from its start): the
		// old, unbounded read of the logs would have passed.
		Expect(c.Party(k).Logs(ctx)).To(ContainSubstring(line))
		nothing := fault.New(fmt.Sprintf("nothing at all done to party %d", k), fault.Process, []int{k},
			func(context.Context, *cluster.Cluster) (fault.Heal, error) { return nil, nil })
		err = runMeta(ctx, scenario.Scenario{Name: "meta: a stale log line", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				return scenario.Plan{Faults: []fault.Fault{nothing}, Detect: []probe.Probe{probe.LogSays(k, line)},
					DetectWithin: timings.Meta.StaleLogWithin, NoWorkload: true, Target: k}
			}}, "")
		Expect(err).To(MatchError(MatchRegexp(`detection did not happen within %s: "logs of party %d match /%s/": last saw: not in the \d+ bytes logged since the fault`, regexp.QuoteMeta(timings.Meta.StaleLogWithin.String()), k, line)))
	})

	It("turns red when a PRSS object is left changed", func(ctx SpecContext) {
		var k int
		err := runMeta(ctx, scenario.Scenario{Name: "meta: a PRSS epoch left corrupt", Section: scenarios.Threshold,
			Build: func(e *scenario.Env) scenario.Plan {
				k = e.One()
				file := path.Join(cluster.VolumePath(k, "keys"), fmt.Sprintf("PRIV-p%d", k), material.EpochData, material.DefaultEpochID)
				// The running party keeps its epoch in memory: it stays
				// Optimal and right, and only the audit can see the file.
				corrupt := fault.New(fmt.Sprintf("default epoch of party %d flipped on disk, never healed", k), fault.PRSS, []int{k},
					func(ctx context.Context, c *cluster.Cluster) (fault.Heal, error) {
						res, err := c.KeeperExec(ctx, "kms-admin", "flip", file)
						return nil, res.Check(err, "kms-admin flip")
					})
				return scenario.Plan{Faults: []fault.Fault{corrupt}, NoWorkload: true, Target: k,
					NoDetection: "the running party keeps its epoch in memory: only the audit reads the file"}
			}}, "")
		Expect(err).To(MatchError(MatchRegexp(`the fault outlived the scenario: .*party %d: .*EpochData`, k)))
	})

	It("turns red when the expected defect's step fails for another reason", func(ctx SpecContext) {
		dir := metaRunbooks()
		err := runMeta(ctx, scenario.Scenario{Name: "meta: a defect failing for another reason", Section: scenarios.Emergency,
			Build: func(e *scenario.Env) scenario.Plan {
				return scenario.Plan{Target: 1, Runbooks: []string{"fails-otherwise"}, NoWorkload: true,
					ExpectDefect: scenario.Defect{Step: "fails-otherwise/The guide's step", Reason: `permission denied`}}
			}}, dir)
		Expect(err).To(MatchError(MatchRegexp(`the guide's step "fails-otherwise/The guide's step" failed, but not as the scenario expects \(/permission denied/\): exit status \d+`)))
	})

	It("does not count a hung party as a slow one", func(ctx SpecContext) {
		var k int
		err := runMeta(ctx, scenario.Scenario{Name: "meta: a paused party is not CPU-starved", Section: scenarios.Performance,
			Build: func(e *scenario.Env) scenario.Plan {
				k = e.One()
				return scenario.Plan{Faults: []fault.Fault{fault.Pause(k)}, Detect: []probe.Probe{scenarios.DecryptSlower(k, timings.Performance.Objective)},
					DetectWithin: timings.Meta.PausedWithin, NoWorkload: true, Target: k}
			}}, "")
		Expect(err).To(MatchError(ContainSubstring("the party does not answer its API")))
		Expect(err).To(MatchError(ContainSubstring("it hangs, it is not slow")))
	})
	DescribeTable("refuses a bad runbook before anything is injected",
		func(ctx SpecContext, body, want string) {
			dir := GinkgoT().TempDir()
			writeRunbook(dir, "bad", body)
			var injected atomic.Bool
			err := runMeta(ctx, scenario.Scenario{Name: "meta: a bad runbook", Section: scenarios.ProcessSec,
				Build: func(e *scenario.Env) scenario.Plan {
					k := e.One()
					touch := fault.New(fmt.Sprintf("a fault that only notes it ran, party %d", k), fault.Process, []int{k},
						func(context.Context, *cluster.Cluster) (fault.Heal, error) { injected.Store(true); return nil, nil })
					return scenario.Plan{Faults: []fault.Fault{touch}, NoWorkload: true, Target: k, Runbooks: []string{"bad"}}
				}}, dir)
			Expect(err).To(MatchError(MatchRegexp(want)))
			Expect(injected.Load()).To(BeFalse(), "the fault was injected before the runbook was refused")
		},
		Entry("a bad regular expression", `name: bad
origin: repaired
steps:
  - name: Look
    exec: {in: keeper, command: [kms-admin, ls, /vaults]}
    expect: {output: "([unclosed"}
`, `bad.yaml: step 1 "Look": expect.output: error parsing regexp`),
		Entry("an unknown placeholder", `name: bad
origin: repaired
steps:
  - name: Look
    exec: {in: keeper, command: [kms-admin, ls, "{{no_such_thing}}"]}
`, `bad.yaml: step 1 "Look": .*no_such_thing`),
		Entry("an empty party list", `name: bad
origin: repaired
steps:
  - name: Restart nobody
    engine: {action: restart, parties: 4-1}
`, `bad.yaml: step 1 "Restart nobody": engine.parties: .*4-1`),
	)
})
