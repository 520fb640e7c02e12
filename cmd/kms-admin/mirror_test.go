package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tree lists every entry below root: relative path, mode and content.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		content := ""
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			content = string(b)
		case fi.Mode()&fs.ModeSymlink != 0:
			content, _ = os.Readlink(p)
		}
		out = append(out, fmt.Sprintf("%s %v %q", rel, fi.Mode(), content))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMirrorMakesAnExactCopy(t *testing.T) {
	src, dst := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "dst")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "PRIV-p1", "EpochData"), 0o700))
	must(os.WriteFile(filepath.Join(src, "PRIV-p1", "EpochData", "01"), []byte("epoch"), 0o600))
	must(os.WriteFile(filepath.Join(src, "config.toml"), []byte("cfg"), 0o640))
	must(os.Symlink("config.toml", filepath.Join(src, "link")))
	must(os.Mkdir(filepath.Join(src, "sealed"), 0o700))
	must(os.WriteFile(filepath.Join(src, "sealed", "f"), []byte("x"), 0o400))
	must(os.Chmod(filepath.Join(src, "sealed"), 0o500))
	must(os.Chmod(src, 0o750))
	t.Cleanup(func() {
		_ = os.Chmod(filepath.Join(src, "sealed"), 0o700)
		_ = os.Chmod(filepath.Join(dst, "sealed"), 0o700)
	})

	// dst holds what a fault left: a stale object, a changed one, a mode.
	must(os.MkdirAll(filepath.Join(dst, "PRIV-p1", "EpochData"), 0o755))
	must(os.WriteFile(filepath.Join(dst, "PRIV-p1", "EpochData", "01"), []byte("scrambled"), 0o644))
	must(os.WriteFile(filepath.Join(dst, "PRIV-p1", "EpochData", "02"), []byte("new"), 0o600))

	must(mirror(src, dst))
	if got, want := tree(t, dst), tree(t, src); !slices.Equal(got, want) {
		t.Errorf("after mirror:\n%q\nwant\n%q", got, want)
	}

	// A single file, into a directory that does not exist yet.
	one := filepath.Join(t.TempDir(), "a", "b", "01")
	must(mirror(filepath.Join(src, "PRIV-p1", "EpochData", "01"), one))
	if b, _ := os.ReadFile(one); string(b) != "epoch" {
		t.Errorf("file copy holds %q", b)
	}
}
