package cluster

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSweepTempDirsRemovesOnlyOldLeftovers(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-3 * time.Hour)
	mk := func(name string, mtime time.Time) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(p, "PRIV-p1", "FheKeyInfo"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "PRIV-p1", "FheKeyInfo", "k"), []byte("share"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	mk("kmschaos-golden-111", old)
	mk("kmschaos-images-222", old)
	mk("kmschaos-chart-444", old)     // a Kubernetes run killed during helm
	mk("kmschaos-golden-live", now)   // a live run of an older version
	mk("kmschaos-other-333", old)     // not ours to judge
	mk("golden-kmschaos-golden", old) // pattern is anchored
	if err := os.WriteFile(filepath.Join(dir, "kmschaos-golden-file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, "kmschaos-golden-file"), old, old)

	n, err := sweepTempDirs(dir, 2*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("removed %d folders, want 3", n)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{"golden-kmschaos-golden", "kmschaos-golden-file", "kmschaos-golden-live", "kmschaos-other-333"}
	if !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
}
