// Package trends draws the results store's runs over time as one
// self-contained HTML page (`kmschaos history --html`): per scenario its
// TTD and TTR run after run, how often it passed and whether it flaked,
// per guide section the same, and the runs themselves, each point linked
// to its run's report.
package trends

import (
	"fmt"
	"html/template"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/harness/results"
)

// Input is what the page is drawn from: what the store answered for the
// filter, and where the page goes (its report links are relative to it).
type Input struct {
	Store     string
	Filter    results.Filter
	Limit     int           // the runs asked for at most (--limit)
	Runs      []results.Run // newest first, as Store.Runs lists them
	Scenarios []results.ScenarioHistory
	PageDir   string    // the folder the page is written into
	Generated time.Time // when the page was drawn
}

// Page is the page's data: everything derived, nothing left to the
// template but layout.
type Page struct {
	Store     string
	Filters   string // the filters as the user gave them, "" for none
	Generated time.Time
	Limited   bool // as many runs as --limit: older ones may exist
	// Runs are the runs shown, newest first (the table); the charts run
	// oldest to newest, left to right, one column per run.
	Runs      []RunRow
	Sections  []Section
	Totals    Rate
	Flaky     []*Scenario // every flaky scenario, for the summary
	Axis      Axis        // the charts' shared run axis
	First     time.Time   // the oldest run shown
	Last      time.Time   // the newest
	Scenarios int
}

// RunRow is one run of the table.
type RunRow struct {
	results.Run
	Anchor string // the row's id: run-ID
	// Href is where the run's points lead: its report (carrying #run-ID,
	// the report's own anchor) if the store knows where it was written,
	// else this row.
	Href     template.URL
	ToReport bool
	Column   int // the run's column in the charts, 0 the oldest
}

// Section is a guide section's scenarios and their rates.
type Section struct {
	Rate
	Rows []*Scenario
}

// Rate counts verdicts and flaky scenarios: of a section, or of all.
type Rate struct {
	Name              string
	results.Count         // verdicts over the runs shown
	Scenarios, Flakes int // scenarios, and how many of them flaked
}

// PassRate is passed among passed and failed, "—" if none was judged
// (a skip is neither).
func (r Rate) PassRate() string { return share(r.Passed, r.Passed+r.Failed) }

// FlakeRate is the share of the scenarios that flaked.
func (r Rate) FlakeRate() string { return share(r.Flakes, r.Scenarios) }

// PassShare is PassRate as a number in [0, 1] (0 if none was judged).
func (r Rate) PassShare() float64 {
	if r.Passed+r.Failed == 0 {
		return 0
	}
	return float64(r.Passed) / float64(r.Passed+r.Failed)
}

// Scenario is one scenario's trend: its verdicts run after run.
type Scenario struct {
	Name, Section string
	Anchor        string // the row's id
	Points        []Point
	Rate          Rate
	// Flaky: it both passed and failed over the runs shown.
	Flaky    bool
	TTD, TTR Chart
}

// Point is one verdict of one scenario, in its run's column.
type Point struct {
	Run      *RunRow
	Verdict  string // PASS, FAIL or SKIP
	TTD, TTR time.Duration
}

// Build shapes the page. Verdicts of runs not among in.Runs (a scenario's
// history reaches past the runs listed when it skipped some) are left
// out: every point has its column and its row in the runs table.
func Build(in Input) Page {
	p := Page{Store: in.Store, Filters: describe(in.Filter, in.Limit), Generated: in.Generated.UTC(),
		Limited: in.Limit > 0 && len(in.Runs) >= in.Limit}
	byID := map[string]*RunRow{}
	p.Runs = make([]RunRow, len(in.Runs))
	for i, r := range in.Runs {
		row := RunRow{Run: r, Anchor: "run-" + r.ID, Column: len(in.Runs) - 1 - i}
		row.Href, row.ToReport = link(r, in.PageDir)
		p.Runs[i] = row
		byID[r.ID] = &p.Runs[i]
	}
	if len(p.Runs) > 0 {
		p.Last, p.First = p.Runs[0].Started, p.Runs[len(p.Runs)-1].Started
	}
	p.Axis = newAxis(p.Runs)
	p.Totals.Name = "All sections"
	sectionAt := map[string]int{}
	for i, h := range in.Scenarios {
		sc := &Scenario{Name: h.Name, Section: h.Section, Anchor: fmt.Sprintf("sc-%d", i), Rate: Rate{Name: h.Name, Scenarios: 1}}
		for _, v := range h.Last {
			run, ok := byID[v.Run]
			if !ok {
				continue
			}
			sc.Points = append(sc.Points, Point{Run: run, Verdict: v.Verdict, TTD: v.TTD, TTR: v.TTR})
			sc.Rate.Add(v.Verdict)
		}
		if len(sc.Points) == 0 {
			continue
		}
		// Oldest first: the charts read left to right.
		sort.SliceStable(sc.Points, func(a, b int) bool { return sc.Points[a].Run.Column < sc.Points[b].Run.Column })
		sc.Flaky = sc.Rate.Flaky()
		if sc.Flaky {
			sc.Rate.Flakes = 1
			p.Flaky = append(p.Flaky, sc)
		}
		sc.TTD = p.Axis.chart(sc, "TTD", func(pt Point) time.Duration { return pt.TTD })
		sc.TTR = p.Axis.chart(sc, "TTR", func(pt Point) time.Duration { return pt.TTR })
		j, ok := sectionAt[h.Section]
		if !ok {
			j, sectionAt[h.Section] = len(p.Sections), len(p.Sections)
			p.Sections = append(p.Sections, Section{Rate: Rate{Name: h.Section}})
		}
		p.Sections[j].Rows = append(p.Sections[j].Rows, sc)
		p.Sections[j].add(sc.Rate)
		p.Totals.add(sc.Rate)
		p.Scenarios++
	}
	return p
}

func (r *Rate) add(o Rate) {
	r.Passed, r.Failed, r.Skipped = r.Passed+o.Passed, r.Failed+o.Failed, r.Skipped+o.Skipped
	r.Scenarios, r.Flakes = r.Scenarios+o.Scenarios, r.Flakes+o.Flakes
}

// link is where a run's points lead: its report, relative to the page's
// folder where it can be (the page and the reports move together), with
// the report's anchor of the run; else the run's row of the table.
//
// It is a template.URL as html/template would refuse a file: URL; it is
// built by net/url from a path and an id, nothing else.
func link(r results.Run, pageDir string) (href template.URL, toReport bool) {
	if r.Report == "" {
		return template.URL("#run-" + r.ID), false
	}
	path := r.Report
	if pageDir != "" && filepath.IsAbs(path) {
		if rel, err := filepath.Rel(pageDir, path); err == nil {
			path = rel
		}
	}
	u := url.URL{Path: filepath.ToSlash(path), Fragment: "run-" + r.ID}
	if filepath.IsAbs(path) {
		u.Scheme = "file"
	}
	return template.URL(u.String()), true
}

// describe is the filter as the flags that made it, for the header.
func describe(f results.Filter, limit int) string {
	var parts []string
	if f.Run != "" {
		parts = append(parts, "run "+f.Run)
	}
	if len(f.Labels) > 0 {
		parts = append(parts, "--label "+strings.ReplaceAll(results.FormatLabels(f.Labels), ",", " --label "))
	}
	if f.Scenario != "" {
		parts = append(parts, fmt.Sprintf("--scenario %q", f.Scenario))
	}
	if f.Section != "" {
		parts = append(parts, fmt.Sprintf("--section %q", f.Section))
	}
	if f.Backend != "" {
		parts = append(parts, "--backend "+f.Backend)
	}
	if !f.Since.IsZero() {
		parts = append(parts, "--since "+f.Since.UTC().Format("2006-01-02 15:04 MST"))
	}
	if limit > 0 {
		parts = append(parts, fmt.Sprintf("--limit %d", limit))
	}
	return strings.Join(parts, " ")
}

func share(n, of int) string {
	if of == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f %%", 100*float64(n)/float64(of))
}
