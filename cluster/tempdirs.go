package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/kmschaos/kmschaos/fixtures"
)

// Older versions dealt the keys into os.TempDir()/kmschaos-golden-* (every
// party's shares, signing keys and PRSS keys) and removed it only in
// Terminate, so each killed run left a full key set on the host; build
// contexts (kmschaos-images-*) were left the same way. Keys are now dealt
// inside the cluster and contexts removed right after the build; a sweep
// removes what older versions left, and a copy of the Kubernetes chart
// (templates only) that a run killed during its helm call left.
var leftoverPatterns = []string{"kmschaos-golden-*", "kmschaos-images-*", "kmschaos-chart-*"}

// tempDirGrace keeps a folder a live run of an older version may still be
// using (a golden copy lives as long as its cluster, at most a test run's
// 80 minute timeout); only the name and the age tell a leftover here.
var tempDirGrace = fixtures.Intervals.Cluster.TempDirGrace

// sweepTempDirs removes the leftover folders of older versions in dir
// older than grace, and returns how many it removed.
func sweepTempDirs(dir string, grace time.Duration, now time.Time) (int, error) {
	var errs []error
	n := 0
	for _, pat := range leftoverPatterns {
		matches, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return n, err
		}
		for _, m := range matches {
			fi, err := os.Lstat(m)
			if err != nil || !fi.IsDir() || now.Sub(fi.ModTime()) < grace {
				continue
			}
			if err := os.RemoveAll(m); err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}
