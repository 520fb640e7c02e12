package metrics

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func fakeProc(t *testing.T, meminfo, loadavg string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"meminfo": meminfo,
		"loadavg": loadavg,
		"stat":    "cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 3 4\ncpu2 1 2 3 4\ncpu3 1 2 3 4\nintr 5\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func await(t *testing.T, what string, get func() float64, want float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for get() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", what, get(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The gauges read what the real ones read: total and used memory of the
// machine in bytes (used frozen at its start value, as the real loop never
// refreshes memory), and the 1-minute load average per CPU, followed.
func TestSampleSystem(t *testing.T) {
	proc := fakeProc(t, "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    250 kB\n", "2.00 1.00 0.50 1/100 42\n")
	m := New(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if cpus, total, free := m.SampleSystem(ctx, proc, time.Millisecond); cpus != 4 || total != 1000*1024 || free != 100*1024 {
		t.Errorf("SampleSystem says %d CPUs, %d total, %d free", cpus, total, free)
	}
	if got := testutil.ToFloat64(m.TotalMemory); got != 1000*1024 {
		t.Fatalf("kms_total_memory = %v right at start, want %v", got, 1000*1024)
	}
	await(t, "kms_memory_usage", func() float64 { return testutil.ToFloat64(m.MemoryUsage) }, 750*1024)
	await(t, "kms_cpu_load", func() float64 { return testutil.ToFloat64(m.CPULoad) }, 0.5)

	_ = os.WriteFile(filepath.Join(proc, "loadavg"), []byte("6.00 1.00 0.50 1/100 42\n"), 0o600)
	_ = os.WriteFile(filepath.Join(proc, "meminfo"), []byte("MemTotal: 1000 kB\nMemAvailable: 10 kB\n"), 0o600)
	await(t, "kms_cpu_load", func() float64 { return testutil.ToFloat64(m.CPULoad) }, 1.5)
	if got := testutil.ToFloat64(m.MemoryUsage); got != 750*1024 {
		t.Errorf("kms_memory_usage followed /proc/meminfo (%v): the real one keeps its start value", got)
	}
}

// Kernels before 3.14 have no MemAvailable: sysinfo estimates it.
func TestMemInfoWithoutMemAvailable(t *testing.T) {
	total, used, _ := memInfo([]byte("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 200 kB\nShmem: 20 kB\nSReclaimable: 30 kB\n"))
	if total != 1000*1024 || used != (1000-360)*1024 {
		t.Errorf("total %d used %d", total, used)
	}
}
