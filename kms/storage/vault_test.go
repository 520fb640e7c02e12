package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kmschaos/kmschaos/internal/asuser"
)

func newVault(t *testing.T) *Vault {
	t.Helper()
	return &Vault{Name: "private", Path: t.TempDir(), Prefix: "PRIV-p1"}
}

func TestPutGetListDelete(t *testing.T) {
	v := newVault(t)
	if err := v.Put("FheKeyInfo", "abc", []byte("share")); err != nil {
		t.Fatal(err)
	}
	got, err := v.Get("FheKeyInfo", "abc")
	if err != nil || string(got) != "share" {
		t.Fatalf("got %q, %v", got, err)
	}
	if fi, _ := os.Stat(v.File("FheKeyInfo", "abc")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("object mode %v, want 0600", fi.Mode().Perm())
	}
	ids, _ := v.List("FheKeyInfo")
	if len(ids) != 1 || ids[0] != "abc" {
		t.Fatalf("list %v", ids)
	}
	if _, err := v.Get("FheKeyInfo", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	if err := v.Delete("FheKeyInfo", "abc"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := v.List("FheKeyInfo"); len(ids) != 0 {
		t.Fatalf("after delete: %v", ids)
	}
	if err := v.Put("Fhe/../x", "a", nil); err == nil {
		t.Fatal("accepted a path in a type name")
	}
}

func TestDigestCatchesFlippedByte(t *testing.T) {
	v := newVault(t)
	_ = v.Put("EpochData", "e1", bytes.Repeat([]byte{7}, 100))
	raw, _ := os.ReadFile(v.File("EpochData", "e1"))
	i := bytes.Index(raw, []byte(`"data": "`)) + 12
	raw[i] ^= 0x01
	_ = os.WriteFile(v.File("EpochData", "e1"), raw, 0o600)
	_, err := v.Get("EpochData", "e1")
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Object != "PRIV-p1/EpochData/e1" {
		t.Fatalf("want a CorruptError naming the object, got %v", err)
	}
	// Reseal gives a loadable object with a different payload.
	resealed, err := Reseal(raw, func(p []byte) []byte { p[0] ^= 0xff; return p })
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(v.File("EpochData", "e1"), resealed, 0o600)
	if got, err := v.Get("EpochData", "e1"); err != nil || bytes.Equal(got, bytes.Repeat([]byte{7}, 100)) {
		t.Fatalf("resealed object: %v", err)
	}
}

// A full disk makes a write fail with ENOSPC and leaves neither a torn
// object nor a temp file; the old version of the object stays readable.
func TestFullDiskLeavesNoTornFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v); the container scenarios cover a full disk", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	v := &Vault{Name: "private", Path: dir, Prefix: "PRIV-p1"}
	if err := v.Put("EpochData", "e1", []byte("old")); err != nil {
		t.Fatal(err)
	}
	err := v.Put("EpochData", "e1", bytes.Repeat([]byte{1}, 128<<10))
	if !IsNoSpace(err) || ErrorKind(err) != "nospace" {
		t.Fatalf("want ENOSPC, got %v", err)
	}
	if got, err := v.Get("EpochData", "e1"); err != nil || string(got) != "old" {
		t.Fatalf("old object damaged: %q, %v", got, err)
	}
	entries, _ := os.ReadDir(filepath.Join(v.Dir(), "EpochData"))
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
	// Fill what is left, as the disk-full fault does: the probe says so.
	filler, _ := os.Create(filepath.Join(dir, "filler"))
	_, _ = filler.Write(make([]byte, 128<<10))
	filler.Close()
	if st := v.Probe(); st.Writable || !IsNoSpace(st.Err) || st.UsedRatio() < UsageWarnRatio {
		t.Fatalf("probe of a full vault: %+v", st)
	}
}

func TestProbeReportsPermissionProblems(t *testing.T) {
	v := newVault(t)
	_ = v.Put("FheKeyInfo", "k", []byte("x"))
	uid := os.Geteuid()
	if uid == 0 {
		// Let the unprivileged user reach the vault through the temp dirs.
		_ = os.Chmod(filepath.Dir(v.Path), 0o755)
		_ = os.Chmod(v.Path, 0o755)
		uid = 10001
		_ = filepath.Walk(v.Path, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, uid, uid) })
	}
	asuser.Run(uid, func() {
		if st := v.Probe(); !st.Readable || !st.Writable {
			t.Errorf("healthy vault: %+v", st)
		}
	})
	// The guide's `chmod -R 600` strips the search bit from directories.
	_ = filepath.Walk(v.Dir(), func(p string, _ os.FileInfo, _ error) error { return os.Chmod(p, 0o600) })
	asuser.Run(uid, func() {
		st := v.Probe()
		if st.Readable || st.Err == nil || !IsPermission(st.Err) {
			t.Errorf("chmod -R 600 tree: %+v", st)
		}
		if _, err := v.Get("FheKeyInfo", "k"); ErrorKind(err) != "permission" {
			t.Errorf("get after chmod -R 600: %v", err)
		}
	})
}

// Exists answers without reading the object, and a path the user may not
// search is an error, not "absent": the real data_exists (try_exists) is.
func TestExistsTellsAbsentFromUncheckable(t *testing.T) {
	v := newVault(t)
	_ = v.Put("SigningKey", "k", []byte("x"))
	if ok, err := v.Exists("SigningKey", "k"); !ok || err != nil {
		t.Fatalf("stored object: %v %v", ok, err)
	}
	if ok, err := v.Exists("SigningKey", "other"); ok || err != nil {
		t.Fatalf("absent object: %v %v", ok, err)
	}
	_ = os.Chmod(filepath.Dir(v.Path), 0o755)
	_ = os.Chmod(v.Path, 0o755)
	_ = os.Chmod(v.Dir(), 0o000)
	t.Cleanup(func() { _ = os.Chmod(v.Dir(), 0o700) })
	asuser.Run(10001, func() {
		ok, err := v.Exists("SigningKey", "other")
		want := "Error checking path " + v.File("SigningKey", "other") + ": permission denied"
		if ok || err == nil || err.Error() != want {
			t.Errorf("unsearchable vault: %v %v, want the error %q", ok, err, want)
		}
	})
}
