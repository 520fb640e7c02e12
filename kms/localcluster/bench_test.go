package localcluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/internal/benchsize"
)

// benchSizes are the sizes BENCH_N selects (default 4 7 10 13 16).
func benchSizes(b *testing.B) []benchsize.Size {
	b.Helper()
	sizes, err := benchsize.Sizes()
	if err != nil {
		b.Fatal(err)
	}
	return sizes
}

// benchCluster starts a loopback cluster of sz parties for a benchmark.
func benchCluster(b *testing.B, sz benchsize.Size) *Cluster {
	b.Helper()
	c, err := New(b.TempDir(), binDir, sz.N, sz.T)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	if err := c.StartAll(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := c.Init(ctx); err != nil {
		b.Fatalf("kms-init: %v\n%s", err, out)
	}
	return c
}

func percentile(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*p)]
}

// BenchmarkDecrypt is one threshold decryption end to end, client to
// result, on n parties on loopback, one at a time (latency) and with 8
// concurrent clients (throughput): the cost without containers or mesh.
func BenchmarkDecrypt(b *testing.B) {
	for _, sz := range benchSizes(b) {
		b.Run(sz.Name(), func(b *testing.B) { benchDecrypt(b, sz) })
	}
}

func benchDecrypt(b *testing.B, sz benchsize.Size) {
	b.Helper()
	c := benchCluster(b, sz)
	ct, _ := c.Key.Encrypt(rand.Reader, 1)
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		var lat []time.Duration
		i := 0
		for b.Loop() {
			start := time.Now()
			if v, err := c.Decrypt(ctx, i%sz.N+1, ct); err != nil || v != 1 {
				b.Fatalf("decrypt: %d, %v", v, err)
			}
			lat = append(lat, time.Since(start))
			i++
		}
		b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	})
	b.Run("concurrent8", func(b *testing.B) {
		var n atomic.Int64
		start := time.Now()
		b.SetParallelism(4) // 4 x GOMAXPROCS(2) = 8 clients
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(n.Add(1))
				if v, err := c.Decrypt(ctx, i%sz.N+1, ct); err != nil || v != 1 {
					b.Errorf("decrypt: %d, %v", v, err)
					return
				}
			}
		})
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "decryptions/s")
		// Peak resident memory of the busiest party after both runs.
		var peak int64
		for i := 1; i <= sz.N; i++ {
			if p, err := c.PeakRSS(i); err == nil && p > peak {
				peak = p
			}
		}
		b.ReportMetric(float64(peak)/(1<<20), "party-peak-MiB")
	})
}

// BenchmarkPRSSSetup is kms-init of a fresh epoch on n running parties.
func BenchmarkPRSSSetup(b *testing.B) {
	for _, sz := range benchSizes(b) {
		b.Run(sz.Name(), func(b *testing.B) { benchPRSSSetup(b, sz) })
	}
}

func benchPRSSSetup(b *testing.B, sz benchsize.Size) {
	b.Helper()
	c := benchCluster(b, sz)
	n := 0
	for b.Loop() {
		n++
		if out, err := c.NewEpoch(context.Background(), fmt.Sprintf("%064x", 1000+n)); err != nil {
			b.Fatalf("kms-client new-epoch: %v\n%s", err, out)
		}
	}
}
