// Package clusterbench holds the measurements the cluster benchmark takes
// the same way on every backend (cluster/docker's BenchmarkCluster,
// cluster/kube's BenchmarkKubernetesCluster), so their metrics keep one
// name and one meaning and read side by side.
package clusterbench

import (
	"context"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/toxics"
)

// BringUp reports the bring-up and its phases.
func BringUp(b *testing.B, c *cluster.Cluster) {
	b.Helper()
	b.ReportMetric(c.Timings.Total.Seconds(), "bringup-s")
	b.ReportMetric(c.Timings.Storage.Seconds(), "keygen-s")
	b.ReportMetric(c.Timings.Toxiproxy.Seconds(), "mesh-s")
	b.ReportMetric(c.Timings.Parties.Seconds(), "parties-s")
	b.ReportMetric(c.Timings.Init.Seconds(), "prss-init-s")
}

// Memory reports the run's memory, as the backend counts it, in MiB: the
// whole run, the largest party, the mesh.
func Memory(b *testing.B, total, party, mesh uint64) {
	b.Helper()
	b.ReportMetric(float64(total)/(1<<20), "cluster-MiB")
	b.ReportMetric(float64(party)/(1<<20), "party-max-MiB")
	b.ReportMetric(float64(mesh)/(1<<20), "toxiproxy-MiB")
}

// ResetAndAudit reports what the harness's per-scenario work costs: a
// Reset and the audit of a clean cluster, then a Reset of a used one (one
// party killed, one link cut, one latency toxic).
func ResetAndAudit(ctx context.Context, b *testing.B, c *cluster.Cluster) {
	b.Helper()
	start := time.Now()
	if _, err := c.Reset(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "reset-clean-ms")
	start = time.Now()
	if rep, err := c.Audit(ctx); err != nil || !rep.Clean() {
		b.Fatalf("audit of a clean cluster: %s %v", rep, err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "audit-clean-ms")
	// What a scenario's reset costs after the last one's clean audit,
	// nothing done in between: the parties are not read again.
	start = time.Now()
	if _, err := c.ResetUnlessClean(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "reset-after-audit-ms")
	if err := c.Party(1).Kill(ctx); err != nil {
		b.Fatal(err)
	}
	if err := c.Link(2, 3).Disable(); err != nil {
		b.Fatal(err)
	}
	if err := c.Link(3, 2).AddToxic(toxics.Latency(100*time.Millisecond, 0)); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if _, err := c.Reset(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "reset-used-s")
}
