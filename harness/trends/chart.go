package trends

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// The charts are drawn here, server-side, as numbers the template places
// into inline SVG: no script, nothing fetched. Every chart shares the
// run axis, one column per run, so a column reads down the page as one
// run.
const (
	chartW, chartH = 320, 64
	padL, padR     = 52, 10 // room for the scale's labels, and the last point
	padT, padB     = 8, 8
	plotW, plotH   = chartW - padL - padR, chartH - padT - padB
	axisH          = 34
	pointR, failR  = 3.5, 4.5
	gridFrac       = 0.5 // the middle grid line
	maxAxisLabels  = 3   // run labels on the axis at most: first, middle, last
)

// Axis is the charts' run axis: where each run's column is, and the
// labels drawn under the header.
type Axis struct {
	W, H   int
	Ticks  []Tick
	Labels []Tick
	Base   int // the axis line's x range: from
	End    int // to
}

// Tick is one run's mark on the axis, and the label of some.
type Tick struct {
	X      string
	Label  string
	Anchor string // "start", "middle" or "end"
	Run    *RunRow
}

func newAxis(runs []RunRow) Axis {
	a := Axis{W: chartW, H: axisH, Base: padL, End: chartW - padR}
	n := len(runs)
	if n == 0 {
		return a
	}
	// Oldest first.
	for i := n - 1; i >= 0; i-- {
		a.Ticks = append(a.Ticks, Tick{X: coord(x(runs[i].Column, n)), Run: &runs[i]})
	}
	// The first and the last run labelled, and evenly between.
	want := min(n, maxAxisLabels)
	seen := map[int]bool{}
	for k := range want {
		col := 0
		if want > 1 {
			col = k * (n - 1) / (want - 1)
		}
		if seen[col] {
			continue
		}
		seen[col] = true
		t := a.Ticks[col]
		t.Label, t.Anchor = t.Run.Started.UTC().Format("01-02 15:04"), "middle"
		switch {
		case n == 1:
		case col == 0:
			t.Anchor = "start"
		case col == n-1:
			t.Anchor = "end"
		}
		a.Labels = append(a.Labels, t)
	}
	return a
}

// x is the column's x: the oldest run left, the newest right, a single
// run in the middle.
func x(col, n int) float64 {
	if n <= 1 {
		return padL + plotW/2.0
	}
	return padL + float64(col)*plotW/float64(n-1)
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// Chart is one scenario's TTD or TTR over the runs.
type Chart struct {
	W, H     int
	What     string // TTD or TTR
	Label    string // for a screen reader
	Top      string // the scale's top value, as people read it ("5 s")
	Mid      string // its middle
	TopY     string
	MidY     string
	BaseY    string
	Left     int
	Right    int
	Lines    []string // SVG path data: measured points in a row, joined
	Points   []ChartPoint
	Measured bool // any point has a value: else the chart says none was
}

// ChartPoint is one verdict on a chart.
type ChartPoint struct {
	X, Y    string
	R       string
	Class   string       // pass, fail, skip; "unmeasured" added when at the base
	Title   string       // the tooltip: run, when, verdict, value
	Href    template.URL // the run's report or row
	Run     string
	Verdict string
}

func (a Axis) chart(sc *Scenario, what string, value func(Point) time.Duration) Chart {
	c := Chart{W: chartW, H: chartH, What: what, Left: padL, Right: chartW - padR,
		TopY: coord(padT), MidY: coord(padT + plotH*(1-gridFrac)), BaseY: coord(padT + plotH)}
	var top time.Duration
	for _, p := range sc.Points {
		top = max(top, value(p))
	}
	scale := niceCeil(top)
	c.Top, c.Mid = fmtDur(scale), fmtDur(time.Duration(float64(scale)*gridFrac))
	c.Label = fmt.Sprintf("%s of %s over %d runs, scale 0 to %s", what, sc.Name, len(sc.Points), c.Top)
	n := len(a.Ticks)
	var line []string
	flush := func() {
		if len(line) > 1 {
			c.Lines = append(c.Lines, "M"+strings.Join(line, " L"))
		}
		line = nil
	}
	for _, p := range sc.Points {
		v := value(p)
		px := x(p.Run.Column, n)
		cp := ChartPoint{X: coord(px), R: coord(pointR), Href: p.Run.Href, Run: p.Run.ID, Verdict: p.Verdict}
		switch p.Verdict {
		case "PASS":
			cp.Class = "pass"
		case "FAIL":
			cp.Class, cp.R = "fail", coord(failR)
		default:
			cp.Class = "skip"
		}
		when := p.Run.Started.UTC().Format("2006-01-02 15:04")
		if v > 0 {
			c.Measured = true
			py := padT + plotH*(1-float64(v)/float64(scale))
			cp.Y = coord(py)
			cp.Title = fmt.Sprintf("%s %s — run %s, %s UTC, %s", what, fmtDur(v), p.Run.ID, when, p.Verdict)
			line = append(line, cp.X+" "+cp.Y)
		} else {
			// Not measured (not detected, not recovered, skipped): on
			// the base line, hollow, and the line breaks there.
			cp.Y, cp.Class = c.BaseY, cp.Class+" unmeasured"
			cp.Title = fmt.Sprintf("no %s — run %s, %s UTC, %s", what, p.Run.ID, when, p.Verdict)
			flush()
		}
		c.Points = append(c.Points, cp)
	}
	flush()
	return c
}

// niceCeil is the smallest 1, 2 or 5 × 10^k milliseconds at or above d:
// a scale a reader reads at a glance. At least 1 ms.
func niceCeil(d time.Duration) time.Duration {
	step := time.Millisecond
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if m*step >= d {
				return m * step
			}
		}
		step *= 10
	}
}

// fmtDur is a duration as the scale and the tooltips say it: "850 ms",
// "1.2 s", "2 min 05 s".
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", d.Seconds()), "0"), ".0") + " s"
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%d min %02d s", d/time.Minute, d%time.Minute/time.Second)
}
