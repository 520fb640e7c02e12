package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/kmschaos/kmschaos/cluster"
)

// Tracker keeps a cluster's secrets whole while the cluster changes: a
// runbook's kms-init makes a fresh PRSS epoch, a Reset removes it again,
// and a report written after either must still be searched for it. It
// starts from every secret stored now (Collect) and reads each stored
// file the cluster handle later sees with a new digest, in every manifest
// it reads (cluster.WatchStorage: audits, key checks, the check after
// every runbook step). What it learns is redacted from then on (Use).
type Tracker struct {
	c    *cluster.Cluster
	mu   sync.Mutex
	seen map[string]bool // "digest path" of every file already read
	set  *Set
	errs []error
}

// Track collects the cluster's secrets, makes them the set Redact masks,
// and keeps both up to date as the handle sees new stored objects.
func Track(ctx context.Context, c *cluster.Cluster) (*Tracker, error) {
	t, err := Watch(ctx, c)
	if err != nil {
		return nil, err
	}
	set, err := Collect(ctx, c)
	if err != nil {
		t.Stop()
		return nil, err
	}
	t.add(set)
	return t, nil
}

// Watch is Track without reading what is stored now (every file, one copy
// each: seconds at n=13): for a process that collects the secrets of the
// end anyway (a game day's runner) and needs only those made meanwhile.
func Watch(ctx context.Context, c *cluster.Cluster) (*Tracker, error) {
	now, err := c.Storage(ctx)
	if err != nil {
		return nil, err
	}
	t := &Tracker{c: c, seen: map[string]bool{}, set: NewSet()}
	for _, lines := range now {
		for _, l := range lines {
			if key, _, ok := file(l); ok {
				t.seen[key] = true
			}
		}
	}
	c.WatchStorage(t.observe)
	return t, nil
}

// add merges s into the tracked set and makes it the one Redact masks.
func (t *Tracker) add(s *Set) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.set = Merge(t.set, s)
	Use(t.set)
}

// file reads a manifest line: "digest path" of a regular file, and its path.
func file(line string) (key, path string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "f" {
		return "", "", false
	}
	return f[4] + " " + f[5], f[5], true
}

// observe reads the files of m it has not seen, and adds their secrets.
func (t *Tracker) observe(ctx context.Context, m cluster.Manifest) {
	var fresh []string
	t.mu.Lock()
	for _, lines := range m {
		for _, l := range lines {
			if key, p, ok := file(l); ok && !t.seen[key] {
				t.seen[key] = true
				fresh = append(fresh, p)
			}
		}
	}
	t.mu.Unlock()
	if len(fresh) == 0 {
		return
	}
	var found []Secret
	var errs []error
	for _, p := range fresh {
		raw, err := t.c.ReadFile(ctx, p)
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist) && strings.Contains(path.Base(p), ".partial."):
			// A write's temp file, renamed since the manifest was read:
			// what it held is read under its own name.
			continue
		case err != nil:
			// Gone since the manifest was read, or unreadable: either way
			// the scan cannot vouch for what it held.
			errs = append(errs, fmt.Errorf("reading %s, new in the cluster's storage: %w", p, err))
			continue
		}
		found = append(found, FromObject(p, raw)...)
	}
	t.mu.Lock()
	t.errs = append(t.errs, errs...)
	t.mu.Unlock()
	if len(found) > 0 {
		t.add(NewSet(found...))
	}
}

// Set is every secret the cluster held at any point the handle saw.
func (t *Tracker) Set() *Set {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.set
}

// Err names the new stored files that could not be read: secrets the
// scan may not know. A scan that must vouch for the reports fails on it.
func (t *Tracker) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return errors.Join(t.errs...)
}

// Stop stops watching the cluster.
func (t *Tracker) Stop() { t.c.WatchStorage(nil) }
