package cluster

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	_ = os.Chtimes(filepath.Join(dir, "kmschaos-golden-file"), old, old)

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

// TestMain lets a test start this binary as the maker of a folder: with
// KMSCHAOS_TEST_MAKE_OWNED=pattern it makes one in $TMPDIR (MkdirOwned),
// prints its path and holds it until its stdin closes, then exits
// without removing it, as a maker killed half-way.
func TestMain(m *testing.M) {
	if pattern := os.Getenv("KMSCHAOS_TEST_MAKE_OWNED"); pattern != "" {
		d, err := MkdirOwned(pattern)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(d.Path)
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A folder's maker is judged by the lock it holds, not by the folder's
// age: a live maker's folder stays however old, a dead maker's goes at
// once however young.
func TestSweepTempDirsTellsALiveMakerFromADeadOne(t *testing.T) {
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// maker starts a process that makes a folder; end makes it exit and
	// reaps it.
	maker := func(pattern string) (path string, end func()) {
		t.Helper()
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), "TMPDIR="+dir, "KMSCHAOS_TEST_MAKE_OWNED="+pattern)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		end = sync.OnceFunc(func() { in.Close(); _ = cmd.Wait() })
		t.Cleanup(end)
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			t.Fatalf("the maker printed no folder: %v", err)
		}
		return strings.TrimSpace(line), end
	}
	live, endLive := maker("kmschaos-images-")
	dead, endDead := maker("kmschaos-chart-*")
	endDead()
	old := time.Now().Add(-3 * time.Hour)
	if err := os.Chtimes(live, old, old); err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	n, err := sweepTempDirs(dir, 2*time.Hour, time.Now())
	if err != nil || n != 1 || exists(dead) || !exists(live) {
		t.Errorf("sweep with one maker alive (3 h old) and one just dead: removed %d (%v); dead maker's there %v, live maker's there %v; want 1, only the dead maker's",
			n, err, exists(dead), exists(live))
	}
	endLive()
	n, err = sweepTempDirs(dir, 2*time.Hour, time.Now())
	if err != nil || n != 1 || exists(live) {
		t.Errorf("sweep once the other maker is dead: removed %d (%v), its folder there %v; want it removed", n, err, exists(live))
	}
}
