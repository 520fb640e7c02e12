package scenarios

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// A process's part of the scorecard is written only once its secret
// check passed; parts merge in the order their scenarios started.
func TestPartsAreCheckedThenMergedInOrder(t *testing.T) {
	dir := t.TempDir()
	saved := results.scenarios
	t.Cleanup(func() { results.scenarios = saved })
	t0 := time.Now()

	results.scenarios = []report.Scenario{{Name: "late", Started: t0.Add(time.Second), Error: "holds SECRET"}}
	leak := func(where string, b []byte) error {
		if bytes.Contains(b, []byte("SECRET")) {
			return errors.New(where + " holds a secret")
		}
		return nil
	}
	if err := WritePart(dir, 2, leak); err == nil {
		t.Fatal("a part holding a secret was written")
	}
	if _, err := os.Stat(filepath.Join(partsDir(dir), "process-2.json")); !os.IsNotExist(err) {
		t.Fatalf("the refused part is on disk: %v", err)
	}

	results.scenarios = []report.Scenario{{Name: "late", Started: t0.Add(time.Second)}}
	if err := WritePart(dir, 2, leak); err != nil {
		t.Fatal(err)
	}
	results.scenarios = []report.Scenario{{Name: "early", Started: t0}}
	if err := WritePart(dir, 1, leak); err != nil {
		t.Fatal(err)
	}
	all, err := readParts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Scenarios) != 2 || all.Scenarios[0].Name != "early" || all.Scenarios[1].Name != "late" {
		t.Fatalf("merged %+v, want early then late", all.Scenarios)
	}
}
