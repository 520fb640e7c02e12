package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
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

// WritePart writes what this process ran as part proc of the run, after
// check (the process's secret scan) has passed on its bytes.
func WritePart(dir string, proc int, check func(where string, b []byte) error) error {
	results.mu.Lock()
	p := report.Part{Started: results.started, Scenarios: results.scenarios, Guide: results.guide}
	results.mu.Unlock()
	return p.Write(dir, proc, check)
}

// WriteReports merges the parts of the run (see WritePart) into the
// scorecard in dir, prints it, removes the parts, and returns the paths.
// Processes is how many wrote parts.
func WriteReports(dir string, processes int) ([]string, error) {
	all, err := report.ReadParts(dir)
	if err != nil {
		return nil, err
	}
	if all.Started.IsZero() {
		all.Started = results.started
	}
	s := env.Current()
	run := &report.Run{
		Seed: s.Seed, N: s.N, T: s.T, Started: all.Started, Duration: time.Since(all.Started),
		Machine: report.Machine(), Processes: processes, Backend: s.Backend,
		Scenarios: all.Scenarios,
	}
	if len(all.Guide) > 0 {
		run.Guide = &report.Guide{Blocks: all.Guide}
		run.Guide.File, run.Guide.Digest, run.Guide.Coverage = guideCoverage()
	}
	paths, err := run.WriteFiles(dir)
	if err != nil {
		return nil, err
	}
	run.WriteText(os.Stdout)
	return paths, report.ClearParts(dir)
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
