package report

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Geometry of a timeline, in SVG user units. The width is fixed rather than
// scaled so the labels stay readable; the page scrolls sideways if needed.
const (
	tlLabelW  = 96 // column of lane names
	tlPlotW   = 1000
	tlRightW  = 24 // room for the last tick label
	tlTop     = 4
	tlLaneH   = 22
	tlAxisH   = 22
	tlCharW   = 6.2 // rough width of a label character, to fit bar labels
	tlDiamond = 5.0
	tlWrongD  = 7.5 // wrong results must stand out among hundreds of ticks
)

// fixedLanes follow the party lanes, in this order, even when empty, so
// every scenario's timeline reads the same way.
var fixedLanes = []Lane{LaneFaults, LaneProbes, LaneRunbook, LaneWorkload}

// timeline builds the SVG of one scenario.
type timeline struct {
	b        strings.Builder
	span     time.Duration
	lanes    []Lane
	row      map[Lane]int
	labelled []Lane
	labels   []markLabel // of the labelled lanes' instants, drawn over everything
}

// markLabel is an instant's label, beside its mark.
type markLabel struct {
	lane Lane
	x, y float64
	text string
}

// drawLabels writes the labels of the labelled lanes over the marks, in
// time order; one that would overlap the one before it in its lane is
// left to the hover text, as a label over a label reads as neither.
func (t *timeline) drawLabels() {
	slices.SortStableFunc(t.labels, func(a, b markLabel) int { return cmp.Compare(a.x, b.x) })
	end := map[Lane]float64{}
	for _, l := range t.labels {
		if e, ok := end[l.lane]; ok && l.x < e {
			continue
		}
		end[l.lane] = l.x + float64(utf8.RuneCountInString(l.text))*tlCharW + 2*tlDiamond
		fmt.Fprintf(&t.b, `<text class="mark-label" x="%.1f" y="%.1f">%s</text>`, l.x, l.y, html.EscapeString(l.text))
	}
}

// timelineSVG draws the events of s, one lane per party then the fixed
// lanes.
func timelineSVG(s *Scenario) template.HTML {
	return Timeline{Label: s.Name, Span: s.Duration, Events: s.Events}.SVG()
}

// Timeline is a timeline to draw, a scenario's or another page's (the
// game day's, with a lane per fault).
type Timeline struct {
	Label  string // what the image is of, for a screen reader
	Span   time.Duration
	Events []Event
	// Lanes are the lanes in order; nil: one per party, then the fixed
	// lanes. An event of a lane not listed gets a lane at the end.
	Lanes []Lane
	// Shaded: the spans of these lanes shade every lane (the faults');
	// nil: LaneFaults.
	Shaded []Lane
	// Labelled: the instants of these lanes carry their label beside
	// them, not only on hover (the players' diagnoses).
	Labelled []Lane
}

// SVG draws the timeline. Every user-provided string is escaped here, as
// a template inserts the result verbatim.
func (tl Timeline) SVG() template.HTML {
	lanes := tl.Lanes
	if lanes == nil {
		lanes = timelineLanes(tl.Events)
	} else {
		lanes = slices.Clone(lanes)
		for _, e := range tl.Events {
			if !slices.Contains(lanes, e.Lane) {
				lanes = append(lanes, e.Lane)
			}
		}
	}
	if tl.Shaded == nil {
		tl.Shaded = []Lane{LaneFaults}
	}
	span := tl.Span
	for _, e := range tl.Events {
		span = max(span, e.At, e.End)
	}
	if span <= 0 {
		span = time.Second
	}
	t := &timeline{span: span, lanes: lanes, row: map[Lane]int{}, labelled: tl.Labelled}
	for i, l := range t.lanes {
		t.row[l] = i
	}
	w, h := tlLabelW+tlPlotW+tlRightW, t.lanesBottom()+tlAxisH
	fmt.Fprintf(&t.b, `<svg class="timeline" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="timeline of %s">`,
		w, h, w, h, html.EscapeString(tl.Label))
	t.stripes()
	t.faultShading(tl.Events, tl.Shaded)
	t.axis()
	for _, m := range t.marks(tl.Events) {
		t.draw(m)
	}
	t.drawLabels()
	t.b.WriteString(`</svg>`)
	return template.HTML(t.b.String())
}

// timelineLanes lists party lanes by number ("party 2" before "party 10"),
// then the fixed lanes, then any other lane so no event is lost.
func timelineLanes(events []Event) []Lane {
	parties := map[Lane]int{}
	other := map[Lane]bool{}
	for _, e := range events {
		if n, ok := partyNumber(e.Lane); ok {
			parties[e.Lane] = n
		} else if !slices.Contains(fixedLanes, e.Lane) {
			other[e.Lane] = true
		}
	}
	lanes := slices.SortedFunc(maps.Keys(parties), func(a, b Lane) int {
		if parties[a] != parties[b] {
			return parties[a] - parties[b]
		}
		return strings.Compare(string(a), string(b))
	})
	lanes = append(lanes, fixedLanes...)
	return append(lanes, slices.Sorted(maps.Keys(other))...)
}

func partyNumber(lane Lane) (int, bool) {
	rest, ok := strings.CutPrefix(string(lane), "party ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// x maps an offset to the plot, clamped so stray times stay visible.
func (t *timeline) x(d time.Duration) float64 {
	d = min(max(d, 0), t.span)
	return tlLabelW + float64(d)/float64(t.span)*tlPlotW
}

func (t *timeline) laneY(row int) float64 { return float64(tlTop + row*tlLaneH) }

func (t *timeline) lanesBottom() int { return tlTop + len(t.lanes)*tlLaneH }

// stripes draws alternate lane backgrounds and the lane names.
func (t *timeline) stripes() {
	for i, l := range t.lanes {
		y := t.laneY(i)
		if i%2 == 0 {
			fmt.Fprintf(&t.b, `<rect class="stripe" x="0" y="%.0f" width="%d" height="%d"/>`, y, tlLabelW+tlPlotW, tlLaneH)
		}
		fmt.Fprintf(&t.b, `<text class="lane" x="%d" y="%.0f" text-anchor="end">%s</text>`,
			tlLabelW-8, y+tlLaneH/2+4, html.EscapeString(string(l)))
	}
}

// faultShading shades every fault window across all lanes, so what each
// party, probe and operation did during the fault lines up with it.
func (t *timeline) faultShading(events []Event, shaded []Lane) {
	for _, e := range events {
		if !slices.Contains(shaded, e.Lane) || e.End <= e.At {
			continue
		}
		x0, x1 := t.x(e.At), t.x(e.End)
		fmt.Fprintf(&t.b, `<rect class="fault-shade" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s</title></rect>`,
			x0, tlTop, max(x1-x0, 1), len(t.lanes)*tlLaneH, html.EscapeString("fault active: "+e.Label))
	}
}

// axis draws grid lines and tick labels in seconds.
func (t *timeline) axis() {
	bottom := t.lanesBottom()
	fmt.Fprintf(&t.b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, tlLabelW, bottom, tlLabelW+tlPlotW, bottom)
	step := tickStep(t.span)
	for d := time.Duration(0); d <= t.span; d += step {
		x := t.x(d)
		fmt.Fprintf(&t.b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x, tlTop, x, bottom)
		fmt.Fprintf(&t.b, `<text x="%.1f" y="%d" text-anchor="middle">%s s</text>`,
			x, bottom+15, strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	}
}

// tickStep picks a 1-2-5 step giving about eight ticks over span.
func tickStep(span time.Duration) time.Duration {
	raw := span.Seconds() / 8
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return max(time.Duration(math.Round(step*float64(time.Second))), 1)
}

// mark is an event to draw, standing for more events when instants of the
// same lane and status fall on the same pixel, or when it is a run of the
// workload's operations: that bounds the page size however busy the
// workload was.
type mark struct {
	Event
	more int
}

type markKey struct {
	lane   Lane
	status Status
	px     int
}

// tlRunGap is how far apart, in pixels, two operations of the workload may
// be and still draw as one run: a scenario holds hundreds of them, each a
// pixel wide, and one bar per stretch of each status reads better than
// the ticks (and weighs a fraction of them); a longer pause shows as a gap.
const tlRunGap = 2.0

// marks orders what to draw: spans, then instants, then the workload's
// runs, the failed ones over the successful, then wrong results on top so
// they are never hidden under other shapes.
func (t *timeline) marks(events []Event) []mark {
	var spans, instants, wrong []mark
	var work []Event
	seen := map[markKey]int{} // index in instants
	for _, e := range events {
		switch {
		case e.Status == Wrong:
			wrong = append(wrong, mark{Event: e})
		case e.Lane == LaneWorkload:
			work = append(work, e)
		case e.End > e.At:
			spans = append(spans, mark{Event: e})
		default:
			k := markKey{e.Lane, e.Status, int(t.x(e.At))}
			if i, ok := seen[k]; ok {
				instants[i].more++
				continue
			}
			seen[k] = len(instants)
			instants = append(instants, mark{Event: e})
		}
	}
	return slices.Concat(spans, instants, t.runs(work), wrong)
}

// runs merges operations of one status into a mark while each starts
// within tlRunGap pixels of the run's end; successful runs come first so
// failures are drawn over them.
func (t *timeline) runs(ops []Event) []mark {
	slices.SortStableFunc(ops, func(a, b Event) int { return cmp.Compare(a.At, b.At) })
	var out []mark
	open := map[Status]int{} // index in out of each status's current run
	for _, e := range ops {
		if i, ok := open[e.Status]; ok && t.x(e.At) <= t.x(max(out[i].At, out[i].End))+tlRunGap {
			out[i].End = max(out[i].End, out[i].At, e.At, e.End)
			out[i].more++
			continue
		}
		open[e.Status] = len(out)
		out = append(out, mark{Event: e})
	}
	failedLast := func(m mark) int {
		if m.Status == OK {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b mark) int { return cmp.Compare(failedLast(a), failedLast(b)) })
	return out
}

// draw draws one mark in its lane: a bar for a span, a thin tick (or a
// run of them) for the workload's operations, a diamond for any other
// instant.
func (t *timeline) draw(m mark) {
	y := t.laneY(t.row[m.Lane])
	cls := statusClass(m.Status)
	title := "<title>" + html.EscapeString(m.title()) + "</title>"
	switch {
	case m.Lane == LaneWorkload && m.Status != Wrong:
		x0 := t.x(m.At) - 0.75
		fmt.Fprintf(&t.b, `<rect class="%s" x="%.1f" y="%.0f" width="%.1f" height="%d">%s</rect>`,
			cls, x0, y+3, max(t.x(max(m.End, m.At))-x0, 1.5), tlLaneH-6, title)
	case m.End > m.At:
		x0 := t.x(m.At)
		w := max(t.x(m.End)-x0, 1)
		fmt.Fprintf(&t.b, `<rect class="%s" x="%.1f" y="%.0f" width="%.1f" height="%d" rx="2">%s</rect>`,
			cls, x0, y+4, w, tlLaneH-8, title)
		if lw := float64(len(m.Label))*tlCharW + 8; lw < w {
			fmt.Fprintf(&t.b, `<text class="bar-label" x="%.1f" y="%.0f">%s</text>`,
				x0+4, y+tlLaneH/2+4, html.EscapeString(m.Label))
		}
	default:
		r := tlDiamond
		if m.Status == Wrong {
			r = tlWrongD
		}
		x, cy := t.x(m.At), y+tlLaneH/2
		fmt.Fprintf(&t.b, `<polygon class="%s" points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f">%s</polygon>`,
			cls, x, cy-r, x+r, cy, x, cy+r, x-r, cy, title)
		if slices.Contains(t.labelled, m.Lane) {
			t.labels = append(t.labels, markLabel{lane: m.Lane, x: x + r + 2, y: cy + 4, text: m.Label})
		}
	}
}

// statusClass maps a status to a CSS class; statuses are free text, so
// only known ones get through.
func statusClass(status Status) string {
	switch status {
	case OK, Fail, Wrong, Warn, Info:
		return "s-" + string(status)
	}
	return "s-other"
}

// title is the hover text of a mark: what, how it went, and when.
func (m mark) title() string {
	var b strings.Builder
	if m.Lane == LaneWorkload && m.more > 0 {
		fmt.Fprintf(&b, "%d operations [%s], %s → %s\nthe first: %s", m.more+1, m.Status, fmtDuration(m.At), fmtDuration(max(m.End, m.At)), m.Label)
		if m.Detail != "" {
			b.WriteString(": " + m.Detail)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s [%s]", m.Label, m.Status)
	if m.Detail != "" {
		b.WriteString("\n" + m.Detail)
	}
	if m.End > m.At {
		fmt.Fprintf(&b, "\n%s → %s (%s)", fmtDuration(m.At), fmtDuration(m.End), fmtDuration(m.End-m.At))
	} else {
		fmt.Fprintf(&b, "\nat %s", fmtDuration(m.At))
	}
	if m.more > 0 {
		fmt.Fprintf(&b, "\n+%d more %s events here", m.more, m.Status)
	}
	return b.String()
}
