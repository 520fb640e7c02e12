package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kmschaos/kmschaos/fixtures"
)

// The harness's folders in os.TempDir(): build contexts (kmschaos-images-*,
// about 100 MB) and copies of the Kubernetes chart for one helm call
// (kmschaos-chart-*), each removed by its maker when done, and the
// configuration and data of a suite cluster's Prometheus
// (kmschaos-prometheus-*, harness/signals), removed with its cluster; a
// maker killed meanwhile leaves its folder. Older versions also dealt the keys into
// kmschaos-golden-* (every party's shares) and removed it only in
// Terminate; keys are now dealt inside the cluster.
var leftoverPatterns = []string{"kmschaos-golden-*", "kmschaos-images-*", "kmschaos-chart-*", "kmschaos-prometheus-*"}

// OwnerFile marks a folder whose maker holds a lock (flock) on the folder
// for as long as it uses it: the kernel drops the lock when the maker
// dies, however it dies, so a sweep tells a dead maker's folder from a
// live one's at once, whatever their age. It is written once the lock is
// held, and says who holds it (host/pid) for a person looking.
const OwnerFile = ".kmschaos-owner"

// tempDirGrace is the age rule for a folder without an owner file: one an
// older version made (a golden copy lives as long as its cluster, at most
// a test run's 80 minute timeout), or one whose maker was killed between
// making it and writing the owner file. Only the name and the age can
// tell a leftover there.
var tempDirGrace = fixtures.Intervals.Cluster.TempDirGrace

// OwnedDir is a folder in os.TempDir() that this process holds for its
// life (see OwnerFile).
type OwnedDir struct {
	Path string
	lock *os.File
}

// MkdirOwned makes a folder in os.TempDir() named after pattern (as
// os.MkdirTemp) and holds it: remove it with Remove.
func MkdirOwned(pattern string) (*OwnedDir, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return nil, err
	}
	// Opened close-on-exec, as Go opens every file: a child (go build,
	// helm) does not inherit the lock and outlive its maker with it.
	lock, err := os.Open(dir)
	if err == nil {
		err = unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, OwnerFile), []byte(owner()+"\n"), 0o600)
	}
	d := &OwnedDir{Path: dir, lock: lock}
	if err != nil {
		return nil, errors.Join(err, d.Remove())
	}
	return d, nil
}

// Remove removes the folder, then lets go of it.
func (d *OwnedDir) Remove() error {
	err := os.RemoveAll(d.Path)
	if d.lock != nil {
		d.lock.Close()
	}
	return err
}

// SweepTempDirs removes the harness's folders in os.TempDir() whose maker
// is gone (see sweepTempDirs), and returns how many it removed: part of a
// sweep of killed runs on any backend.
func SweepTempDirs() (int, error) { return sweepTempDirs(os.TempDir(), tempDirGrace, time.Now()) }

// sweepTempDirs removes the harness's folders in dir whose maker is gone:
// at once for a folder with an owner file whose lock no one holds, after
// grace for one without. It returns how many it removed.
func sweepTempDirs(dir string, grace time.Duration, now time.Time) (int, error) {
	var errs []error
	n := 0
	for _, pat := range leftoverPatterns {
		matches, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return n, err
		}
		for _, m := range matches {
			release, gone := ownerGone(m, grace, now)
			if !gone {
				continue
			}
			err := os.RemoveAll(m)
			release()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}

// ownerGone tells whether the folder m's maker is gone; if so, the caller
// removes m, then calls release (which lets go of the lock taken to know:
// no one else takes the folder meanwhile).
func ownerGone(m string, grace time.Duration, now time.Time) (release func(), gone bool) {
	none := func() {}
	fi, err := os.Lstat(m)
	if err != nil || !fi.IsDir() {
		return none, false
	}
	if _, err := os.Lstat(filepath.Join(m, OwnerFile)); err != nil {
		return none, now.Sub(fi.ModTime()) >= grace
	}
	f, err := os.Open(m)
	if err != nil {
		return none, false
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		// EWOULDBLOCK: its maker holds it.
		f.Close()
		return none, false
	}
	return func() { f.Close() }, true
}
