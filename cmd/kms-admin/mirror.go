package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/spf13/cobra"
)

// mirrorCommand restores a tree byte for byte: what the harness's Reset
// uses to put a party's golden storage back from the keeper's golden
// volume, and what records the golden copy in the first place.
func mirrorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "mirror <src> <dst> [<src> <dst>]...",
		Short: "Make dst an exact copy of src: contents, modes and owners (run as root)",
		Long: `mirror makes each dst an exact copy of its src, like 'rsync -a --delete':
every entry's content, mode and numeric owner is copied, and entries of dst
that src lacks are removed. A directory dst is emptied, not removed, so a
mount point stays a mount point; it takes src's mode and owner.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || len(args)%2 != 0 {
				return fmt.Errorf("want pairs of <src> <dst>, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			for i := 0; i < len(args); i += 2 {
				if err := mirror(args[i], args[i+1]); err != nil {
					return fmt.Errorf("mirror %s %s: %w", args[i], args[i+1], err)
				}
			}
			return nil
		},
	}
}

func mirror(src, dst string) error {
	si, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	di, err := os.Lstat(dst)
	switch {
	case err == nil && di.IsDir() && si.IsDir():
		if err := emptyDir(dst); err != nil {
			return err
		}
	case err == nil:
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	case !os.IsNotExist(err):
		return err
	}
	if !si.IsDir() {
		return copyEntry(src, dst, si)
	}
	if err := os.Mkdir(dst, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	// Directories get their modes last, deepest first: a read-only
	// directory must not stop its own contents from being copied.
	type dir struct {
		path string
		fi   fs.FileInfo
	}
	dirs := []dir{{dst, si}}
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == src {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			dirs = append(dirs, dir{target, fi})
			return os.Mkdir(target, 0o700)
		}
		return copyEntry(p, target, fi)
	})
	if err != nil {
		return err
	}
	for _, d := range slices.Backward(dirs) {
		if err := own(d.path, d.fi); err != nil {
			return err
		}
		if err := os.Chmod(d.path, d.fi.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// copyEntry copies a file or symlink with its mode and owner.
func copyEntry(src, dst string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		return own(dst, fi)
	case fi.Mode().IsRegular():
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			return err
		}
		if err := own(dst, fi); err != nil {
			return err
		}
		return os.Chmod(dst, fi.Mode().Perm())
	}
	return fmt.Errorf("%s: cannot copy a %s", src, fi.Mode().Type())
}

func own(p string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner", p)
	}
	return os.Lchown(p, int(st.Uid), int(st.Gid))
}

func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
