package storage

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's start time: 100 on
// every Linux the party runs on.
const clockTicks = 100

// processStart tells whether pid is alive in this process's pid namespace
// and, if known, when it started (Unix seconds), as the real sweep learns
// it from sysinfo: boot time plus /proc/<pid>/stat's start time.
func processStart(pid int) (start int64, alive, known bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, !os.IsNotExist(err), false
	}
	// Fields after the command, which is in parentheses and may hold any byte.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, true, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return 0, true, false
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64) // field 22, starttime
	boot, ok := bootTime()
	if err != nil || !ok {
		return 0, true, false
	}
	return boot + ticks/clockTicks, true, true
}

// bootTime is /proc/stat's btime.
func bootTime() (int64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
