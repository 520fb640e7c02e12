package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// A run of the suite may be split over several Ginkgo processes, each
// with a cluster of its own: each writes what it ran into a part file
// (Part.Write), and the first process merges the parts into one
// scorecard (ReadParts) once every process has ended.

// Part is what one process ran.
type Part struct {
	Started   time.Time    `json:"started"`
	Scenarios []Scenario   `json:"scenarios"`
	Guide     []GuideBlock `json:"guide,omitempty"`
}

// partsDir holds the parts of the run under way in the report directory.
func partsDir(dir string) string { return filepath.Join(dir, ".parts") }

// ClearParts removes the parts of a run: the first process calls it
// before any process has run a spec (a killed run left them), and once
// it has merged them.
func ClearParts(dir string) error { return os.RemoveAll(partsDir(dir)) }

// Write writes p as part proc of the run in dir, after check (the
// process's secret scan) has passed on its bytes.
func (p Part) Write(dir string, proc int, check func(where string, b []byte) error) error {
	b, err := json.Marshal(p)
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

// ReadParts merges every part of the run in dir: rows in the order they
// started, the guide's blocks in the guide's order, whichever process ran
// them; Started is the earliest part's.
func ReadParts(dir string) (Part, error) {
	paths, err := filepath.Glob(filepath.Join(partsDir(dir), "process-*.json"))
	if err != nil {
		return Part{}, err
	}
	var all Part
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return all, err
		}
		var p Part
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
	sort.SliceStable(all.Guide, func(i, j int) bool { return all.Guide[i].Line < all.Guide[j].Line })
	return all, nil
}
