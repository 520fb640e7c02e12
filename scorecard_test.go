package kmschaos_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/guide"
	"github.com/kmschaos/kmschaos/harness/report"
	resultstore "github.com/kmschaos/kmschaos/harness/results"
	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// The scorecard of the run: each process records its rows and the guide's
// blocks it ran, writes them as its part when it ends (writePart), and the
// first process merges the parts into one scorecard (writeReports).

// results collects the scorecard of this process.
var results struct {
	mu        sync.Mutex
	scenarios []report.Scenario
	guide     []report.GuideBlock
	started   time.Time
}

func init() { results.started = time.Now() }

// record adds a scenario's row to the run's scorecard.
func record(s report.Scenario) {
	results.mu.Lock()
	defer results.mu.Unlock()
	results.scenarios = append(results.scenarios, s)
}

// recordGuide adds a block's outcome to the run's guide section.
func recordGuide(b report.GuideBlock) {
	results.mu.Lock()
	defer results.mu.Unlock()
	results.guide = append(results.guide, b)
}

// writePart writes what this process ran as part proc of the run, after
// check (the process's secret scan) has passed on its bytes.
func writePart(dir string, proc int, check func(where string, b []byte) error) error {
	results.mu.Lock()
	p := report.Part{Started: results.started, Scenarios: results.scenarios, Guide: results.guide}
	results.mu.Unlock()
	return p.Write(dir, proc, check)
}

// writeReports merges the parts of the run (see writePart) into the
// scorecard in dir, prints it, removes the parts, and returns the paths.
// Processes is how many wrote parts.
func writeReports(dir string, processes int) ([]string, error) {
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
	if recording != nil {
		run.RecordedAs = recording.ID()
	}
	paths, err := run.WriteFiles(dir)
	if err != nil {
		return nil, err
	}
	_ = run.WriteText(os.Stdout)
	finishRecording(run, filepath.Join(dir, "report.html"))
	return paths, report.ClearParts(dir)
}

// recording is the run's record in the results store (KMSCHAOS_DB, else
// the default file), begun by the first process before the suite starts.
var recording *resultstore.Session

func beginRecording(ctx context.Context) error {
	labels, err := resultstore.ParseLabels("KMSCHAOS_LABELS", nil, os.Getenv("KMSCHAOS_LABELS"))
	if err != nil {
		return err
	}
	root, _ := localcluster.ModuleRoot()
	recording, err = resultstore.Begin(ctx, resultstore.Where(""), labels, root)
	return err
}

// finishRecording records the run whose scorecard is written, its HTML
// report at reportHTML; a failure is said on stderr, the reports stand.
func finishRecording(run *report.Run, reportHTML string) {
	if recording != nil {
		recording.FinishAndSay(context.Background(), run, builtImages.Party, reportHTML, os.Stdout, os.Stderr)
	}
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
