package results

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/kmschaos/kmschaos/harness/report"
)

// Meta is what a run's scorecard does not say and the store keeps beside
// it: the labels the user gave, the project's commit and the party image.
type Meta struct {
	Labels map[string]string
	Commit string
	Image  string
	// ID is the run's id when the run already shows it (its report was
	// written naming it, see Session.ID); "" draws a new one.
	ID string
	// Report is where the run's HTML report was written, "" for none.
	Report string
}

// Record stores the run and its scenarios in one transaction, and returns
// the run's id. Only verdicts, times, counts and the guide's defects are
// kept: never a step's output or anything of the cluster's key material.
func (s *Store) Record(ctx context.Context, r *report.Run, m Meta) (string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("recording the run in %s: %w", s.where, err)
	}
	defer func() { _ = tx.Rollback() }()
	id, err := s.write(ctx, tx, r, m)
	if err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("recording the run in %s: %w", s.where, err)
	}
	return id, nil
}

// write inserts the run's rows in tx: Record's, and the benchmarks' store
// of many runs in one transaction.
func (s *Store) write(ctx context.Context, tx *sql.Tx, r *report.Run, m Meta) (string, error) {
	id := m.ID
	if id == "" {
		id = newID()
	}
	backend := r.Backend
	if backend == "" {
		backend = "docker"
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO runs (id, started_ns, duration_ns, seed, backend, n, t, commit_sha, machine, image, report)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		id, nanos(r.Started), int64(r.Duration), int64(r.Seed), backend, r.N, r.T, m.Commit, r.Machine, m.Image, m.Report); err != nil {
		return "", fmt.Errorf("recording the run in %s: %w", s.where, err)
	}
	for k, v := range m.Labels {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO run_labels (run_id, key, value) VALUES (?, ?, ?)`), id, k, v); err != nil {
			return "", fmt.Errorf("recording the run's labels in %s: %w", s.where, err)
		}
	}
	ins, err := tx.PrepareContext(ctx, s.q(`INSERT INTO scenarios (run_id, position, name, section, verdict, ttd_ns, ttr_ns,
		ops_ok, ops_failed, ops_wrong, keys, defects, recovered_by, error, duration_ns,
		reset_ns, prelude_ns, inject_ns, detect_ns, observe_ns, runbook_ns, recover_ns, audit_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return "", fmt.Errorf("recording the run in %s: %w", s.where, err)
	}
	defer func() { _ = ins.Close() }()
	for i, sc := range r.Scenarios {
		p := sc.Phases
		if _, err := ins.ExecContext(ctx, id, i, sc.Name, sc.Section, sc.Result(), int64(sc.TTD), int64(sc.TTR),
			sc.Ops.OK, sc.Ops.Failed, sc.Ops.Wrong, sc.KeysWord(), strings.Join(sc.Defects, "\n"), sc.RecoveredBy, firstLine(sc.Error), int64(sc.Duration),
			int64(p.Reset), int64(p.Prelude), int64(p.Inject), int64(p.Detect), int64(p.Observe), int64(p.Runbook), int64(p.Recover), int64(p.Audit)); err != nil {
			return "", fmt.Errorf("recording scenario %q in %s: %w", sc.Name, s.where, err)
		}
	}
	return id, nil
}

// newID is a run's id: 12 hex digits, short enough to type.
func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// ParseLabels reads labels given as k=v: each of flags (the flag named
// flag, for messages), then the
// comma-separated list of env (KMSCHAOS_LABELS); a flag wins over env for
// the same key. A label without = or with an empty key is an error
// naming it.
func ParseLabels(flag string, flags []string, env string) (map[string]string, error) {
	out := map[string]string{}
	add := func(kv, from string) error {
		k, v, ok := cutLabel(kv)
		if !ok {
			return fmt.Errorf("%s %q: a label is key=value, e.g. release=1.4.2", from, kv)
		}
		out[k] = v
		return nil
	}
	if env != "" {
		for _, kv := range strings.Split(env, ",") {
			if err := add(kv, "KMSCHAOS_LABELS"); err != nil {
				return nil, err
			}
		}
	}
	for _, kv := range flags {
		if err := add(kv, flag); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// cutLabel reads one label, key=value, trimmed; not ok without = or
// with an empty key.
func cutLabel(kv string) (k, v string, ok bool) {
	k, v, ok = strings.Cut(kv, "=")
	k = strings.TrimSpace(k)
	return k, strings.TrimSpace(v), ok && k != ""
}

// FormatLabels is labels as k=v, sorted, comma-separated.
func FormatLabels(labels map[string]string) string {
	var kv []string
	for k, v := range labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// Commit is the project's commit: the binary's vcs.revision where Go
// stamped it, else `git rev-parse HEAD` in dir (tests and `go run` are
// not stamped), with "+dirty" for uncommitted changes; "" if neither
// knows.
func Commit(dir string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "+dirty"
			}
			return rev
		}
	}
	if dir == "" {
		dir, _ = os.Getwd()
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += "+dirty"
	}
	return rev
}

// Session records one run: Begin opens (and migrates) the store before
// the run starts, so a store that cannot be used stops the command before
// any cluster work; Finish records the run once its scorecard is written.
// The two scorecard writers — the suite's and `kmschaos run`'s — are its
// callers, so every run that writes a scorecard is recorded once.
type Session struct {
	store *Store
	meta  Meta
}

// Begin opens the store at where (see Where) for a run with these labels,
// in the project at dir (for its commit).
func Begin(ctx context.Context, where string, labels map[string]string, dir string) (*Session, error) {
	s, err := Open(ctx, where)
	if err != nil {
		return nil, err
	}
	return &Session{store: s, meta: Meta{Labels: labels, Commit: Commit(dir), ID: newID()}}, nil
}

// ID is the id the run will be recorded as, known before it runs: its
// report shows it (report.Run.RecordedAs), so a link from the trends
// page to a report folder a later run reused can be told apart.
func (s *Session) ID() string { return s.meta.ID }

// Store names the session's store.
func (s *Session) Store() string { return s.store.String() }

// Labels are the labels the run is recorded with.
func (s *Session) Labels() map[string]string { return s.meta.Labels }

// Close closes the store without recording: a command that only checked
// it, for a run another process records (a game day's).
func (s *Session) Close() error { return s.store.Close() }

// FinishAndSay records the run as Finish does and says so: on w the
// run's id and how to read it back, or on errw, in one line, why it was
// not recorded — a run's outcome and its reports stand either way.
func (s *Session) FinishAndSay(ctx context.Context, r *report.Run, image, reportHTML string, w, errw io.Writer) {
	id, err := s.Finish(context.WithoutCancel(ctx), r, image, reportHTML)
	if err != nil {
		fmt.Fprintf(errw, "kmschaos: the run was not recorded in %s: %s (its reports are written all the same)\n",
			s.Store(), strings.Join(strings.Fields(err.Error()), " "))
		return
	}
	fmt.Fprintf(w, "recorded as run %s in %s ('kmschaos history %s')\n", id, s.Store(), id)
}

// Finish records the run, which ran the party image image and wrote its
// HTML report at reportHTML ("" for none; kept absolute), closes the
// store and returns the run's id.
func (s *Session) Finish(ctx context.Context, r *report.Run, image, reportHTML string) (string, error) {
	defer func() { _ = s.store.Close() }()
	m := s.meta
	m.Image = image
	if reportHTML != "" {
		if abs, err := filepath.Abs(reportHTML); err == nil {
			reportHTML = abs
		}
	}
	m.Report = reportHTML
	return s.store.Record(ctx, r, m)
}
