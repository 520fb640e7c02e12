package results

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
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

// benchRuns is the size of the benchmarks' store: KMSCHAOS_BENCH_RUNS
// runs (10,000) × 60 scenarios, labelled release=0 … in hundreds.
func benchRuns() int {
	if v, err := strconv.Atoi(os.Getenv("KMSCHAOS_BENCH_RUNS")); err == nil && v > 0 {
		return v
	}
	return 10000
}

// benchStore is a SQLite store of benchRuns runs, built once for all the
// benchmarks of the process and removed when they end (TestMain):
// recording 10,000 runs one by one takes minutes, so it is written as
// Record writes it, in one transaction.
var benchStore struct {
	once  sync.Once
	where string
	err   error
}

func openBenchStore(b *testing.B) *Store {
	b.Helper()
	if testing.Short() {
		b.Skip("the benchmarks' store of 10,000 runs is not built under -short")
	}
	benchStore.once.Do(func() {
		dir, err := os.MkdirTemp("", "kmschaos-bench-")
		if err != nil {
			benchStore.err = err
			return
		}
		cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
		benchStore.where = filepath.Join(dir, "results.db")
		start := time.Now()
		benchStore.err = fillBenchStore(benchStore.where, benchRuns())
		fmt.Fprintf(os.Stderr, "bench fixture: %d runs × 60 scenarios written in %s\n", benchRuns(), time.Since(start).Round(time.Millisecond))
	})
	if benchStore.err != nil {
		b.Fatal(benchStore.err)
	}
	s, err := Open(context.Background(), benchStore.where)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// fillBenchStore writes runs catalog runs as Record writes them, all in
// one transaction.
func fillBenchStore(where string, runs int) error {
	ctx := context.Background()
	s, err := Open(ctx, where)
	if err != nil {
		return err
	}
	defer func() { _ = s.Close() }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for k := 0; k < runs; k++ {
		r := catalogRun(t0.Add(time.Duration(k)*time.Hour), k)
		m := Meta{ID: fmt.Sprintf("%012x", k), Commit: "bench", Labels: map[string]string{"release": strconv.Itoa(k / 100)}}
		if _, err := s.write(ctx, tx, r, m); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// BenchmarkHistory is `kmschaos history --label release=3 --last 5`
// and a plain `kmschaos history` over the benchmarks' store (target
// < 1 s each).
func BenchmarkHistory(b *testing.B) {
	s := openBenchStore(b)
	ctx := context.Background()
	for name, f := range map[string]Filter{"label": {Labels: map[string]string{"release": "3"}}, "all": {}} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := s.Runs(ctx, f, 20); err != nil {
					b.Fatal(err)
				}
				h, err := s.Scenarios(ctx, f, 5)
				if err != nil || len(h) != 60 || len(h[0].Last) != 5 {
					b.Fatalf("%d scenarios, %v", len(h), err)
				}
			}
		})
	}
}

// BenchmarkCompare is `kmschaos compare release=3 release=4` (100 runs
// a side) over the benchmarks' store (target < 1 s).
func BenchmarkCompare(b *testing.B) {
	s := openBenchStore(b)
	ctx := context.Background()
	a, c := Side{Spec: "release=3", Filter: Filter{Labels: map[string]string{"release": "3"}}}, Side{Spec: "release=4", Filter: Filter{Labels: map[string]string{"release": "4"}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmp, err := s.Compare(ctx, a, c, Filter{})
		if err != nil || len(cmp.Scenarios) != 60 || len(cmp.A.Runs) != 100 {
			b.Fatalf("%+v, %v", cmp, err)
		}
	}
}
