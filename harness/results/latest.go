package results

import (
	"context"
	"errors"
	"strings"
)

// Latest is what the store says now about one backend's runs: how many
// were recorded, the newest, and each scenario's last verdicts. It is
// what a monitoring scrape reads (harness/resultmetrics).
type Latest struct {
	Backend   string
	Runs      int               // runs recorded
	Newest    Run               // the newest of them
	Scenarios []ScenarioHistory // each scenario's last verdicts, newest first
}

// Latest is, per backend of the runs the filter selects (sorted), the
// count of runs, the newest run and each scenario's last window
// verdicts. A filter naming what the store has never seen is an error
// wrapping ErrUnknown, as for Runs; a store that fails to answer is an
// *Unreadable.
func (s *Store) Latest(ctx context.Context, f Filter, window int) ([]Latest, error) {
	if err := s.known(ctx, f); err != nil {
		if errors.Is(err, ErrUnknown) {
			return nil, err
		}
		return nil, s.unreadable(err)
	}
	cond, args := f.where()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT r.backend, COUNT(*) FROM runs r WHERE `+cond+` GROUP BY r.backend ORDER BY r.backend`), args...)
	if err != nil {
		return nil, s.unreadable(err)
	}
	var out []Latest
	for rows.Next() {
		var l Latest
		if err := rows.Scan(&l.Backend, &l.Runs); err != nil {
			_ = rows.Close()
			return nil, s.unreadable(err)
		}
		out = append(out, l)
	}
	if err := closeRows(rows); err != nil {
		return nil, s.unreadable(err)
	}
	// The filter is known (above); a backend the store just listed is too.
	for i := range out {
		fb := f
		fb.Backend = out[i].Backend
		newest, err := s.runs(ctx, fb, 1)
		if err != nil {
			return nil, s.unreadable(err)
		}
		if len(newest) == 1 {
			out[i].Newest = newest[0]
		}
		if out[i].Scenarios, err = s.scenarios(ctx, fb, window); err != nil {
			return nil, s.unreadable(err)
		}
	}
	return out, nil
}

// unreadable is a store's failure to answer, on one line naming it.
func (s *Store) unreadable(err error) error {
	var u *Unreadable
	if errors.As(err, &u) {
		return u
	}
	return &Unreadable{s.where, strings.Join(strings.Fields(err.Error()), " ")}
}
