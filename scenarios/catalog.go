package scenarios

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/guide"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/kms/localcluster"
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

// A run of the suite may be split over several Ginkgo processes, each
// with a cluster of its own: each writes what it ran into a part file
// (WritePart), and the first process merges the parts into one
// scorecard (WriteReports) once every process has ended.

// part is what one process ran.
type part struct {
	Started   time.Time           `json:"started"`
	Scenarios []report.Scenario   `json:"scenarios"`
	Guide     []report.GuideBlock `json:"guide,omitempty"`
}

// partsDir holds the parts of the run under way in the report directory.
func partsDir(dir string) string { return filepath.Join(dir, ".parts") }

// ClearParts removes the parts a killed run left: the first process
// calls it before any process has run a spec.
func ClearParts(dir string) error { return os.RemoveAll(partsDir(dir)) }

// WritePart writes what this process ran as part proc of the run, after
// check (the process's secret scan) has passed on its bytes.
func WritePart(dir string, proc int, check func(where string, b []byte) error) error {
	results.mu.Lock()
	p := part{Started: results.started, Scenarios: results.scenarios, Guide: results.guide}
	b, err := json.Marshal(p)
	results.mu.Unlock()
	if err != nil {
		return err
	}
	path := filepath.Join(partsDir(dir), fmt.Sprintf("process-%d.json", proc))
	if err := check(path, b); err != nil {
		return err
	}
	if err := os.MkdirAll(partsDir(dir), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// readParts merges every part of the run: rows in the order they started.
func readParts(dir string) (part, error) {
	paths, err := filepath.Glob(filepath.Join(partsDir(dir), "process-*.json"))
	if err != nil {
		return part{}, err
	}
	var all part
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return all, err
		}
		var p part
		if err := json.Unmarshal(b, &p); err != nil {
			return all, fmt.Errorf("reading the run's part %s: %w", path, err)
		}
		if all.Started.IsZero() || p.Started.Before(all.Started) {
			all.Started = p.Started
		}
		all.Scenarios = append(all.Scenarios, p.Scenarios...)
		all.Guide = append(all.Guide, p.Guide...)
	}
	sort.SliceStable(all.Scenarios, func(i, j int) bool { return all.Scenarios[i].Started.Before(all.Scenarios[j].Started) })
	// The guide's blocks in the guide's order, whichever process ran them.
	sort.SliceStable(all.Guide, func(i, j int) bool { return all.Guide[i].Line < all.Guide[j].Line })
	return all, nil
}

// WriteReports merges the parts of the run (see WritePart) into the
// scorecard, as JSON, HTML and text in dir, removes the parts, and
// returns the paths. Processes is how many wrote parts.
func WriteReports(dir string, processes int) ([]string, error) {
	all, err := readParts(dir)
	if err != nil {
		return nil, err
	}
	if all.Started.IsZero() {
		all.Started = results.started
	}
	s := env.Current()
	run := &report.Run{
		Seed: s.Seed, N: s.N, T: s.T, Started: all.Started, Duration: time.Since(all.Started),
		Machine: machine(), Processes: processes, Backend: s.Backend,
		Scenarios: all.Scenarios,
	}
	if len(all.Guide) > 0 {
		run.Guide = &report.Guide{Blocks: all.Guide}
		run.Guide.File, run.Guide.Digest, run.Guide.Coverage = guideCoverage()
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
	return []string{textPath, jsonPath, htmlPath}, ClearParts(dir)
}

// guideCoverage is how the shipped runbooks cover the project's guide
// (what `kmschaos guide check` prints), for the scorecard's guide section.
func guideCoverage() (file, digest, summary string) {
	root, err := localcluster.ModuleRoot()
	if err != nil {
		return "", "", err.Error()
	}
	file = filepath.Join("fixtures", "guide", "troubleshooting-guide.md")
	g, err := guide.ParseFile(filepath.Join(root, file))
	if err != nil {
		return file, "", err.Error()
	}
	rbs, err := guide.LoadRunbookDir(filepath.Join(root, "runbooks"))
	if err != nil {
		return file, g.Digest, err.Error()
	}
	ex, err := guide.ReadExclusionsFile(filepath.Join(root, "fixtures", "guide-exclusions.yaml"))
	if err != nil {
		return file, g.Digest, err.Error()
	}
	return file, g.Digest, guide.Check(g, rbs, ex).Summary().String()
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
