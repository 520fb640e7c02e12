package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A process's part of the scorecard is written only once its secret
// check passed; parts merge in the order their scenarios started.
func TestPartsAreCheckedThenMergedInOrder(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now()
	leak := func(where string, b []byte) error {
		if bytes.Contains(b, []byte("SECRET")) {
			return errors.New(where + " holds a secret")
		}
		return nil
	}
	late := Part{Started: t0, Scenarios: []Scenario{{Name: "late", Started: t0.Add(time.Second), Error: "holds SECRET"}}}
	if err := late.Write(dir, 2, leak); err == nil {
		t.Fatal("a part holding a secret was written")
	}
	if _, err := os.Stat(filepath.Join(partsDir(dir), "process-2.json")); !os.IsNotExist(err) {
		t.Fatalf("the refused part is on disk: %v", err)
	}

	late.Scenarios[0].Error = ""
	if err := late.Write(dir, 2, leak); err != nil {
		t.Fatal(err)
	}
	early := Part{Started: t0, Scenarios: []Scenario{{Name: "early", Started: t0}}}
	if err := early.Write(dir, 1, leak); err != nil {
		t.Fatal(err)
	}
	all, err := ReadParts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Scenarios) != 2 || all.Scenarios[0].Name != "early" || all.Scenarios[1].Name != "late" {
		t.Fatalf("merged %+v, want early then late", all.Scenarios)
	}
}
