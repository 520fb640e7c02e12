package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The real KMS writes every object through a sibling temp file named
// ".<name>.partial.<pid>.<seq>", fsyncs it and renames it into place
// (safe_write_element_versioned, core/service/src/util/file_handling.rs:209-263).
// A crash between creating it and renaming it leaves that file behind; the
// next start sweeps it (sweep_stale_partials, file_handling.rs:90, called by
// FileStorage::new, core/service/src/vault/storage/file.rs:60).

// partialSeq numbers this process's temp files: with the pid it makes a
// name unique among live writers (PARTIAL_SEQ, file_handling.rs:14).
var partialSeq atomic.Uint64

// PartialName is the temp name of a write of final by process pid
// (partial_file_name, file_handling.rs:19).
func PartialName(final string, pid int, seq uint64) string {
	return fmt.Sprintf(".%s.partial.%d.%d", final, pid, seq)
}

// partialPID parses a directory entry as a temp name and returns the pid
// of its writer, from the end as the real parse_partial_owner_pid
// (file_handling.rs:29) does, so a final name holding ".partial." cannot
// confuse it.
func partialPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok {
		return 0, false
	}
	rest, seq, ok := cutLast(rest)
	if !ok || !isUint(seq, 64) {
		return 0, false
	}
	rest, pid, ok := cutLast(rest)
	if !ok || !isUint(pid, 32) {
		return 0, false
	}
	final, ok := strings.CutSuffix(rest, ".partial")
	if !ok || final == "" {
		return 0, false
	}
	n, _ := strconv.ParseUint(pid, 10, 32)
	return int(n), true
}

func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// isUint is Rust's str::parse::<uN> for decimal digits: no sign, no spaces.
func isUint(s string, bits int) bool {
	if s == "" || strings.ContainsAny(s, "+-") {
		return false
	}
	_, err := strconv.ParseUint(s, 10, bits)
	return err == nil
}

// WriteFileAtomic writes data to path through ".<name>.partial.<pid>.<seq>"
// in the same directory, fsynced, then renamed over path: readers see the
// old content or the new, never a torn file. On any error the temp file is
// removed; a crash leaves it for the next start's Sweep. As the real
// writer, it does not fsync the directory after the rename (tempfile's
// persist is a bare rename).
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(dir, PartialName(filepath.Base(path), os.Getpid(), partialSeq.Add(1)-1))
	f, err := createPartial(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// createPartial creates tmp, reclaiming a file of the same name: it carries
// this process's pid and a sequence number this process has not used, so
// it is a dead predecessor's (the party is pid 1 after every restart), as
// create_partial_tempfile (file_handling.rs:47) reasons.
func createPartial(tmp string) (*os.File, error) {
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if !errors.Is(err, fs.ErrExist) {
		return f, err
	}
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// maxSweepDepth: the layout is at most <root>/<type>/<epoch>/<file>, with
// two levels of headroom (MAX_SWEEP_DEPTH, file_handling.rs:80).
const maxSweepDepth = 4

// Sweep removes the temp files of writes a crash interrupted, as the real
// FileStorage::new does at start: a file goes when its writer's pid is
// dead, or alive but started after the file was last written (a pid reused
// after a crash); an in-flight write is never touched. It logs what the
// real sweep logs and never fails: a directory it cannot read is reported
// by the vault's own checks.
func (v *Vault) Sweep(log *slog.Logger) {
	type candidate struct {
		path string
		pid  int
	}
	var found []candidate
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth > maxSweepDepth {
			log.Warn(fmt.Sprintf("partial-file sweep stopping at unexpected directory depth %d in %s", depth, dir))
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				log.Warn(fmt.Sprintf("partial-file sweep cannot read %s: %v", dir, unwrapPath(err)))
			}
			return
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if e.IsDir() {
				walk(p, depth+1)
			} else if pid, ok := partialPID(e.Name()); ok && e.Type().IsRegular() {
				found = append(found, candidate{p, pid})
			}
		}
	}
	walk(v.Dir(), 0)
	for _, c := range found {
		if mayBeInFlight(c.pid, c.path) {
			continue
		}
		switch err := os.Remove(c.path); {
		case err == nil:
			log.Info(fmt.Sprintf("removed stale partial file %s orphaned by pid %d", c.path, c.pid))
		case errors.Is(err, fs.ErrNotExist): // a concurrent sweeper won
		default:
			log.Warn(fmt.Sprintf("failed to remove stale partial file %s: %v", c.path, unwrapPath(err)))
		}
	}
}

// mayBeInFlight is the real may_be_in_flight (file_handling.rs:141): pid is
// alive and the file is not older than that process (start times are
// whole seconds, so the same second counts as not older); an unknown start
// time or mtime counts as in flight.
func mayBeInFlight(pid int, path string) bool {
	start, alive, known := processStart(pid)
	if !alive {
		return false
	}
	if !known {
		return true
	}
	fi, err := os.Stat(path)
	if err != nil {
		return true
	}
	return !fi.ModTime().Before(time.Unix(start, 0))
}
