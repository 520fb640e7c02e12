package storage

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// neverLivePID is above any Linux pid_max (2^22), as the real tests' NEVER_LIVE_PID.
const neverLivePID = 999_999_999

// The writer and the sweep share the name grammar of the real KMS.
func TestPartialNames(t *testing.T) {
	if got := PartialName("element", 123, 7); got != ".element.partial.123.7" {
		t.Fatalf("PartialName = %q", got)
	}
	if pid, ok := partialPID(".element.partial.123.7"); !ok || pid != 123 {
		t.Fatalf("parse = %d, %v", pid, ok)
	}
	// The real parse_partial_rejects_non_matching cases.
	for _, name := range []string{"element", ".hidden", ".gitkeep", ".tmpAbC123", ".name.partial.abc.1",
		".name.partial.12", ".partial.12.1", ".name.partial.12.1x", ".name.partial..1",
		".n.partial.99999999999.1", ".name.partiality.12.1", ".name.partial.+12.1"} {
		if _, ok := partialPID(name); ok {
			t.Errorf("parsed %q as a temp name", name)
		}
	}
	if pid, ok := partialPID(".a.partial.1.b.partial.12.1"); !ok || pid != 12 {
		t.Errorf("embedded .partial.: %d, %v", pid, ok)
	}
}

// A write leaves only the object, and a failed one nothing at all.
func TestWriteLeavesNoTempFile(t *testing.T) {
	v := newVault(t)
	if err := v.Put("FheKeyInfo", "k", []byte("share")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(v.Dir(), "FheKeyInfo"))
	if len(entries) != 1 || entries[0].Name() != "k" {
		t.Fatalf("left behind: %v", entries)
	}
	// A directory where the object should go: the rename fails.
	_ = os.MkdirAll(v.File("FheKeyInfo", "d")+"/x", 0o700)
	if err := v.Put("FheKeyInfo", "d", []byte("share")); err == nil {
		t.Fatal("rename over a directory succeeded")
	}
	entries, _ = os.ReadDir(filepath.Join(v.Dir(), "FheKeyInfo"))
	if len(entries) != 2 {
		t.Fatalf("failed write left: %v", entries)
	}
}

// A dead predecessor's temp file with this process's pid and the sequence
// number about to be used is reclaimed, not an error.
func TestWriteReclaimsSameNameOrphan(t *testing.T) {
	v := newVault(t)
	dir := filepath.Join(v.Dir(), "FheKeyInfo")
	_ = os.MkdirAll(dir, 0o700)
	orphan := filepath.Join(dir, PartialName("k", os.Getpid(), partialSeq.Load()))
	_ = os.WriteFile(orphan, []byte("half a key"), 0o600)
	if err := v.Put("FheKeyInfo", "k", []byte("share")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan still there: %v", err)
	}
	if got, err := v.Get("FheKeyInfo", "k"); err != nil || string(got) != "share" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// The sweep removes what a crashed writer left, at the type and the epoch
// level, keeps the in-flight write of a live process and every object, and
// logs each removal as the real one does.
func TestSweepRemovesOrphansOnly(t *testing.T) {
	v := newVault(t)
	if err := v.Put("FheKeyInfo", "k", []byte("share")); err != nil {
		t.Fatal(err)
	}
	typ := filepath.Join(v.Dir(), "FheKeyInfo")
	epoch := filepath.Join(v.Dir(), "PrssSetup", "epoch1")
	_ = os.MkdirAll(epoch, 0o700)
	dead := filepath.Join(typ, PartialName("new", neverLivePID, 3))
	deadEpoch := filepath.Join(epoch, PartialName("new", neverLivePID, 4))
	inFlight := filepath.Join(typ, PartialName("busy", os.Getpid(), 5))
	// Our own pid, but written before this process started: a predecessor's.
	reused := filepath.Join(typ, PartialName("old", os.Getpid(), 6))
	for _, p := range []string{dead, deadEpoch, inFlight, reused} {
		if err := os.WriteFile(p, []byte("half a key"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-24 * time.Hour)
	if err := os.Chtimes(reused, old, old); err != nil {
		t.Fatal(err)
	}
	if ids, _ := v.List("FheKeyInfo"); len(ids) != 1 || ids[0] != "k" {
		t.Fatalf("temp files listed: %v", ids)
	}
	var log bytes.Buffer
	v.Sweep(slog.New(slog.NewTextHandler(&log, nil)))
	for _, p := range []string{dead, deadEpoch, reused} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s not swept", filepath.Base(p))
		}
	}
	if _, err := os.Stat(inFlight); err != nil {
		t.Errorf("in-flight write removed: %v", err)
	}
	if got, err := v.Get("FheKeyInfo", "k"); err != nil || string(got) != "share" {
		t.Errorf("object damaged: %q, %v", got, err)
	}
	want := "removed stale partial file " + dead + " orphaned by pid 999999999"
	if !strings.Contains(log.String(), want) || strings.Count(log.String(), "removed stale partial file") != 3 {
		t.Errorf("log lacks %q (3 removals):\n%s", want, log.String())
	}
}
