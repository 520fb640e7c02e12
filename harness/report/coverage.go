package report

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Coverage is what an operator's signals showed of a scenario's fault,
// from its injection to the end of its recovery (harness/signals).
type Coverage struct {
	Window  float64  `json:"window_s"` // injection to the end of recovery, seconds
	Signals []Signal `json:"signals"`
}

// Sources of a signal (Signal.Source).
const (
	SourceAlert    = "alert"            // a shipped alert (harness/alerts), evaluated by a real Prometheus
	SourceTool     = "kms-health-check" // the health grade, as the timeline's monitor samples it
	SourceEngine   = "engine"           // the container engine's state of the party
	SourceEndpoint = "endpoint"         // an HTTP endpoint of the party (/health, /live, /ready)
	SourceKubelet  = "kubelet"          // the chart's gRPC probe, evaluated as kubelet would
)

// Signal is one signal of a scenario and when it first showed the fault,
// in seconds from the injection. Pending is when it showed it without
// acting yet: an alert pending through its for:, a probe failing short
// of its failureThreshold. Fired is when it acts: an alert firing, a
// probe marking the pod not ready or restarting it, a plain signal
// showing at all.
type Signal struct {
	Name    string   `json:"name"`
	Source  string   `json:"source"`
	Pending *float64 `json:"pending_s,omitempty"`
	Fired   *float64 `json:"fired_s,omitempty"`
	// Needs is what stands between pending and acting: "for: 5m",
	// "30 failed probes 5 s apart".
	Needs  string `json:"needs,omitempty"`
	Detail string `json:"detail,omitempty"` // who showed it first, and how
	// Before: an alert already active when the fault went in (left by an
	// earlier fault): not credited to this one.
	Before bool `json:"active_before,omitempty"`
	// NotMeasured is why this run could not measure the signal: never
	// read as "it stayed silent".
	NotMeasured string `json:"not_measured,omitempty"`
}

// Secs is d seconds, to a tenth, for a Signal's times.
func Secs(d float64) *float64 {
	v := math.Round(d*10) / 10
	return &v
}

// Showed is whether the signal showed the fault, pending or fired (an
// alert active before it may show it too, on another party).
func (s Signal) Showed() bool {
	return s.NotMeasured == "" && (s.Pending != nil || s.Fired != nil)
}

// Cell is the signal as a cell of the coverage matrix.
func (s Signal) Cell() string {
	switch {
	case s.NotMeasured != "":
		return "not measured"
	case s.Fired != nil && s.Source == SourceAlert:
		return fmt.Sprintf("fires %s", secs(*s.Fired))
	case s.Fired != nil && s.Source == SourceKubelet && s.Name == ProbeLiveness:
		return fmt.Sprintf("restart at %s", secs(*s.Fired))
	case s.Fired != nil && s.Source == SourceKubelet:
		return fmt.Sprintf("not ready at %s", secs(*s.Fired))
	case s.Fired != nil:
		return secs(*s.Fired)
	case s.Pending != nil && s.Source == SourceAlert:
		return fmt.Sprintf("pending %s (%s)", secs(*s.Pending), s.Needs)
	case s.Pending != nil:
		return fmt.Sprintf("failing %s (acts after %s)", secs(*s.Pending), s.Needs)
	case s.Before:
		return "active before"
	}
	return "—"
}

// The kubelet signals' names (Signal.Name).
const (
	ProbeReadiness = "readiness probe"
	ProbeLiveness  = "liveness probe"
)

func secs(v float64) string { return fmt.Sprintf("%g s", v) }

// alerts counts the scenario's alerts and those evaluated (none without
// a Prometheus), and says whether one showed the fault.
func (c *Coverage) alerts() (all, measured int, caught bool) {
	for _, s := range c.Signals {
		if s.Source != SourceAlert {
			continue
		}
		all++
		if s.NotMeasured == "" {
			measured++
		}
		caught = caught || s.Showed()
	}
	return all, measured, caught
}

// Uncaught lists the faults no shipped alert showed, not even pending,
// as findings about the operations pages; NotMeasured lists the
// scenarios whose alerts could not be evaluated (no Prometheus).
func (r *Run) Uncaught() (uncaught []Finding, notMeasured []string) {
	scenarios, notMeasured := r.uncaught()
	for _, s := range scenarios {
		all, measured, _ := s.Coverage.alerts()
		text := fmt.Sprintf("no alert of the operations pages (docs/operations/emergency-procedures.md \"Critical Monitoring Alerts\", "+
			"docs/operations/advanced/metrics.md's Alarm lines) fires or is even pending in the %s from the fault to the end of its recovery "+
			"(%d of the %d alerts evaluated; the others not measured on %s): an operator paged by those alerts never learns of it",
			secs(math.Round(s.Coverage.Window)), measured, all, r.Backend)
		if first := s.Coverage.firstShown(); first != "" {
			text += "; what showed it: " + first
		}
		uncaught = append(uncaught, Finding{s.Name, text})
	}
	return uncaught, notMeasured
}

// uncaught are the scenarios whose fault no shipped alert showed, not
// even pending, and the names of those whose alerts were not evaluated.
func (r *Run) uncaught() (uncaught []Scenario, notMeasured []string) {
	for _, s := range r.Scenarios {
		if !s.covered() {
			continue
		}
		_, measured, caught := s.Coverage.alerts()
		switch {
		case measured == 0:
			notMeasured = append(notMeasured, s.Name)
		case !caught:
			uncaught = append(uncaught, s)
		}
	}
	return uncaught, notMeasured
}

// firstShown names the signals that showed the fault, in the order the
// scenario lists them.
func (c *Coverage) firstShown() string {
	var parts []string
	for _, s := range c.Signals {
		if s.Showed() {
			parts = append(parts, s.Name+" "+s.Cell())
		}
	}
	return strings.Join(parts, ", ")
}

// earliest is the signal that showed the fault first, pending or fired.
func (c *Coverage) earliest() (Signal, bool) {
	var first Signal
	at := math.Inf(1)
	for _, s := range c.Signals {
		if !s.Showed() {
			continue
		}
		for _, t := range []*float64{s.Pending, s.Fired} {
			if t != nil && *t < at {
				first, at = s, *t
			}
		}
	}
	return first, !math.IsInf(at, 1)
}

// CoverageColumns are the signals of the run's matrix, in the order the
// scenarios list them.
func (r *Run) CoverageColumns() []Signal {
	var cols []Signal
	seen := map[string]bool{}
	for _, s := range r.Scenarios {
		if !s.covered() {
			continue
		}
		for _, sig := range s.Coverage.Signals {
			if !seen[sig.Name] {
				seen[sig.Name] = true
				cols = append(cols, Signal{Name: sig.Name, Source: sig.Source})
			}
		}
	}
	return cols
}

// CoverageRow is one scenario's signals in the order of columns.
func (s Scenario) CoverageRow(cols []Signal) []Signal {
	out := make([]Signal, len(cols))
	for i, c := range cols {
		out[i] = Signal{Name: c.Name, Source: c.Source, NotMeasured: "not in this scenario's record"}
		for _, sig := range s.Coverage.Signals {
			if sig.Name == c.Name {
				out[i] = sig
			}
		}
	}
	return out
}

// notMeasuredReasons are the distinct reasons a signal was not measured,
// by signal, for the matrix's notes.
func (r *Run) notMeasuredReasons() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range r.Scenarios {
		if !s.covered() {
			continue
		}
		for _, sig := range s.Coverage.Signals {
			if k := sig.Name + ": " + sig.NotMeasured; sig.NotMeasured != "" && !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// writeCoverageText writes the matrix for the text scorecard: one block
// per scenario (the signals are too many for columns).
func (r *Run) writeCoverageText(b io.Writer) {
	cols := r.CoverageColumns()
	if len(cols) == 0 {
		return
	}
	fmt.Fprintf(b, "\nDetection coverage (seconds from the injection; an alert's for: of minutes mostly leaves it pending):\n")
	for _, s := range r.Scenarios {
		if !s.covered() {
			continue
		}
		fmt.Fprintf(b, "- %s (window %s):", s.Name, secs(math.Round(s.Coverage.Window)))
		for _, sig := range s.CoverageRow(cols) {
			if sig.NotMeasured == "" {
				fmt.Fprintf(b, " %s: %s;", sig.Name, sig.Cell())
			}
		}
		fmt.Fprintln(b)
	}
	if reasons := r.notMeasuredReasons(); len(reasons) > 0 {
		fmt.Fprintf(b, "Not measured: %s\n", strings.Join(reasons, "; "))
	}
	uncaught, nm := r.Uncaught()
	if len(uncaught) > 0 {
		fmt.Fprintf(b, "Faults no shipped alert catches (not even pending):\n")
		for _, f := range uncaught {
			fmt.Fprintf(b, "- %s: %s\n", f.Where, f.Text)
		}
	}
	if len(nm) > 0 {
		fmt.Fprintf(b, "Alerts not measured (no prometheus) in: %s\n", strings.Join(nm, "; "))
	}
}

// Markers around generated coverage text (docs/coverage.md, README.md).
const (
	CoverageBegin = "<!-- coverage: generated by `kmschaos guide coverage`, do not edit by hand -->"
	CoverageEnd   = "<!-- end of coverage -->"
)

// CoverageMarkdown renders the matrix and the faults no alert catches,
// as docs/coverage.md lists them.
func (r *Run) CoverageMarkdown() string {
	var b strings.Builder
	b.WriteString(CoverageBegin + "\n")
	fmt.Fprintf(&b, "From a run of %d scenarios at n=%d, t=%d (seed %d, %s, %s, %s), %d with a fault: times in seconds from the injection, the window (injection to the end of recovery) after each scenario's name.\n\n",
		len(r.Scenarios), r.N, r.T, r.Seed, r.Started.UTC().Format("2006-01-02"), r.Backend, r.Machine, r.covered())
	cols := r.CoverageColumns()
	b.WriteString("| scenario |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", c.Name)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(cols)) + "\n")
	for _, s := range r.Scenarios {
		if !s.covered() {
			continue
		}
		fmt.Fprintf(&b, "| %s (%s) |", mdEscape(s.Name), secs(math.Round(s.Coverage.Window)))
		for _, sig := range s.CoverageRow(cols) {
			fmt.Fprintf(&b, " %s |", sig.Cell())
		}
		b.WriteString("\n")
	}
	if reasons := r.notMeasuredReasons(); len(reasons) > 0 {
		b.WriteString("\nNot measured:\n\n")
		for _, n := range reasons {
			fmt.Fprintf(&b, "* %s\n", mdEscape(n))
		}
	}
	b.WriteString("\n" + r.UncaughtMarkdown())
	b.WriteString(CoverageEnd + "\n")
	return b.String()
}

// UncaughtMarkdown is the list of faults no shipped alert catches, for
// docs/coverage.md and README.md.
func (r *Run) UncaughtMarkdown() string {
	var b strings.Builder
	uncaught, nm := r.Uncaught()
	fmt.Fprintf(&b, "Faults no shipped alert catches, not even pending (%d of %d):\n\n", len(uncaught), r.covered())
	for _, f := range uncaught {
		fmt.Fprintf(&b, "* *%s*: %s\n", mdEscape(f.Where), mdEscape(f.Text))
	}
	if len(nm) > 0 {
		fmt.Fprintf(&b, "\nAlerts not measured (no prometheus) in: %s\n", mdEscape(strings.Join(nm, "; ")))
	}
	return b.String()
}

// CoverageSummary is README.md's block: the faults no alert catches, one
// short line each (its window, the alerts evaluated, the first signal
// that did show it), the finding's words said once above them and the
// whole matrix in docs/coverage.md.
func (r *Run) CoverageSummary() string {
	var b strings.Builder
	uncaught, nm := r.uncaught()
	b.WriteString(CoverageBegin + "\n")
	fmt.Fprintf(&b, "From a run of %d scenarios at n=%d, t=%d (seed %d, %s): in %d of the %d with a fault, no alert of the operations pages "+
		"(docs/operations/emergency-procedures.md \"Critical Monitoring Alerts\", docs/operations/advanced/metrics.md's Alarm lines) "+
		"fires or is even pending from the fault to the end of its recovery, so an operator paged by those alerts never learns of it. "+
		"Each with that window, the alerts evaluated on %s and the first signal that did show it ([the whole matrix](docs/coverage.md)):\n\n",
		len(r.Scenarios), r.N, r.T, r.Seed, r.Started.UTC().Format("2006-01-02"), len(uncaught), r.covered(), r.Backend)
	for _, s := range uncaught {
		all, measured, _ := s.Coverage.alerts()
		fmt.Fprintf(&b, "* %s — %s, %d of %d alerts", mdEscape(s.Name), secs(math.Round(s.Coverage.Window)), measured, all)
		if first, ok := s.Coverage.earliest(); ok {
			fmt.Fprintf(&b, "; first shown by %s %s", first.Name, first.Cell())
		}
		b.WriteString("\n")
	}
	if len(nm) > 0 {
		fmt.Fprintf(&b, "\nAlerts not measured (no prometheus) in: %s\n", mdEscape(strings.Join(nm, "; ")))
	}
	b.WriteString(CoverageEnd + "\n")
	return b.String()
}

// covered counts the scenarios whose signals say something of their
// fault (Scenario.covered).
func (r *Run) covered() int {
	n := 0
	for _, s := range r.Scenarios {
		if s.covered() {
			n++
		}
	}
	return n
}

// ReplaceCoverage puts text between the coverage markers of doc.
func ReplaceCoverage(doc []byte, text string) ([]byte, error) {
	return replaceBetween(doc, CoverageBegin, CoverageEnd, "coverage", text)
}

// covered tells whether the scenario's signals say anything of its fault:
// a scenario skipped on its backend (a verb it lacks) had no fault to
// show, whatever it sampled before the skip.
func (s Scenario) covered() bool { return s.Coverage != nil && s.Skipped == "" }
