package report

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText writes the scorecard as a plain table, for CI logs.
func (r *Run) WriteText(w io.Writer) error {
	passed, _, nSkipped := r.Tally()
	// The line reads as before when nothing was skipped.
	skips := ""
	if nSkipped > 0 {
		skips = fmt.Sprintf(", %d skipped", nSkipped)
	}
	on := ""
	if r.Backend != "" {
		on = " on " + r.Backend
	}
	fmt.Fprintf(w, "kmschaos scorecard%s: n=%d t=%d seed=%d, %d of %d scenarios passed%s in %s%s (%s)\n\n",
		on, r.N, r.T, r.Seed, passed, len(r.Scenarios), skips, fmtDuration(r.Duration), r.clusters(), r.Machine)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// The scenario's name comes last, whole: it is the claim the row proves.
	// OVERHEAD is the harness's own time: the scenario's duration minus
	// the prelude, detecting and recovering (reset, injection,
	// observation, audits).
	fmt.Fprintln(tw, "RESULT\tTTD\tTTR\tOVERHEAD\tRECOVERED BY\tOPS ok/failed/wrong\tKEYS\tDEFECTS\tSECTION\tSCENARIO")
	for _, s := range r.Scenarios {
		res := s.Result()
		ttd, ttr := "-", "-"
		if s.Detected && len(s.Detections) > 0 {
			ttd = fmtDuration(s.TTD)
		}
		if s.Recovered && s.TTR > 0 {
			ttr = fmtDuration(s.TTR)
		}
		overhead := "-"
		if o, ok := s.Overhead(); ok {
			overhead = fmtDuration(o)
		}
		by := s.RecoveredBy
		if by == "" {
			by = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d/%d\t%s\t%d\t%s\t%s\n", res, ttd, ttr, overhead, by, s.Ops.OK, s.Ops.Failed, s.Ops.Wrong, s.KeysWord(), s.DefectCount(), s.Section, s.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if line := r.PhaseSummary(); line != "" {
		fmt.Fprintf(w, "\nTime by phase: %s\n", line)
	}
	if err := r.Guide.WriteText(w); err != nil {
		return err
	}
	var found []string
	for _, s := range r.Scenarios {
		for _, st := range s.Steps {
			if st.Defect {
				found = append(found, fmt.Sprintf("- %s: step %q (%s): %s", s.Name, st.Name, st.Guide, clip(st.Error, 300)))
			}
		}
		for _, d := range s.Defects {
			found = append(found, fmt.Sprintf("- %s: %s", s.Name, clip(d, 300)))
		}
	}
	for _, d := range r.Guide.GuideDefects() {
		found = append(found, "- the guide, as written: "+d)
	}
	if len(found) > 0 {
		fmt.Fprintf(w, "\nDefects of the guide found:\n%s\n", strings.Join(found, "\n"))
	}
	if line := r.RecoveredBySummary(); line != "" {
		fmt.Fprintf(w, "\nRecovered by: %s\n", line)
	}
	r.writeCoverageText(w)
	var notes []string
	for _, s := range r.Scenarios {
		for _, st := range s.Steps {
			if st.ChecksNothing {
				notes = append(notes, fmt.Sprintf("- %s: step %q checks nothing (a diagnostic)", s.Name, st.Name))
			}
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\nNotes:\n%s\n", strings.Join(notes, "\n"))
	}
	var failed, skipped []string
	for _, s := range r.Scenarios {
		switch s.Result() {
		case ResultFail:
			failed = append(failed, fmt.Sprintf("- %s: %s", s.Name, clip(s.Error, 600)))
		case ResultSkip:
			skipped = append(skipped, fmt.Sprintf("- %s: %s", s.Name, clip(s.Skipped, 600)))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nFailed:\n%s\n", strings.Join(failed, "\n"))
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "\nSkipped (the backend cannot offer a verb the scenario needs; neither passed nor failed):\n%s\n", strings.Join(skipped, "\n"))
	}
	return nil
}

// WriteTextFile writes the text scorecard to path.
func (r *Run) WriteTextFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.WriteText(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// KeysWord is what the KEYS column says: what the key audit found
// (intact, CHANGED), or lost where a step destroyed some, whatever
// restored them later; "-" for a row whose keys were never audited (a
// skip, a run that stopped before its audit), never a guess either way.
func (s Scenario) KeysWord() string {
	if s.Keys != "" {
		return s.Keys
	}
	return "-"
}

// DefectCount is what the DEFECTS column says: the defects of the guide
// the scenario recorded and its runbook steps that are defects.
func (s Scenario) DefectCount() int {
	n := len(s.Defects)
	for _, st := range s.Steps {
		if st.Defect {
			n++
		}
	}
	return n
}

// RecoveredBySummary counts the scenarios by who recovered the cluster.
// Every row that says who is counted: one whose "by" has no words here is
// counted under its own name rather than left out.
func (r *Run) RecoveredBySummary() string {
	counts := map[string]int{}
	for _, s := range r.Scenarios {
		if s.RecoveredBy != "" {
			counts[s.RecoveredBy]++
		}
	}
	var parts []string
	for _, by := range recoveredByWords {
		if n := counts[by.key]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d by %s", n, by.words))
			delete(counts, by.key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d by %s", counts[key], key))
	}
	return strings.Join(parts, ", ")
}

// recoveredByWords says each Scenario.RecoveredBy in words, in the order
// the summary lists them.
var recoveredByWords = []struct{ key, words string }{
	{ByGuide, "the guide as written"}, {ByRepaired, "a repaired runbook"},
	{ByOperations, "the real KMS's operations pages"},
	{ByHarness, "the harness undoing its own fault (TTR measures the harness)"}, {ByReset, "a reset by the harness"},
}

// PhaseSummary sums each phase over the run's scenarios, with its share
// of their total, and the harness's own share (reset, inject, observe,
// audit): where the run's time went. A prelude no scenario had is left
// out. It is empty when no scenario has phases.
func (r *Run) PhaseSummary() string {
	var sum Phases
	for _, s := range r.Scenarios {
		sum = sum.Plus(s.Phases)
	}
	total := sum.Total()
	if total == 0 {
		return ""
	}
	var parts []string
	for _, ph := range sum.List() {
		if ph.Name == "prelude" && ph.Took == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (%.0f%%)", ph.Name, fmtDuration(ph.Took), 100*ph.Took.Seconds()/total.Seconds()))
	}
	harness := sum.Reset + sum.Inject + sum.Observe + sum.Audit
	return fmt.Sprintf("%s; the harness's share %.1f%%", strings.Join(parts, ", "), 100*harness.Seconds()/total.Seconds())
}

// clusters says how many clusters shared the run, if more than one.
func (r *Run) clusters() string {
	if r.Processes < 2 {
		return ""
	}
	return fmt.Sprintf(" on %d clusters at once", r.Processes)
}
