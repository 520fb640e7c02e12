package metrics

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MinSysInterval is sysinfo's MINIMUM_CPU_UPDATE_INTERVAL on Linux: the
// real loop waits it before its first sample and never samples faster.
const MinSysInterval = 200 * time.Millisecond

// SampleSystem sets the machine gauges from proc (/proc) as the real
// start_sys_metrics_collection does (observability/src/sys_metrics.rs,
// sysinfo 0.38 on Linux), until ctx ends:
//
//   - kms_total_memory is MemTotal of proc/meminfo, set once at start;
//   - kms_memory_usage is MemTotal - MemAvailable, also read once at start:
//     the real loop refreshes only processes, never memory, so every sample
//     sets the value read at start again;
//   - kms_cpu_load is the 1-minute load average of proc/loadavg divided by
//     the CPUs of proc/stat, every max(every, 200 ms) after a first wait
//     of 200 ms.
//
// In a container these are the host's: /proc/meminfo, /proc/loadavg and
// /proc/stat are not namespaced.
//
// It returns what the real party logs at start: CPUs, total and free memory.
func (m *Metrics) SampleSystem(ctx context.Context, proc string, every time.Duration) (cpus int, total, free uint64) {
	cpus = countCPUs(readFile(filepath.Join(proc, "stat")))
	total, used, free := memInfo(readFile(filepath.Join(proc, "meminfo")))
	if total != 0 { // the real record_total_memory ignores 0
		m.TotalMemory.Set(float64(total))
	}
	every = max(every, MinSysInterval)
	go func() {
		wait := MinSysInterval
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			m.CPULoad.Set(loadOne(readFile(filepath.Join(proc, "loadavg"))) / float64(cpus))
			m.MemoryUsage.Set(float64(used))
			wait = every
		}
	}()
	return cpus, total, free
}

func readFile(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}

// countCPUs counts the cpu<N> lines of /proc/stat, as sysinfo lists CPUs.
func countCPUs(stat []byte) int {
	n := 0
	for line := range bytes.Lines(stat) {
		if rest, ok := bytes.CutPrefix(line, []byte("cpu")); ok && len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
			n++
		}
	}
	return n
}

// memInfo is sysinfo's refresh_memory_specifics: MemTotal, and used as
// MemTotal - MemAvailable, MemAvailable estimated from MemFree, Buffers,
// Cached, SReclaimable and Shmem on kernels without it (< 3.14); and
// MemFree. Bytes.
func memInfo(b []byte) (total, used, free uint64) {
	f := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kib, err := strconv.ParseUint(strings.Fields(val + " 0")[0], 10, 64)
		if err == nil {
			f[key] = kib * 1024
		}
	}
	avail, ok := f["MemAvailable"]
	if !ok {
		avail = f["MemFree"] + f["Buffers"] + f["Cached"] + f["SReclaimable"]
		avail -= min(avail, f["Shmem"])
	}
	total = f["MemTotal"]
	return total, total - min(total, avail), f["MemFree"]
}

// loadOne is the 1-minute load average of /proc/loadavg (0 if unreadable).
func loadOne(b []byte) float64 {
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(fields[0], 64)
	return v
}
