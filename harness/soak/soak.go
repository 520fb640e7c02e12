// Package soak reads the scorecards of several runs of the scenario
// catalog (make soak) and says how often each scenario failed, why, and
// how its time-to-detect and time-to-recover spread: the flake rate of
// the suite, measured.
package soak

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// The files a run leaves in its directory.
const (
	ScorecardFile  = "scorecard.json"
	ExitStatusFile = "exit-status" // the suite's exit status (scripts/suite.sh), written by scripts/soak.sh
)

// Run is one run of the catalog.
type Run struct {
	Index    int           `json:"run"` // 1-based, in the order given
	Dir      string        `json:"dir"`
	Seed     uint64        `json:"seed"`
	N        int           `json:"n"`
	T        int           `json:"t"`
	Duration time.Duration `json:"duration_ns"`
	// ExitStatus is the suite's, when the run recorded it: a run can go red
	// outside any scenario (the cluster's start, the secret scan).
	ExitStatus *int `json:"exit_status,omitempty"`
	// Missing says why the run left no scorecard; its scenarios did not run.
	Missing string `json:"missing,omitempty"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	// Skipped counts the scenarios the backend could not run (a verb it
	// cannot offer): neither passed nor failed.
	Skipped int `json:"skipped,omitempty"`
}

// Red tells whether the run failed, in a scenario or elsewhere.
func (r Run) Red() bool {
	return r.Missing != "" || r.Failed > 0 || (r.ExitStatus != nil && *r.ExitStatus != 0)
}

// Cell is one scenario in one run.
type Cell struct {
	Ran    bool   `json:"ran"`
	Passed bool   `json:"passed"`
	Reason string `json:"reason,omitempty"` // why it failed, as the scorecard says
	// Skipped is why the scenario was skipped in this run (the backend
	// cannot offer a verb it needs): the cell is neither a pass nor a
	// failure, and its run is not in the flake rate.
	Skipped   string        `json:"skipped,omitempty"`
	Detected  bool          `json:"detected"`
	TTD       time.Duration `json:"ttd_ns,omitempty"`
	Recovered bool          `json:"recovered"`
	TTR       time.Duration `json:"ttr_ns,omitempty"`
	Duration  time.Duration `json:"duration_ns,omitempty"`
}

// Dist is the spread of a duration over the runs that measured it.
type Dist struct {
	Count  int           `json:"count"`
	Min    time.Duration `json:"min_ns"`
	Median time.Duration `json:"median_ns"`
	Max    time.Duration `json:"max_ns"`
}

// Scenario is one scenario over every run.
type Scenario struct {
	Name    string `json:"name"`
	Section string `json:"section"`
	Ran     int    `json:"ran"`    // runs in which it ran to a verdict, passed or failed
	Failed  int    `json:"failed"` // of those, the ones it failed
	// Skipped counts the runs in which it was skipped: not in Ran, so
	// not in the flake rate's denominator.
	Skipped int `json:"skipped,omitempty"`
	// FlakeRate is Failed / Ran: every red of a soak is a flake, since
	// the same catalog ran each time.
	FlakeRate float64 `json:"flake_rate"`
	TTD       Dist    `json:"ttd"`
	TTR       Dist    `json:"ttr"`
	Duration  Dist    `json:"duration"`
	Cells     []Cell  `json:"runs"` // one per run, in run order
}

// Report is a whole soak.
type Report struct {
	Runs      []Run      `json:"runs"`
	Scenarios []Scenario `json:"scenarios"`
	// ScenarioRuns counts every scenario run in every run that came to a
	// verdict; FailedRuns those that failed; FlakeRate is their ratio.
	// SkippedRuns counts the skipped ones, in none of them.
	ScenarioRuns int     `json:"scenario_runs"`
	FailedRuns   int     `json:"failed_scenario_runs"`
	SkippedRuns  int     `json:"skipped_scenario_runs,omitempty"`
	FlakeRate    float64 `json:"flake_rate"`
	RedRuns      int     `json:"red_runs"` // runs with any red, in a scenario or not
}

// InputError is a scorecard that cannot be read as one: it names the
// file, the line and the offending text.
type InputError struct {
	File string
	Line int
	Text string // the offending line
	Err  error
}

func (e *InputError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v: %q", e.File, e.Line, e.Err, e.Text)
}

func (e *InputError) Unwrap() error { return e.Err }

// Load reads the run directories in order. A directory without a
// scorecard is a run that did not finish, not an error; a scorecard that
// is not one is an *InputError.
func Load(dirs []string) (*Report, error) {
	var runs []Run
	var cards []*report.Run
	for i, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, &InputError{File: dir, Err: err}
		}
		if !st.IsDir() {
			return nil, &InputError{File: dir, Err: errors.New("not a run directory (give the directory that holds " + ScorecardFile + ")")}
		}
		run := Run{Index: i + 1, Dir: dir}
		if run.ExitStatus, err = readExitStatus(filepath.Join(dir, ExitStatusFile)); err != nil {
			return nil, err
		}
		card, err := readScorecard(filepath.Join(dir, ScorecardFile))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			run.Missing = "no " + ScorecardFile + ": the suite did not get to write it"
		case err != nil:
			return nil, err
		default:
			run.Seed, run.N, run.T, run.Duration = card.Seed, card.N, card.T, card.Duration
		}
		runs = append(runs, run)
		cards = append(cards, card)
	}
	return Aggregate(runs, cards), nil
}

func readExitStatus(path string) (*int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &InputError{File: path, Err: err}
	}
	text := strings.TrimSpace(string(b))
	n, err := strconv.Atoi(text)
	if err != nil || n < 0 {
		return nil, &InputError{File: path, Line: 1, Text: text, Err: errors.New("not an exit status")}
	}
	return &n, nil
}

func readScorecard(path string) (*report.Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, &InputError{File: path, Err: err}
	}
	// Fields this build does not know are let through: a scorecard of a
	// newer harness still has the ones a soak reads.
	var r report.Run
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&r); err != nil {
		ie := &InputError{File: path, Err: err}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			ie.Line, ie.Text = lineAt(b, syn.Offset)
		case errors.As(err, &typ):
			ie.Line, ie.Text = lineAt(b, typ.Offset)
		case errors.Is(err, io.EOF):
			ie.Err = errors.New("empty file, not a scorecard")
		}
		return nil, ie
	}
	if r.N == 0 {
		line, text := lineAt(b, 0)
		return nil, &InputError{File: path, Line: line, Text: text, Err: errors.New("not a scorecard: it has no cluster size (n)")}
	}
	for k, s := range r.Scenarios {
		if s.Name == "" {
			return nil, &InputError{File: path, Err: fmt.Errorf("scenario %d has no name", k+1)}
		}
	}
	return &r, nil
}

// lineAt is the 1-based line holding byte offset off of b, and its text.
func lineAt(b []byte, off int64) (int, string) {
	off = min(max(off, 0), int64(len(b)))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	start := bytes.LastIndexByte(b[:off], '\n') + 1
	end := bytes.IndexByte(b[off:], '\n')
	if end < 0 {
		end = len(b) - int(off)
	}
	text := strings.TrimSpace(string(b[start : int(off)+end]))
	if text == "" && start > 0 { // the decoder stopped at a line's end
		return lineAt(b, int64(start-1))
	}
	return line, text
}

// Aggregate makes the report of runs whose scorecards are cards (nil
// where a run left none), in order. Scenarios keep the order in which
// they first appear.
func Aggregate(runs []Run, cards []*report.Run) *Report {
	rep := &Report{Runs: runs}
	index := map[string]int{}
	for i, card := range cards {
		if card == nil {
			continue
		}
		for _, s := range card.Scenarios {
			k, ok := index[s.Name]
			if !ok {
				k = len(rep.Scenarios)
				index[s.Name] = k
				rep.Scenarios = append(rep.Scenarios, Scenario{Name: s.Name, Section: s.Section, Cells: make([]Cell, len(runs))})
			}
			c := Cell{Ran: true, Passed: s.Passed, Detected: s.Detected, Recovered: s.Recovered, Duration: s.Duration}
			if s.Result() == report.ResultSkip {
				// Not judged: no pass, no failure, no times to spread.
				rep.Runs[i].Skipped++
				rep.Scenarios[k].Cells[i] = Cell{Ran: true, Skipped: s.Skipped}
				continue
			}
			if s.Detected && len(s.Detections) > 0 {
				c.TTD = s.TTD
			}
			if s.Recovered && s.TTR > 0 {
				c.TTR = s.TTR
			}
			if !s.Passed {
				c.Reason = s.Error
				if c.Reason == "" {
					c.Reason = "failed without a reason in the scorecard"
				}
				rep.Runs[i].Failed++
			} else {
				rep.Runs[i].Passed++
			}
			rep.Scenarios[k].Cells[i] = c
		}
	}
	for k := range rep.Scenarios {
		s := &rep.Scenarios[k]
		var ttd, ttr, dur []time.Duration
		for _, c := range s.Cells {
			if !c.Ran {
				continue
			}
			if c.Skipped != "" {
				s.Skipped++
				continue
			}
			s.Ran++
			if !c.Passed {
				s.Failed++
			}
			if c.TTD > 0 {
				ttd = append(ttd, c.TTD)
			}
			if c.TTR > 0 {
				ttr = append(ttr, c.TTR)
			}
			dur = append(dur, c.Duration)
		}
		s.FlakeRate = ratio(s.Failed, s.Ran)
		s.TTD, s.TTR, s.Duration = distOf(ttd), distOf(ttr), distOf(dur)
		rep.ScenarioRuns += s.Ran
		rep.FailedRuns += s.Failed
		rep.SkippedRuns += s.Skipped
	}
	rep.FlakeRate = ratio(rep.FailedRuns, rep.ScenarioRuns)
	for _, r := range rep.Runs {
		if r.Red() {
			rep.RedRuns++
		}
	}
	return rep
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// distOf is the spread of ds; the median of an even count is the mean of
// the middle two.
func distOf(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Dist{Count: len(s), Min: s[0], Median: med, Max: s[len(s)-1]}
}
