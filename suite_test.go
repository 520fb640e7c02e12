package kmschaos_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/scenarios"
)

// TestKmschaos runs every scenario against one shared cluster
// (KMSCHAOS_N/KMSCHAOS_T parties, 13/4 by default).
func TestKmschaos(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kmschaos")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	s, err := env.FromEnvironment()
	Expect(err).NotTo(HaveOccurred())
	fmt.Fprintf(GinkgoWriter, "kmschaos: n=%d t=%d seed=%d (set KMSCHAOS_SEED=%d to replay)\n", s.N, s.T, s.Seed, s.Seed)
	AddReportEntry("seed", s.Seed)
	Expect(env.Start(ctx, s, func(msg string) { fmt.Fprintln(GinkgoWriter, "kmschaos:", msg) })).To(Succeed())
}, NodeTimeout(10*time.Minute))

// JUnit for CI and Ginkgo's JSON, beside the scorecard.
var _ = ReportAfterSuite("kmschaos reports", func(r Report) {
	dir := env.ReportDir()
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	Expect(reporters.GenerateJUnitReport(r, filepath.Join(dir, "junit.xml"))).To(Succeed())
	Expect(reporters.GenerateJSONReport(r, filepath.Join(dir, "ginkgo.json"))).To(Succeed())
})

var _ = AfterSuite(func(ctx SpecContext) {
	paths, err := scenarios.WriteReports(env.ReportDir())
	if err == nil {
		fmt.Fprintf(GinkgoWriter, "kmschaos: scorecard written to %v\n", paths)
	}
	Expect(env.Stop(context.WithoutCancel(ctx))).To(Succeed())
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(3*time.Minute))
