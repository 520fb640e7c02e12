package cluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"testing"
	"time"

	kmsclient "github.com/kmschaos/kmschaos/kms/client"
)

// Run with: go test -run '^$' -bench . -benchtime 1x ./cluster/ (make bench).
// Each iteration is a whole cluster's life: bring-up, Reset, teardown.

func BenchmarkLifecycle(b *testing.B) {
	for _, topo := range []Topology{{4, 1}, {13, 4}} {
		for _, cold := range []bool{true, false} {
			name := fmt.Sprintf("n=%d/warm", topo.N)
			if cold {
				name = fmt.Sprintf("n=%d/cold", topo.N)
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					lifecycle(b, topo, cold)
				}
			})
		}
	}
}

func lifecycle(b *testing.B, topo Topology, cold bool) {
	ctx := context.Background()
	dc, err := DockerClient(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if cold {
		if _, err := removeImages(ctx, dc, ""); err != nil {
			b.Fatal(err)
		}
	}
	c, err := Start(ctx, WithTopology(topo.N, topo.T), WithKeptImages())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(c.Timings.Total.Seconds(), "bringup-s")
	b.ReportMetric(c.Timings.Images.Seconds(), "images-s")
	if _, total, err := c.MemoryUsage(ctx); err == nil {
		b.ReportMetric(float64(total)/(1<<20), "cluster-MiB")
	}
	start := time.Now()
	if _, err := c.Reset(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "reset-clean-ms")
	// A used cluster: one party killed, one link cut, one latency toxic.
	if err := c.Party(1).Kill(ctx); err != nil {
		b.Fatal(err)
	}
	c.Link(2, 3).Disable()
	c.Link(3, 2).AddToxic(Toxic{Type: "latency", Attributes: map[string]any{"latency": 100}})
	start = time.Now()
	if _, err := c.Reset(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "reset-used-s")
	start = time.Now()
	if err := c.Terminate(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "teardown-s")
}

// BenchmarkProxyHop is the latency the mesh adds to a decryption: the same
// decryptions on a 13-party cluster whose links are direct, then on one
// whose every link crosses toxiproxy.
func BenchmarkProxyHop(b *testing.B) {
	ctx := context.Background()
	const rounds = 100
	p50 := func(c *Cluster, endpoint string) time.Duration {
		ct, _ := c.Key.Encrypt(rand.Reader, 7)
		cl, err := kmsclient.Dial(endpoint)
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		var lat []time.Duration
		for range rounds {
			start := time.Now()
			d, err := cl.PublicDecryptSync(ctx, ct, "")
			if err != nil || d.Value != 7 {
				b.Fatalf("decrypt: %v", err)
			}
			lat = append(lat, time.Since(start))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return lat[len(lat)/2]
	}
	for b.Loop() {
		direct, err := Start(ctx, WithDirectLinks(), WithKeptImages())
		if err != nil {
			b.Fatal(err)
		}
		ep, err := direct.Party(1).DirectEndpoint(ctx)
		if err != nil {
			b.Fatal(err)
		}
		d := p50(direct, ep)
		direct.Terminate(ctx)
		mesh, err := Start(ctx, WithKeptImages())
		if err != nil {
			b.Fatal(err)
		}
		m := p50(mesh, mesh.Party(1).Endpoint())
		mesh.Terminate(ctx)
		b.ReportMetric(float64(d.Microseconds())/1000, "direct-p50-ms")
		b.ReportMetric(float64(m.Microseconds())/1000, "mesh-p50-ms")
		b.ReportMetric(float64((m-d).Microseconds())/1000, "added-ms")
	}
}
