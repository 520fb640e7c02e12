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
	"github.com/kmschaos/kmschaos/harness/secrets"
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
	// The cluster's secrets, in memory only: redacted from captured
	// output from now on, and searched for in every report at the end.
	set, err := secrets.Collect(ctx, env.Cluster())
	Expect(err).NotTo(HaveOccurred())
	Expect(set.Len()).To(BeNumerically(">", 0), "no secret found to scan for")
	secrets.Use(set)
	clusterSecrets = set
}, NodeTimeout(10*time.Minute))

// clusterSecrets are the secrets of the shared cluster, kept in memory for
// the reports written after the cluster is gone (junit.xml, ginkgo.json).
var clusterSecrets *secrets.Set

// JUnit for CI and Ginkgo's JSON, beside the scorecard; then no report
// may hold a secret of the cluster.
var _ = ReportAfterSuite("kmschaos reports", func(r Report) {
	dir := env.ReportDir()
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	Expect(reporters.GenerateJUnitReport(r, filepath.Join(dir, "junit.xml"))).To(Succeed())
	Expect(reporters.GenerateJSONReport(r, filepath.Join(dir, "ginkgo.json"))).To(Succeed())
	if clusterSecrets != nil {
		Expect(secrets.Scan(dir, clusterSecrets)).To(Succeed())
	}
})

var _ = AfterSuite(func(ctx SpecContext) {
	paths, err := scenarios.WriteReports(env.ReportDir())
	if err == nil {
		fmt.Fprintf(GinkgoWriter, "kmschaos: scorecard written to %v\n", paths)
	}
	// Before the cluster stops: its storage now (epochs a runbook made
	// included) and its parties' logs are only readable while it runs.
	var leak error
	if clusterSecrets != nil {
		leak = scanForSecrets(ctx, env.ReportDir())
	}
	Expect(env.Stop(context.WithoutCancel(ctx))).To(Succeed())
	Expect(err).NotTo(HaveOccurred())
	Expect(leak).NotTo(HaveOccurred())
}, NodeTimeout(3*time.Minute))

// scanForSecrets searches the report directory and every party's logs
// for any secret the cluster held at the start or holds now.
func scanForSecrets(ctx context.Context, dir string) error {
	c := env.Cluster()
	now, err := secrets.Collect(ctx, c)
	if err != nil {
		return fmt.Errorf("collecting the cluster's secrets: %w", err)
	}
	clusterSecrets = secrets.Merge(clusterSecrets, now)
	if err := secrets.Scan(dir, clusterSecrets); err != nil {
		return err
	}
	return secrets.ScanPartyLogs(ctx, c, clusterSecrets)
}
