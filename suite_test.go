package kmschaos_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/docker"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/secrets"
)

// The scenario suite. catalog_test.go registers the catalog (package
// scenarios, plain data) as one spec per scenario; the other files hold
// the specs that are no scenario of the catalog, each named after what it
// tests: the harness's own verdicts (meta_test.go, meta_verdicts_test.go,
// secrets_test.go), the guide run as written (guide_literal_test.go,
// guide_monitoring_test.go, key_inventory_test.go), the cluster without a
// fault (steady_state_test.go), non_party_test.go and cleanup_test.go;
// scorecard_test.go writes the run's scorecard.

// TestKmschaos runs every scenario against a shared cluster
// (KMSCHAOS_N/KMSCHAOS_T parties, 13/4 by default). Run with Ginkgo's
// parallel processes (make test does), each process brings up a cluster
// of its own and takes the next scenario when it is free; the first
// process builds the images once and writes the one scorecard.
func TestKmschaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the scenario suite brings up a cluster per process; skipped with -short (make check)")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "kmschaos")
}

// shared is what the first process hands every process before any
// cluster starts: one seed for the whole run, the images built once.
type shared struct {
	Seed   uint64         `json:"seed"`
	Images cluster.Images `json:"images"`
}

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	s, err := env.FromEnvironment()
	Expect(err).NotTo(HaveOccurred())
	// The results store, opened before anything runs: one that cannot
	// be used stops the suite here, naming it.
	Expect(beginRecording(ctx)).To(Succeed())
	fmt.Fprintf(GinkgoWriter, "kmschaos: n=%d t=%d seed=%d, %d cluster(s) at once (set KMSCHAOS_SEED=%d to replay)\n",
		s.N, s.T, s.Seed, processes(), s.Seed)
	Expect(report.ClearParts(s.ReportDir)).To(Succeed())
	dc, err := docker.Client(ctx)
	Expect(err).NotTo(HaveOccurred())
	images, err := docker.BuildImages(ctx, dc, progress)
	Expect(err).NotTo(HaveOccurred())
	builtImages = images
	b, err := json.Marshal(shared{Seed: s.Seed, Images: images})
	Expect(err).NotTo(HaveOccurred())
	return b
}, func(ctx SpecContext, b []byte) {
	var sh shared
	Expect(json.Unmarshal(b, &sh)).To(Succeed())
	s, err := env.FromEnvironment()
	Expect(err).NotTo(HaveOccurred())
	s.Seed = sh.Seed
	AddReportEntry("seed", s.Seed)
	// The images are the first process's: it removes them when every
	// process has ended, not the first cluster to stop.
	Expect(env.Start(ctx, s, progress, sh.Images)).To(Succeed())
	// The cluster's secrets, in memory only, and every one it makes
	// during the run (a runbook's fresh epoch): redacted from captured
	// output from now on, and searched for in every report at the end.
	tracked, err := secrets.Track(ctx, env.Cluster())
	Expect(err).NotTo(HaveOccurred())
	Expect(tracked.Set().Len()).To(BeNumerically(">", 0), "no secret found to scan for")
	clusterSecrets = tracked
}, NodeTimeout(timings.SuiteStart))

func progress(msg string) { fmt.Fprintln(GinkgoWriter, "kmschaos:", msg) }

// clusterSecrets are the secrets of this process's cluster, every one it
// held at any point, kept in memory for the reports written after the
// cluster is gone.
var clusterSecrets *secrets.Tracker

// Every spec's report is searched for this process's secrets by this
// process: the first process, which writes junit.xml, knows only its own
// cluster's.
var _ = ReportAfterEach(func(r SpecReport) {
	if clusterSecrets == nil {
		return
	}
	text := []string{r.CapturedGinkgoWriterOutput, r.CapturedStdOutErr, r.Failure.Message, r.Failure.Location.FullStackTrace}
	for _, e := range r.ReportEntries {
		text = append(text, e.StringRepresentation())
	}
	Expect(clusterSecrets.Set().Check("the report of "+r.FullText(), []byte(strings.Join(text, "\n")))).To(Succeed())
})

// JUnit for CI and Ginkgo's JSON, beside the scorecard; then no report
// may hold a secret of the (first process's) cluster.
var _ = ReportAfterSuite("kmschaos reports", func(r Report) {
	dir := env.ReportDir()
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	Expect(reporters.GenerateJUnitReport(r, filepath.Join(dir, "junit.xml"))).To(Succeed())
	Expect(reporters.GenerateJSONReport(r, filepath.Join(dir, "ginkgo.json"))).To(Succeed())
	if clusterSecrets != nil {
		Expect(clusterSecrets.Err()).NotTo(HaveOccurred(), "a secret the scan could not read")
		Expect(secrets.Scan(dir, clusterSecrets.Set())).To(Succeed())
	}
})

var _ = SynchronizedAfterSuite(func(ctx SpecContext) {
	// Every process: its part of the scorecard, checked for its secrets;
	// then its cluster's logs and storage, while it still runs.
	var check = func(string, []byte) error { return nil }
	var leak error
	if clusterSecrets != nil {
		leak = scanPartyLogs(ctx)
		check = clusterSecrets.Set().Check
	}
	err := writePart(env.ReportDir(), GinkgoParallelProcess(), check)
	stop := env.Stop(context.WithoutCancel(ctx))
	if stop != nil {
		// Said again after the scorecard (the Makefile prints these files
		// last): a CI log cut to its tail still shows why.
		_ = os.WriteFile(filepath.Join(env.ReportDir(), fmt.Sprintf("teardown-%d.txt", GinkgoParallelProcess())),
			[]byte(fmt.Sprintf("process %d: tearing its cluster down failed: %v\n", GinkgoParallelProcess(), stop)), 0o644)
	}
	Expect(stop).NotTo(HaveOccurred())
	Expect(err).NotTo(HaveOccurred())
	Expect(leak).NotTo(HaveOccurred())
}, func(ctx SpecContext) {
	// The first process, once every process has ended: one scorecard.
	paths, err := writeReports(env.ReportDir(), processes())
	if err == nil {
		fmt.Fprintf(GinkgoWriter, "kmschaos: scorecard written to %v\n", paths)
	}
	var scan error
	if clusterSecrets != nil {
		scan = errors.Join(clusterSecrets.Err(), secrets.Scan(env.ReportDir(), clusterSecrets.Set()))
	}
	var rm error
	if c := env.Current(); !c.KeepImages {
		rm = removeImages(ctx)
	}
	Expect(err).NotTo(HaveOccurred())
	Expect(scan).NotTo(HaveOccurred())
	Expect(rm).NotTo(HaveOccurred())
}, NodeTimeout(timings.SuiteEnd))

// timings are the suite's bounds: fixtures/intervals.yaml, scenarios.
var timings = fixtures.Intervals.Scenarios

// builtImages are the images the first process built for every process.
var builtImages cluster.Images

// removeImages removes the images the first process built for the run.
func removeImages(ctx context.Context) error {
	dc, err := docker.Client(ctx)
	if err != nil {
		return err
	}
	return docker.RemoveImages(ctx, dc, builtImages)
}

// scanPartyLogs searches the parties' logs for any secret the cluster
// held at any point of the run (epochs a runbook made included), read once
// more now.
func scanPartyLogs(ctx context.Context) error {
	c := env.Cluster()
	if _, err := c.Storage(ctx); err != nil { // the tracker reads what is new
		return fmt.Errorf("reading the cluster's storage: %w", err)
	}
	return errors.Join(clusterSecrets.Err(), secrets.ScanPartyLogs(ctx, c, clusterSecrets.Set()))
}
