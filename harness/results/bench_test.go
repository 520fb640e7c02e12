package results

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// A run of the whole catalog's size: 60 scenarios in 6 sections.
func catalogRun(at time.Time, k int) *report.Run {
	r := &report.Run{Seed: uint64(k), N: 13, T: 4, Backend: "docker", Machine: "bench", Started: at, Duration: time.Hour}
	for i := 0; i < 60; i++ {
		r.Scenarios = append(r.Scenarios, report.Scenario{
			Name: fmt.Sprintf("scenario %02d", i), Section: fmt.Sprintf("section %d", i%6), Passed: (i+k)%17 != 0,
			TTD: time.Duration(1+i%5) * time.Second, TTR: time.Duration(5+(i+k)%9) * time.Second, RecoveredBy: report.ByGuide,
			Keys: report.KeysIntact, Ops: report.Ops{OK: 500, Failed: i}, Phases: report.Phases{Reset: time.Second, Runbook: 4 * time.Second},
		})
	}
	return r
}

// BenchmarkRecord is what recording adds to a run: one run of 60
// scenarios into a SQLite store that holds 200 already (target < 100 ms).
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "results.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for k := 0; k < 200; k++ {
		if _, err := s.Record(ctx, catalogRun(t0.Add(time.Duration(k)*time.Hour), k), Meta{Labels: map[string]string{"release": "1"}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Record(ctx, catalogRun(t0.Add(time.Duration(1000+i)*time.Hour), i), Meta{Labels: map[string]string{"release": "2"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistory is `kmschaos history --label release=… --last 5` over
// a SQLite store of KMSCHAOS_BENCH_RUNS runs (1000) × 60 scenarios.
func BenchmarkHistory(b *testing.B) {
	runs := 1000
	if v, err := strconv.Atoi(os.Getenv("KMSCHAOS_BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "results.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for k := 0; k < runs; k++ {
		if _, err := s.Record(ctx, catalogRun(t0.Add(time.Duration(k)*time.Hour), k), Meta{Labels: map[string]string{"release": strconv.Itoa(k / 100)}}); err != nil {
			b.Fatal(err)
		}
	}
	f := Filter{Labels: map[string]string{"release": "3"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Runs(ctx, f, 20); err != nil {
			b.Fatal(err)
		}
		h, err := s.Scenarios(ctx, f, 5)
		if err != nil || len(h) != 60 {
			b.Fatalf("%d scenarios, %v", len(h), err)
		}
	}
}
