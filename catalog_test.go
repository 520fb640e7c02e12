package kmschaos_test

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/localcluster"
	"github.com/kmschaos/kmschaos/scenarios"
)

// The catalog (package scenarios) as specs: a container per group, an It
// per scenario, labelled as `kmschaos scenarios` lists it.
var _ = func() bool {
	for _, g := range scenarios.Groups() {
		Describe(g.Name, func() {
			for _, e := range g.Entries {
				register(e)
			}
		})
	}
	return true
}()

// register makes a catalog entry a Ginkgo It against the shared cluster.
func register(e scenarios.CatalogEntry) {
	sc := e.Scenario
	It(sc.Name, Label(e.Labels...), priority(sc.Long), func(ctx SpecContext) {
		root, err := localcluster.ModuleRoot()
		Expect(err).NotTo(HaveOccurred())
		res, err := scenario.Run(ctx, env.Cluster(), sc, env.Rand(sc.Name), scenario.Options{
			RunbookDir: filepath.Join(root, "runbooks"),
			// The suite's parallel clusters share one machine's workload
			// budget: with two, each decrypts half as often.
			WorkloadShare: processes(),
			Alerts:        env.Alerts(),
			Cleanup: func(heal func(context.Context) error) {
				DeferCleanup(func(ctx SpecContext) error { return heal(ctx) }, NodeTimeout(timings.Heal))
			},
		})
		record(res)
		AddReportEntry("scorecard", oneLine(res))
		// A verb the backend cannot offer: the row says skipped, and so
		// does Ginkgo, neither passed nor failed (err is nil).
		if res.Result() == report.ResultSkip {
			Skip(res.Skipped)
		}
		Expect(err).NotTo(HaveOccurred(), "scenario %q", sc.Name)
	}, SpecTimeout(timings.Spec))
}

// processes is how many of the suite's clusters run at once (Ginkgo's
// parallel processes; 1 under go test).
func processes() int {
	cfg, _ := GinkgoConfiguration()
	return max(cfg.ParallelTotal, 1)
}

// priority schedules long specs first on the suite's parallel clusters.
func priority(long bool) SpecPriority {
	if long {
		return SpecPriority(1)
	}
	return SpecPriority(0)
}

func oneLine(r report.Scenario) string {
	return fmt.Sprintf("detected=%v ttd=%s recovered=%v ttr=%s ops=%d/%d/%d data_intact=%v defects=%d",
		r.Detected, r.TTD.Round(time.Millisecond), r.Recovered, r.TTR.Round(time.Millisecond),
		r.Ops.OK, r.Ops.Failed, r.Ops.Wrong, r.DataIntact, len(r.Defects))
}
