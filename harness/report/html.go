package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The page is one file a CI artifact viewer can open offline: the template
// carries its CSS and the timelines are inline SVG, so nothing is fetched.
//
//go:embed report.tmpl
var pageText string

// Style is the pages' CSS: the scenario report's and the game day's,
// which share its look, its rows and its timeline.
//
//go:embed style.css
var style string

// Style is the CSS of the report pages, for a page of another package
// (the game day's) to inline.
func Style() template.CSS { return template.CSS(style) }

var pageTmpl = template.Must(template.New("report").Funcs(Funcs()).Funcs(template.FuncMap{
	"pct":    percent,
	"output": func(s string) string { return clip(s, maxOutput) },
}).Parse(pageText))

// Funcs are the page's formatting functions — durations, times, clipped
// text — for another page's template to read the same.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"dur":   fmtDuration,
		"when":  fmtTime,
		"ints":  joinInts,
		"clip":  func(s string) string { return clip(s, maxInline) },
		"error": func(s string) string { return clip(s, maxError) },
		"brief": brief,
		"style": Style,
	}
}

const (
	// maxOutput bounds each step's output and each error on the page,
	// about fifteen lines: the catalog has hundreds of steps, and the
	// JSON has all of it.
	maxOutput = 1000
	// maxError bounds a failed scenario's error in its details: one per
	// failure, and what the reader came for.
	maxError = 4000
	// maxInline bounds a reason shown inline: a line of the first screen,
	// a defect, what a probe saw last.
	maxInline = 200
)

// WriteHTML writes the run as one self-contained HTML page.
func (r *Run) WriteHTML(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// Render first so a template error leaves no half-written page behind.
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, newPage(r)); err != nil {
		return fmt.Errorf("report: render HTML: %w", err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// page is what the template renders: the run plus what is derived from it.
type page struct {
	Run                     *Run
	Passed, Failed, Skipped int
	// Failures and Skips are the first screen's lists: each failed or
	// skipped scenario with why, linked to its details.
	Failures, Skips []reason
	// Matrix counts the scenarios of each section of the guide by result,
	// in the order the run met the sections; Totals is the run's Tally.
	Matrix       []sectionCount
	Totals       sectionCount
	Defects      []defectRow
	Scenarios    []scenarioView
	PhaseSummary string // the run's time by phase
	RecoveredBy  string // the run's recoveries by who brought the cluster back
	Coverage     coverageView
}

// coverageView is the fault × signal matrix and what it finds.
type coverageView struct {
	Cols        []Signal
	Rows        []coverageRow
	NotMeasured []string // why a signal could not be measured
	Uncaught    []Finding
	NoAlerts    []string // scenarios whose alerts were not measured
}

type coverageRow struct {
	ID, Name string
	Window   string
	Cells    []Signal
}

// reason is one line of the first screen: a scenario and why it failed or
// was skipped.
type reason struct {
	ID, Name, Why string
}

// sectionCount is one row of the section × result matrix.
type sectionCount struct {
	Section               string
	Pass, Fail, Skip, All int
}

func (c *sectionCount) add(result string) {
	switch result {
	case ResultPass:
		c.Pass++
	case ResultSkip:
		c.Skip++
	default:
		c.Fail++
	}
	c.All++
}

type scenarioView struct {
	*Scenario
	ID       string // anchor, from the index: names are free text
	Timeline template.HTML
	// PhaseBar is the scenario's time as a bar of its phases, the
	// longest scenario of the run filling phaseBarWidth: slow scenarios
	// and their phases stand out against each other.
	PhaseBar    []phaseSegment
	Overhead    time.Duration
	HasOverhead bool
}

// phaseSegment is one phase in a scenario's bar.
type phaseSegment struct {
	Name  string
	Took  time.Duration
	Width string // CSS pixels
}

// phaseBarWidth is the width of the longest scenario's bar, in pixels.
const phaseBarWidth = 160

// phaseBar draws p as segments, longest the width of a bar of longest.
func phaseBar(p Phases, longest time.Duration) []phaseSegment {
	if p == (Phases{}) || longest <= 0 {
		return nil
	}
	var segs []phaseSegment
	for _, ph := range p.List() {
		if ph.Took <= 0 {
			continue
		}
		w := float64(phaseBarWidth) * ph.Took.Seconds() / longest.Seconds()
		segs = append(segs, phaseSegment{Name: ph.Name, Took: ph.Took, Width: strconv.FormatFloat(w, 'f', 1, 64)})
	}
	return segs
}

// defectRow is one defect of the guide, found by a scenario or by one of
// its runbook steps.
type defectRow struct {
	Scenario, ScenarioID string
	Step, Guide, Text    string
	FromStep, Expected   bool
}

func newPage(r *Run) page {
	p := page{Run: r, PhaseSummary: r.PhaseSummary(), RecoveredBy: r.RecoveredBySummary()}
	p.Passed, p.Failed, p.Skipped = r.Tally()
	var longest time.Duration
	for _, s := range r.Scenarios {
		longest = max(longest, s.Phases.Total())
	}
	row := map[string]int{} // index in p.Matrix of each section
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		v := scenarioView{Scenario: s, ID: fmt.Sprintf("sc-%d", i), Timeline: timelineSVG(s), PhaseBar: phaseBar(s.Phases, longest)}
		v.Overhead, v.HasOverhead = s.Overhead()
		switch s.Result() {
		case ResultFail:
			p.Failures = append(p.Failures, reason{v.ID, s.Name, brief(s.Error)})
		case ResultSkip:
			p.Skips = append(p.Skips, reason{v.ID, s.Name, brief(s.Skipped)})
		}
		j, ok := row[s.Section]
		if !ok {
			j, row[s.Section] = len(p.Matrix), len(p.Matrix)
			p.Matrix = append(p.Matrix, sectionCount{Section: s.Section})
		}
		p.Matrix[j].add(s.Result())
		p.Totals.add(s.Result())
		p.Defects = append(p.Defects, defectsOf(v)...)
		p.Scenarios = append(p.Scenarios, v)
	}
	for _, d := range r.Guide.GuideDefects() {
		p.Defects = append(p.Defects, defectRow{Scenario: "the guide, as written", ScenarioID: "guide", Text: d})
	}
	cv := &p.Coverage
	cv.Cols = r.CoverageColumns()
	for _, v := range p.Scenarios {
		if v.covered() {
			cv.Rows = append(cv.Rows, coverageRow{ID: v.ID, Name: v.Name, Window: secs(math.Round(v.Coverage.Window)), Cells: v.CoverageRow(cv.Cols)})
		}
	}
	cv.NotMeasured = r.notMeasuredReasons()
	cv.Uncaught, cv.NoAlerts = r.Uncaught()
	return p
}

func defectsOf(v scenarioView) []defectRow {
	var rows []defectRow
	for _, d := range v.Defects {
		rows = append(rows, defectRow{Scenario: v.Name, ScenarioID: v.ID, Text: d})
	}
	for _, st := range v.Steps {
		if st.Defect {
			rows = append(rows, defectRow{
				Scenario: v.Name, ScenarioID: v.ID,
				Step: st.Name, Guide: st.Guide, Text: st.Error,
				FromStep: true, Expected: st.Expected,
			})
		}
	}
	return rows
}

// fmtDuration formats d for people: "850 ms", "1.23 s", "2 min 05 s".
func fmtDuration(d time.Duration) string {
	if d < 0 {
		// Negating MinInt64 overflows; a nanosecond off does not matter.
		return "-" + fmtDuration(-max(d, math.MinInt64+1))
	}
	switch {
	case d == 0:
		return "0 s"
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %02d s", d/time.Minute, d%time.Minute/time.Second)
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%d h %02d min", d/time.Hour, d%time.Hour/time.Minute)
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

func joinInts(xs []int) string {
	if len(xs) == 0 {
		return "—"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// percent formats a share in [0, 1].
func percent(share float64) string {
	return strconv.FormatFloat(share*100, 'f', 1, 64) + " %"
}

// clip cuts s to at most n bytes on a rune boundary, saying how much it cut.
func clip(s string, n int) string {
	head, rest := cut(strings.TrimRight(s, "\n"), n)
	if rest == 0 {
		return head
	}
	return fmt.Sprintf("%s… (%d more bytes in the JSON report)", head, rest)
}

// cut cuts s to at most n bytes on a rune boundary; rest is how many
// bytes it cut.
func cut(s string, n int) (head string, rest int) {
	if len(s) <= n {
		return s, 0
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i], len(s) - i
}

// brief is the first line of a reason, cut to fit a line or two of the
// first screen; the scenario's details, a link away, have all of it.
func brief(s string) string {
	head, rest := cut(strings.TrimSpace(s), maxInline)
	head, more, _ := strings.Cut(head, "\n")
	if rest > 0 || more != "" {
		head += " …"
	}
	return head
}
