package gameday

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// The game day's page: one self-contained file (the scenario report's CSS
// and timeline inlined, nothing fetched) that says first what went wrong,
// then a row per fault, the timeline with a lane per fault and the
// players' own, and what the players did.
//
//go:embed page.tmpl
var pageText string

var pageTmpl = template.Must(template.New("gameday").Funcs(report.Funcs()).Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
}).Parse(pageText))

// page is what the template renders.
type page struct {
	*Findings
	Verdict  string
	Timeline template.HTML
}

// At is t as an offset from the game day's start, "+1m05s".
func (p page) At(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return "+" + t.Sub(p.Started).Round(100*time.Millisecond).String()
}

// Injected is each fault's injection as an offset from the start.
func (p page) Injected(r FaultResult) string { return p.At(r.InjectedAt) }

// WriteHTML writes the game day's page: f, with the workload's
// operations on the timeline.
func WriteHTML(path string, f *Findings, workload []report.Event) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	lanes := make([]report.Lane, 0, len(f.Faults)+3)
	for i := range f.Faults {
		lanes = append(lanes, FaultLane(i))
	}
	lanes = append(lanes, report.LanePlayers, report.LaneProbes, report.LaneWorkload)
	tl := report.Timeline{Label: "game day " + f.ID, Span: f.Took, Events: append(append([]report.Event(nil), f.Events...), workload...),
		Lanes: lanes, Shaded: lanes[:len(f.Faults)], Labelled: []report.Lane{report.LanePlayers}}
	p := page{Findings: f, Verdict: f.VerdictLine(), Timeline: tl.SVG()}
	// Rendered first, so a template error leaves no half-written page.
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, p); err != nil {
		return fmt.Errorf("game day report: render HTML: %w", err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
