package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/report"
)

// The sections of the troubleshooting guide; their labels are in labels.go.
const (
	Startup      = "Service Startup Issues"
	Connectivity = "Connectivity Issues"
	Performance  = "Performance Issues"
	Threshold    = "13-Party Threshold Network Issues"
	StorageSec   = "Storage Backend Issues"
	KeysSec      = "Key Management Issues"
	ProcessSec   = "Process faults"
	Emergency    = "Emergency Procedures"
)

// results collects the scorecard of the run.
var results struct {
	mu        sync.Mutex
	scenarios []report.Scenario
	guide     []report.GuideBlock
	started   time.Time
}

func init() { results.started = time.Now() }

func record(s report.Scenario) {
	results.mu.Lock()
	defer results.mu.Unlock()
	results.scenarios = append(results.scenarios, s)
}

func oneLine(r report.Scenario) string {
	return fmt.Sprintf("detected=%v ttd=%s recovered=%v ttr=%s ops=%d/%d/%d data_intact=%v defects=%d",
		r.Detected, r.TTD.Round(time.Millisecond), r.Recovered, r.TTR.Round(time.Millisecond),
		r.Ops.OK, r.Ops.Failed, r.Ops.Wrong, r.DataIntact, len(r.Defects))
}

// WriteReports writes the scorecard of the run as JSON and HTML into dir
// and returns the paths.
func WriteReports(dir string) ([]string, error) {
	results.mu.Lock()
	defer results.mu.Unlock()
	s := env.Current()
	run := &report.Run{
		Seed: s.Seed, N: s.N, T: s.T, Started: results.started, Duration: time.Since(results.started),
		Machine:   machine(),
		Scenarios: append([]report.Scenario(nil), results.scenarios...),
	}
	if len(results.guide) > 0 {
		run.Guide = &report.Guide{Blocks: append([]report.GuideBlock(nil), results.guide...)}
	}
	jsonPath, htmlPath, textPath := filepath.Join(dir, "scorecard.json"), filepath.Join(dir, "report.html"), filepath.Join(dir, "scorecard.txt")
	if err := run.WriteJSON(jsonPath); err != nil {
		return nil, err
	}
	if err := run.WriteHTML(htmlPath); err != nil {
		return nil, err
	}
	if err := run.WriteTextFile(textPath); err != nil {
		return nil, err
	}
	run.WriteText(os.Stdout)
	return []string{textPath, jsonPath, htmlPath}, nil
}

func machine() string {
	host, _ := os.Hostname()
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%s: %d cores%s, %s/%s, %s", host, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
