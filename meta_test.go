package kmschaos_test

import (
	"context"
	"path/filepath"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/localcluster"
	"github.com/kmschaos/kmschaos/scenarios"
)

// The harness itself: a scenario must turn red, naming the reason, when a
// detection does not happen or a runbook does not recover. These run the
// real runner on the real cluster; they stay out of the scorecard.

// metaRunbooks is the folder of the meta-specs' runbooks
// (fixtures/runbooks/meta): runbooks that are wrong on purpose.
func metaRunbooks() string {
	root, err := localcluster.ModuleRoot()
	Expect(err).NotTo(HaveOccurred())
	return filepath.Join(root, "fixtures", "runbooks", "meta")
}

func runMeta(ctx SpecContext, sc scenario.Scenario, runbookDir string) error {
	res, err := runMetaRow(ctx, sc, runbookDir)
	if res.Skipped != "" {
		// The backend cannot offer the verb the meta scenario needs
		// (pausing a party on Kubernetes): there is no verdict to show red.
		Skip(res.Skipped)
	}
	return err
}

// runMetaRow runs a meta scenario and returns its row, skipped or not: for
// the spec whose claim is about the skip itself.
func runMetaRow(ctx SpecContext, sc scenario.Scenario, runbookDir string) (report.Scenario, error) {
	return scenario.Run(ctx, env.Cluster(), sc, env.Rand(sc.Name), scenario.Options{
		RunbookDir: runbookDir,
		Alerts:     env.Alerts(),
		Cleanup: func(heal func(context.Context) error) {
			DeferCleanup(func(ctx SpecContext) error { return heal(ctx) }, NodeTimeout(timings.Heal))
		},
	})
}

var _ = Describe("The scenario runner", Label("meta"), func() {
	It("turns a scenario red, naming the probe, when the detection does not happen", func(ctx SpecContext) {
		sc := scenario.Scenario{Name: "meta: undetected", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				k := e.One()
				return scenario.Plan{
					// A party killed, but the scenario looks for a sign that
					// never comes: the party reporting Unhealthy is not how
					// the others see one dead peer.
					Faults:       []fault.Fault{fault.Kill(k)},
					Detect:       []probe.Probe{probe.HealthStatus(e.Others(k)[0], "Unhealthy")},
					DetectWithin: timings.Meta.UndetectedWithin,
					Target:       k,
				}
			}}
		err := runMeta(ctx, sc, "")
		Expect(err).To(MatchError(MatchRegexp(`detection did not happen within ` + regexp.QuoteMeta(timings.Meta.UndetectedWithin.String()) + `: "health check of party \d+ grades Unhealthy": last saw: grade "(Healthy|Optimal)"`)))
	})

	It("turns a scenario red, naming the last step, when the runbook does not recover the cluster", func(ctx SpecContext) {
		dir := metaRunbooks()
		sc := scenario.Scenario{Name: "meta: unrecovered", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				k := e.One()
				return scenario.Plan{
					Faults:        []fault.Fault{fault.Kill(k)},
					Detect:        []probe.Probe{probe.Killed(k)},
					Target:        k,
					Runbooks:      []string{"look-only"},
					RecoverWithin: timings.Meta.UnrecoveredWithin,
				}
			}}
		err := runMeta(ctx, sc, dir)
		Expect(err).To(MatchError(ContainSubstring(`did not recover after the runbooks (last step "look-only/Look at the storage, fix nothing")`)))
		Expect(err).To(MatchError(ContainSubstring("the fault outlived the scenario")))
	})

	// A port holder owns the party's network namespace: a party left there
	// looks running between its crashes, and its container's command is the
	// baseline's. The audit must still count it, and Reset undo it.
	It("counts a party left in a port holder's namespace as a fault left, and Reset undoes it", func(ctx SpecContext) {
		c := env.Cluster()
		_, err := c.Reset(ctx)
		Expect(err).NotTo(HaveOccurred())
		k := env.Rand("meta: port holder").IntN(c.Topology.N) + 1
		heal, err := fault.PortHeld(k, c.Profile.APIPort).Inject(ctx, c)
		if cluster.IsUnsupported(err) {
			Skip(err.Error()) // no port holder on this backend: nothing was injected
		}
		reset := false
		DeferCleanup(func(ctx SpecContext) error {
			if reset {
				return nil
			}
			return heal(ctx)
		}, NodeTimeout(timings.Heal))
		Expect(err).NotTo(HaveOccurred())

		rep, err := c.Audit(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Repaired[k]).To(ContainElement(HavePrefix("in the network namespace of ")), "audit: %s", rep)
		rep, err = c.Reset(ctx)
		reset = err == nil
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Repaired[k]).To(ContainElement(HavePrefix("in the network namespace of ")))
		rep, err = c.Audit(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Clean()).To(BeTrue(), "after Reset: %s", rep)
		st, err := c.Party(k).State(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.SharesNetworkOf).To(BeEmpty())
	})

	It("refuses a fault beyond t that the scenario does not declare", func(ctx SpecContext) {
		sc := scenario.Scenario{Name: "meta: over budget", Section: scenarios.ProcessSec,
			Build: func(e *scenario.Env) scenario.Plan {
				return scenario.Plan{Faults: []fault.Fault{fault.Kill(e.Pick(e.T + 1)...)}}
			}}
		Expect(runMeta(ctx, sc, "")).To(MatchError(ContainSubstring("fault budget exceeded")))
	})
})
