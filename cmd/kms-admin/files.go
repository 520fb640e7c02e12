package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/kms/storage"
)

func fileCommands() []*cobra.Command {
	var recursive bool
	ls := &cobra.Command{
		Use:   "ls [-R] <path>...",
		Short: "List files with mode, owner and size",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Like coreutils: every path is listed, unreadable entries
			// below a path are reported inline, and a path that cannot be
			// accessed at all fails the command once the rest is listed.
			var missing []error
			for _, root := range args {
				err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
					if err != nil && p == root && d == nil {
						return cannotAccess(root, err)
					}
					if err != nil {
						fmt.Printf("%s: %v\n", p, err)
						return nil
					}
					if p != root && d.IsDir() && !recursive {
						printEntry(p)
						return filepath.SkipDir
					}
					printEntry(p)
					return nil
				})
				if err != nil {
					missing = append(missing, err)
				}
			}
			return errors.Join(missing...)
		},
	}
	ls.Flags().BoolVarP(&recursive, "recursive", "R", false, "descend into directories")

	cat := &cobra.Command{Use: "cat <file>...", Short: "Print files", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				f, err := os.Open(a)
				if err != nil {
					return err
				}
				_, err = io.Copy(os.Stdout, f)
				f.Close()
				if err != nil {
					return err
				}
			}
			return nil
		}}

	sha := &cobra.Command{
		Use:   "sha256sum <path>...",
		Short: "Digest files; directories are walked, one line per file, sorted",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, root := range args {
				var lines []string
				err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						return err
					}
					if d.IsDir() {
						return nil
					}
					sum, err := digest(p)
					if err != nil {
						return err
					}
					lines = append(lines, sum+"  "+p)
					return nil
				})
				if err != nil {
					return err
				}
				sort.Slice(lines, func(a, b int) bool { return lines[a][66:] < lines[b][66:] })
				for _, l := range lines {
					fmt.Println(l)
				}
			}
			return nil
		},
	}

	var cpRecursive bool
	cp := &cobra.Command{
		Use:   "cp [-r] <src>... <dst>",
		Short: "Copy files or trees (modes kept, atomic per file), like cp",
		Long: `cp copies like coreutils' cp: several sources, or a directory given with -r,
go into <dst>, an existing directory, under their own names.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcs, dst := args[:len(args)-1], args[len(args)-1]
			di, derr := os.Stat(dst)
			dstIsDir := derr == nil && di.IsDir()
			if len(srcs) > 1 && !dstIsDir {
				return fmt.Errorf("copying %d sources: %s is not a directory", len(srcs), dst)
			}
			for _, src := range srcs {
				if err := copyOne(src, dst, dstIsDir, cpRecursive); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cp.Flags().BoolVarP(&cpRecursive, "recursive", "r", false, "copy directories")

	var rmRecursive, rmForce bool
	rm := &cobra.Command{Use: "rm [-rf] <path>...", Short: "Remove files or trees", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				var err error
				if rmRecursive {
					err = os.RemoveAll(a)
				} else {
					err = os.Remove(a)
				}
				if err != nil && !(rmForce && os.IsNotExist(err)) {
					return err
				}
			}
			return nil
		}}
	rm.Flags().BoolVarP(&rmRecursive, "recursive", "r", false, "remove directories and their contents")
	rm.Flags().BoolVarP(&rmForce, "force", "f", false, "ignore missing files")

	mkdir := &cobra.Command{Use: "mkdir <dir>...", Short: "Create directories (with parents, mode 0700)", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if err := os.MkdirAll(a, 0o700); err != nil {
					return err
				}
			}
			return nil
		}}

	var chmodRecursive bool
	var chmodType string
	chmod := &cobra.Command{
		Use:   "chmod [-R] [--type d|f] <octal-mode> <path>...",
		Short: "Change modes; -R applies the same mode to directories and files, like chmod -R",
		Long: `chmod changes modes. With -R the same mode goes to directories and files
alike, exactly like 'chmod -R'; add --type d or --type f to change only
directories or only files, like 'find <path> -type d -exec chmod <mode> {} +'.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := strconv.ParseUint(args[0], 8, 32)
			if err != nil {
				return fmt.Errorf("mode must be octal, got %q", args[0])
			}
			if chmodType != "" && chmodType != "d" && chmodType != "f" {
				return fmt.Errorf("--type must be d or f, got %q", chmodType)
			}
			return walkEach(args[1:], chmodRecursive, func(p string) error {
				if chmodType != "" {
					fi, err := os.Lstat(p)
					if err != nil {
						return err
					}
					if fi.IsDir() != (chmodType == "d") {
						return nil
					}
				}
				return os.Chmod(p, fs.FileMode(m))
			})
		},
	}
	chmod.Flags().BoolVarP(&chmodRecursive, "recursive", "R", false, "change trees")
	chmod.Flags().StringVar(&chmodType, "type", "", "only directories (d) or only files (f)")

	var chownRecursive bool
	chown := &cobra.Command{
		Use:   "chown [-R] <uid>[:<gid>] <path>...",
		Short: "Change owners (numeric ids: the image has no user database)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, g, _ := strings.Cut(args[0], ":")
			uid, err := strconv.Atoi(u)
			if err != nil {
				return fmt.Errorf("uid must be numeric, got %q", u)
			}
			gid := uid
			if g != "" {
				if gid, err = strconv.Atoi(g); err != nil {
					return fmt.Errorf("gid must be numeric, got %q", g)
				}
			}
			return walkEach(args[1:], chownRecursive, func(p string) error { return os.Lchown(p, uid, gid) })
		},
	}
	chown.Flags().BoolVarP(&chownRecursive, "recursive", "R", false, "change trees")

	df := &cobra.Command{Use: "df <path>...", Short: "Show the size and free space of filesystems", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				total, free, err := storage.DiskSpace(a)
				if err != nil {
					return err
				}
				used := 0.0
				if total > 0 {
					used = 100 * (1 - float64(free)/float64(total))
				}
				fmt.Printf("%s total=%d free=%d used=%.0f%%\n", a, total, free, used)
			}
			return nil
		}}

	hold := &cobra.Command{Use: "hold", Short: "Do nothing until SIGTERM or SIGINT (keeps a container and its volumes up)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
			<-ch
			return nil
		}}
	return []*cobra.Command{ls, cat, sha, cp, rm, mkdir, chmod, chown, df, hold, manifestCommand(), emptyCommand(), mirrorCommand()}
}

func copyOne(src, dst string, dstIsDir, recursive bool) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if dstIsDir {
		dst = filepath.Join(dst, filepath.Base(filepath.Clean(src)))
	}
	if !fi.IsDir() {
		return copyFile(src, dst, fi.Mode())
	}
	if !recursive {
		return fmt.Errorf("%s is a directory (use -r)", src)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		}
		return copyFile(p, target, info.Mode())
	})
}

func printEntry(p string) {
	fi, err := os.Lstat(p)
	if err != nil {
		fmt.Printf("%s: %v\n", p, err)
		return
	}
	uid, gid := -1, -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid, gid = int(st.Uid), int(st.Gid)
	}
	fmt.Printf("%s %6d:%-6d %9d %s\n", fi.Mode(), uid, gid, fi.Size(), p)
}

func digest(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyFile copies like cp: an existing destination is overwritten in
// place and keeps its owner and mode; a new one gets the source's mode and
// the caller's ownership.
func copyFile(src, dst string, mode fs.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if err := storage.WriteFileAtomic(dst, b); err != nil {
			return err
		}
		return os.Chmod(dst, mode.Perm())
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// walkEach applies fn to every path, and with recursive to everything
// below; parents before children, like chmod -R.
func walkEach(paths []string, recursive bool, fn func(string) error) error {
	for _, root := range paths {
		if !recursive {
			if err := fn(root); err != nil {
				return err
			}
			continue
		}
		// Collect first: changing a directory's mode may make it unreadable.
		var all []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			all = append(all, p)
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range all {
			if err := fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// manifestCommand prints one line per entry below each root: type, mode,
// owner, size and, for files, the sha256 of the content. Two trees with the
// same manifest hold the same bytes with the same permissions.
func manifestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "manifest <dir>...",
		Short: "Print type, mode, owner, size and digest of every entry below each dir",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var missing []error
			for _, root := range args {
				err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
					// A root that cannot be accessed fails the command (an
					// empty manifest would read as "no files" to the key
					// audit); a party's tree missing below it, or an entry
					// that cannot be read, is part of the manifest.
					if err != nil && p == root && d == nil {
						return cannotAccess(root, err)
					}
					if errors.Is(err, fs.ErrNotExist) && p != root {
						return nil // removed while walking: the party's transient files
					}
					if err != nil {
						fmt.Printf("error - - - - %s %v\n", p, err)
						return nil
					}
					fi, err := os.Lstat(p)
					if errors.Is(err, fs.ErrNotExist) {
						return nil
					}
					if err != nil {
						return err
					}
					uid, gid := -1, -1
					if st, ok := fi.Sys().(*syscall.Stat_t); ok {
						uid, gid = int(st.Uid), int(st.Gid)
					}
					kind, sum, size := "f", "-", strconv.FormatInt(fi.Size(), 10)
					switch {
					case fi.IsDir():
						kind, size = "d", "-" // a directory's size follows its entries, not its content
					case fi.Mode()&fs.ModeSymlink != 0:
						kind = "l"
					default:
						if sum, err = digest(p); err != nil {
							sum = "unreadable"
						}
					}
					fmt.Printf("%s %04o %d:%d %s %s %s\n", kind, fi.Mode().Perm(), uid, gid, size, sum, p)
					return nil
				})
				if err != nil {
					missing = append(missing, err)
				}
			}
			return errors.Join(missing...)
		},
	}
}

// cannotAccess is the error for a path named on the command line that does
// not exist or cannot be looked at.
func cannotAccess(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot access %s: %w", path, err)
}

// emptyCommand removes everything inside directories, keeping them: a
// mount point stays a mount point.
func emptyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "empty <dir>...",
		Short: "Remove the contents of directories, keeping the directories",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, dir := range args {
				if err := emptyDir(dir); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
