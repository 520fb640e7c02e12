package docker

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/internal/benchsize"
	"github.com/kmschaos/kmschaos/internal/clusterbench"
	kmsclient "github.com/kmschaos/kmschaos/kms/client"
)

// Run with: go test -run '^$' -bench . -benchtime 1x ./cluster/docker/ (make bench).
// BENCH_N="4 13" picks the sizes (default 4 7 10 13 16, t = (n-1)/3);
// BENCH_COLD=1 also measures a build of the images from nothing, which
// removes every kmschaos image not in use, so it is off on a shared engine.

// BenchmarkCluster is the cost of a cluster as it grows: each size is a
// whole cluster's life — the images found unchanged (images-warm-s), the
// engine's floor (engine-floor-s: as many containers FROM scratch with no
// party logic, started at once) and bring-up's distance from it
// (bringup-over-floor-s, bringup/floor), bring-up to Optimal (with its PRSS set-up),
// memory, a decryption's latency through the mesh, Reset of a clean and of
// a used cluster, a fresh PRSS epoch on the running cluster, teardown.
func BenchmarkCluster(b *testing.B) {
	sizes, err := benchsize.Sizes()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	dc, err := Client(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer dc.Close()
	if os.Getenv("BENCH_COLD") == "1" {
		b.Run("images=cold", func(b *testing.B) {
			for b.Loop() {
				if _, err := removeImages(ctx, dc); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if _, err := BuildImages(ctx, dc, func(string) {}); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "images-s")
			}
		})
	}
	// Built (or found unchanged) once: every size then measures the
	// cluster, not the compiler.
	start := time.Now()
	images, err := BuildImages(ctx, dc, func(string) {})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("images ready in %s (sources keyed, unchanged images reused)", time.Since(start).Round(time.Millisecond))
	floor := floorImage(ctx, b, dc)
	for _, sz := range sizes {
		b.Run(sz.Name(), func(b *testing.B) {
			for b.Loop() {
				// What a warm `kmschaos up` adds before the cluster's
				// own bring-up: keying the sources, finding the images.
				start := time.Now()
				if _, err := BuildImages(ctx, dc, func(string) {}); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "images-warm-s")
				lifecycle(b, cluster.Topology{N: sz.N, T: sz.T}, images, floor)
			}
		})
	}
}

func lifecycle(b *testing.B, topo cluster.Topology, images cluster.Images, floorImage string) {
	b.Helper()
	ctx := context.Background()
	// The engine's floor first, with no cluster running: as many
	// containers as the cluster has (its parties, toxiproxy and the
	// keeper), FROM scratch, started at once. Bring-up's distance from
	// it is what the harness and the party add to the engine.
	dc, err := Client(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer dc.Close()
	floor := engineFloor(ctx, b, dc, floorImage, topo.N+2)
	c, err := Start(ctx, cluster.WithTopology(topo.N, topo.T), cluster.WithImages(images), cluster.WithKeptImages())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(floor.Seconds(), "engine-floor-s")
	b.ReportMetric((c.Timings.Total - floor).Seconds(), "bringup-over-floor-s")
	b.ReportMetric(c.Timings.Total.Seconds()/floor.Seconds(), "bringup/floor")
	// Whatever fails below, the cluster does not outlive the benchmark.
	terminated := false
	defer func() {
		if !terminated {
			_ = c.Terminate(context.Background())
		}
	}()
	clusterbench.BringUp(b, c)

	lat := decryptLatencies(b, c, c.Party(1).Endpoint(), 50)
	b.ReportMetric(ms(lat[len(lat)/2]), "decrypt-p50-ms")
	b.ReportMetric(ms(lat[len(lat)*9/10]), "decrypt-p90-ms")

	// Memory as `docker stats` counts it, after those decryptions.
	byName, total, err := MemoryUsage(ctx, dc, c.RunID)
	if err != nil {
		b.Fatal(err)
	}
	var party, mesh uint64
	for name, used := range byName {
		switch {
		case strings.HasSuffix(name, "-toxiproxy"):
			mesh = used
		case strings.HasSuffix(name, "-keeper"):
		default:
			party = max(party, used)
		}
	}
	clusterbench.Memory(b, total, party, mesh)

	clusterbench.ResetAndAudit(ctx, b, c)

	// A fresh epoch agreed by the running parties, as an operator's
	// new-epoch does: the PRSS set-up alone, without the parties' start.
	start := time.Now()
	res, err := c.NewEpoch(ctx, fmt.Sprintf("%064x", time.Now().UnixNano()))
	if err != nil {
		b.Fatal(err)
	}
	if res.ExitCode != 0 {
		b.Fatalf("kms-client new-epoch of a fresh epoch at %s:\n%s", topo, res.Output())
	}
	b.ReportMetric(time.Since(start).Seconds(), "prss-setup-s")

	start = time.Now()
	terminated = true
	if err := c.Terminate(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "teardown-s")
}

// decryptLatencies decrypts one ciphertext rounds times, one at a time,
// through endpoint, checking every result, and returns the latencies
// sorted.
func decryptLatencies(b *testing.B, c *cluster.Cluster, endpoint string, rounds int) []time.Duration {
	b.Helper()
	ctx := context.Background()
	ct, err := c.Key.Encrypt(rand.Reader, 7)
	if err != nil {
		b.Fatal(err)
	}
	cl, err := kmsclient.Dial(endpoint)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	var lat []time.Duration
	for range rounds {
		start := time.Now()
		d, err := cl.PublicDecryptSync(ctx, ct, "")
		if err != nil {
			b.Fatalf("decrypt: %v", err)
		}
		if d.Value != 7 {
			b.Fatalf("decrypt: got %d, want 7", d.Value)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkProxyHop is the latency the mesh adds to a decryption: the same
// decryptions on a 13-party cluster whose links are direct, then on one
// whose every link crosses toxiproxy.
func BenchmarkProxyHop(b *testing.B) {
	ctx := context.Background()
	const rounds = 100
	p50 := func(c *cluster.Cluster, endpoint string) time.Duration {
		return decryptLatencies(b, c, endpoint, rounds)[rounds/2]
	}
	// Each cluster is terminated even when a decryption fails the benchmark.
	measure := func(opts []cluster.Option, endpoint func(*cluster.Cluster) (string, error)) time.Duration {
		c, err := Start(ctx, append(opts, cluster.WithKeptImages())...)
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = c.Terminate(context.Background()) }()
		ep, err := endpoint(c)
		if err != nil {
			b.Fatal(err)
		}
		return p50(c, ep)
	}
	for b.Loop() {
		d := measure([]cluster.Option{cluster.WithDirectLinks()}, func(c *cluster.Cluster) (string, error) { return c.Party(1).DirectEndpoint(ctx) })
		m := measure(nil, func(c *cluster.Cluster) (string, error) { return c.Party(1).Endpoint(), nil })
		b.ReportMetric(ms(d), "direct-p50-ms")
		b.ReportMetric(ms(m), "mesh-p50-ms")
		b.ReportMetric(ms(m-d), "added-ms")
	}
}
