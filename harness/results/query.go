package results

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/harness/fault"
)

// Filter selects runs. Zero fields select everything.
type Filter struct {
	Run      string            // one run, by id
	Labels   map[string]string // runs with every one of these labels
	Scenario string            // runs that ran this scenario (and, for Scenarios, only its rows)
	Section  string            // runs that ran a scenario of this section (and only those rows)
	Backend  string
	Since    time.Time
}

// Run is one recorded run and its tally.
type Run struct {
	ID       string        `json:"id"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Seed     uint64        `json:"seed"`
	Backend  string        `json:"backend"`
	N        int           `json:"n"`
	T        int           `json:"t"`
	Commit   string        `json:"commit"`
	Image    string        `json:"image"`
	// Report is where the run's HTML report was written, as the machine
	// that ran it saw it; "" for none (or recorded before kmschaos kept it).
	Report  string            `json:"report,omitempty"`
	Labels  map[string]string `json:"labels"`
	Passed  int               `json:"passed"`
	Failed  int               `json:"failed"`
	Skipped int               `json:"skipped"`
}

// Verdict is one scenario's outcome in one run.
type Verdict struct {
	Run         string        `json:"run"`
	Started     time.Time     `json:"started"`
	Verdict     string        `json:"verdict"` // PASS, FAIL or SKIP
	TTD         time.Duration `json:"ttd_ns"`
	TTR         time.Duration `json:"ttr_ns"`
	RecoveredBy string        `json:"recovered_by,omitempty"`
}

// Count is verdicts counted: PASS, FAIL, and the rest (SKIP: the
// backend could not offer a verb), which is neither.
type Count struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// Add counts one verdict.
func (c *Count) Add(verdict string) {
	switch verdict {
	case "PASS":
		c.Passed++
	case "FAIL":
		c.Failed++
	default:
		c.Skipped++
	}
}

// Judged is how many verdicts passed or failed.
func (c Count) Judged() int { return c.Passed + c.Failed }

// Flaky: it both passed and failed.
func (c Count) Flaky() bool { return c.Passed > 0 && c.Failed > 0 }

// ScenarioHistory is a scenario's last verdicts, newest first.
type ScenarioHistory struct {
	Name    string    `json:"name"`
	Section string    `json:"section"`
	Last    []Verdict `json:"last"`
}

// where is the SQL condition on runs r (and its arguments) the filter
// makes. A label is "r.id IN (…)", not a correlated EXISTS: SQLite then
// starts from the runs that have it (run_labels_key) instead of testing
// every scenario row of the store — 1 ms against 0.8 s at 10,000 runs.
func (f Filter) where() (string, []any) {
	conds, args := []string{"1=1"}, []any{}
	if f.Run != "" {
		conds, args = append(conds, "r.id = ?"), append(args, f.Run)
	}
	if f.Backend != "" {
		conds, args = append(conds, "r.backend = ?"), append(args, f.Backend)
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "r.started_ns >= ?"), append(args, nanos(f.Since))
	}
	for _, k := range sortedKeys(f.Labels) {
		conds = append(conds, "r.id IN (SELECT l.run_id FROM run_labels l WHERE l.key = ? AND l.value = ?)")
		args = append(args, k, f.Labels[k])
	}
	if f.Scenario != "" {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM scenarios x WHERE x.run_id = r.id AND x.name = ?)"), append(args, f.Scenario)
	}
	if f.Section != "" {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM scenarios x WHERE x.run_id = r.id AND x.section = ?)"), append(args, f.Section)
	}
	return strings.Join(conds, " AND "), args
}

// Runs are the runs the filter selects, newest first, at most limit.
// A run id, label, scenario or section the store has never seen is an
// error wrapping ErrUnknown that names the closest it has.
func (s *Store) Runs(ctx context.Context, f Filter, limit int) ([]Run, error) {
	if err := s.known(ctx, f); err != nil {
		return nil, err
	}
	return s.runs(ctx, f, limit)
}

// runs is Runs for a filter known to name what the store holds.
func (s *Store) runs(ctx context.Context, f Filter, limit int) ([]Run, error) {
	cond, args := f.where()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT r.id, r.started_ns, r.duration_ns, r.seed, r.backend, r.n, r.t, r.commit_sha, r.image, r.report,
		(SELECT COUNT(*) FROM scenarios x WHERE x.run_id = r.id AND x.verdict = 'PASS'),
		(SELECT COUNT(*) FROM scenarios x WHERE x.run_id = r.id AND x.verdict = 'FAIL'),
		(SELECT COUNT(*) FROM scenarios x WHERE x.run_id = r.id AND x.verdict = 'SKIP')
		FROM runs r WHERE `+cond+` ORDER BY r.started_ns DESC, r.id LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, err
	}
	var out []Run
	byID := map[string]*Run{}
	for rows.Next() {
		var r Run
		var started, dur, seed int64
		if err := rows.Scan(&r.ID, &started, &dur, &seed, &r.Backend, &r.N, &r.T, &r.Commit, &r.Image, &r.Report, &r.Passed, &r.Failed, &r.Skipped); err != nil {
			_ = rows.Close()
			return nil, err
		}
		r.Started, r.Duration, r.Seed, r.Labels = time.Unix(0, started).UTC(), time.Duration(dur), uint64(seed), map[string]string{}
		out = append(out, r)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	if len(out) == 0 {
		return out, nil
	}
	// The labels of the runs listed, in one query.
	ids := make([]any, 0, len(out))
	for _, r := range out {
		ids = append(ids, r.ID)
	}
	lrows, err := s.db.QueryContext(ctx, s.q(`SELECT run_id, key, value FROM run_labels WHERE run_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`), ids...)
	if err != nil {
		return nil, err
	}
	for lrows.Next() {
		var id, k, v string
		if err := lrows.Scan(&id, &k, &v); err != nil {
			_ = lrows.Close()
			return nil, err
		}
		byID[id].Labels[k] = v
	}
	return out, closeRows(lrows)
}

// Scenarios are, for each scenario of the runs the filter selects (only
// Filter.Scenario, or only Filter.Section's, where given), its last
// verdicts with TTD and TTR, newest first, at most last each; sorted by
// section and name.
//
// It reads the runs newest first and stops once every scenario has its
// last verdicts: a window over every row (ROW_NUMBER … PARTITION BY
// name) took 7 s for a plain `history` over 10,000 runs × 60 scenarios;
// this reads the newest few runs, unless a scenario ran only long ago.
func (s *Store) Scenarios(ctx context.Context, f Filter, last int) ([]ScenarioHistory, error) {
	if err := s.known(ctx, f); err != nil {
		return nil, err
	}
	return s.scenarios(ctx, f, last)
}

// scenarios is Scenarios for a filter known to name what the store holds.
func (s *Store) scenarios(ctx context.Context, f Filter, last int) ([]ScenarioHistory, error) {
	cond, args := f.where()
	if f.Scenario != "" {
		cond, args = cond+" AND s.name = ?", append(args, f.Scenario)
	}
	if f.Section != "" {
		cond, args = cond+" AND s.section = ?", append(args, f.Section)
	}
	want, err := s.scenarioNames(ctx, f)
	if err != nil || want == 0 || last <= 0 {
		return []ScenarioHistory{}, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT s.name, s.section, s.verdict, s.ttd_ns, s.ttr_ns, s.recovered_by, s.run_id, r.started_ns
		FROM runs r `+s.runsFirst()+` scenarios s ON s.run_id = r.id WHERE `+cond+` ORDER BY r.started_ns DESC, r.id`), args...)
	if err != nil {
		return nil, err
	}
	byName := map[string]*ScenarioHistory{}
	full := 0
	for full < want && rows.Next() {
		var name, section string
		var v Verdict
		var ttd, ttr, started int64
		if err := rows.Scan(&name, &section, &v.Verdict, &ttd, &ttr, &v.RecoveredBy, &v.Run, &started); err != nil {
			_ = rows.Close()
			return nil, err
		}
		h := byName[name]
		if h == nil {
			h = &ScenarioHistory{Name: name, Section: section}
			byName[name] = h
		}
		if len(h.Last) == last {
			continue
		}
		v.TTD, v.TTR, v.Started = time.Duration(ttd), time.Duration(ttr), time.Unix(0, started).UTC()
		if h.Last = append(h.Last, v); len(h.Last) == last {
			full++
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	out := make([]ScenarioHistory, 0, len(byName))
	for _, h := range byName {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Section != out[j].Section {
			return out[i].Section < out[j].Section
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// scenarioNames counts the scenarios Scenarios could find, for it to
// know when it has them all: those of the whole store (only the filter's
// scenario or section), from an index alone. A scenario
// the filter's runs never ran keeps Scenarios reading to their end —
// slower, never wrong; counting exactly would read every selected row.
func (s *Store) scenarioNames(ctx context.Context, f Filter) (int, error) {
	query, args := `SELECT DISTINCT name FROM scenarios WHERE 1=1`, []any{}
	if f.Scenario != "" {
		query, args = query+" AND name = ?", append(args, f.Scenario)
	}
	if f.Section != "" {
		query, args = query+" AND section = ?", append(args, f.Section)
	}
	var n int
	// COUNT over DISTINCT: SQLite reads the index in name order then,
	// rather than sorting every name.
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM (`+query+`) names`), args...).Scan(&n)
	return n, err
}

// runsFirst joins runs to their scenarios reading the runs first, in the
// order asked, so a reader that stops early reads few rows: SQLite
// without statistics would rather read every scenario and sort them
// (1.6 s at 10,000 runs), and its CROSS JOIN keeps the order written.
// PostgreSQL plans by its statistics, and has no CROSS JOIN … ON.
func (s *Store) runsFirst() string {
	if s.pg {
		return "JOIN"
	}
	return "CROSS JOIN"
}

// known checks that what the filter names exists in the store at all,
// so a typo says so (naming the closest) instead of listing nothing.
func (s *Store) known(ctx context.Context, f Filter) error {
	if f.Run != "" {
		if err := s.oneOf(ctx, "run", f.Run, `SELECT id FROM runs`); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(f.Labels) {
		if err := s.oneOf(ctx, "label key", k, `SELECT DISTINCT key FROM run_labels`); err != nil {
			return err
		}
		if err := s.oneOf(ctx, "value of label "+k, f.Labels[k], `SELECT DISTINCT value FROM run_labels WHERE key = ?`, k); err != nil {
			return err
		}
	}
	if f.Scenario != "" {
		if err := s.oneOf(ctx, "scenario", f.Scenario, `SELECT DISTINCT name FROM scenarios`); err != nil {
			return err
		}
	}
	if f.Section != "" {
		if err := s.oneOf(ctx, "section", f.Section, `SELECT DISTINCT section FROM scenarios`); err != nil {
			return err
		}
	}
	if f.Backend != "" {
		if err := s.oneOf(ctx, "backend", f.Backend, `SELECT DISTINCT backend FROM runs`); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) oneOf(ctx context.Context, what, value, query string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return err
	}
	var have []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			_ = rows.Close()
			return err
		}
		if v == value {
			return closeRows(rows)
		}
		have = append(have, v)
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	if len(have) == 0 {
		return fmt.Errorf("%w %s %q: the store %s has none recorded", ErrUnknown, what, value, s.where)
	}
	return fmt.Errorf("%w %s %q in %s: did you mean %q?", ErrUnknown, what, value, s.where, fault.Nearest(value, have))
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		_ = rows.Close()
		return err
	}
	return rows.Close()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
