package soak

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// reasonInCell bounds a failure's reason in the table; the list below
// the table and soak.json have it whole.
const reasonInCell = 90

// WriteMarkdown writes the soak as Markdown: the verdict, the runs and
// their seeds, the table scenario × run, the spread of TTD and TTR per
// scenario, and every failure's reason in full.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# kmschaos soak: %d runs\n\n", len(r.Runs))
	fmt.Fprintf(&b, "%s\n\n", r.Verdict())

	b.WriteString("## Runs\n\n| run | seed | n/t | duration | passed | failed | exit | directory |\n|---|---|---|---|---|---|---|---|\n")
	for _, run := range r.Runs {
		status := "—"
		if run.ExitStatus != nil {
			status = fmt.Sprintf("exit %d", *run.ExitStatus)
		}
		if run.Missing != "" {
			fmt.Fprintf(&b, "| %d | — | — | — | — | — | %s | %s |\n", run.Index, status, cell(run.Missing))
			continue
		}
		fmt.Fprintf(&b, "| %d | `%d` | %d/%d | %s | %d | %d | %s | `%s` |\n", run.Index, run.Seed, run.N, run.T,
			dur(run.Duration), run.Passed, run.Failed, status, cell(run.Dir))
	}

	b.WriteString("\n## Scenario × run\n\n")
	if r.SkippedRuns > 0 {
		b.WriteString("A *skip* is a scenario the backend could not run (a verb it cannot offer, listed under Skipped): neither a pass nor a failure, and not counted in the flake rate.\n\n")
	}
	b.WriteString("| scenario |")
	for _, run := range r.Runs {
		fmt.Fprintf(&b, " run %d |", run.Index)
	}
	b.WriteString(" flake rate |\n|---|")
	for range r.Runs {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "| %s |", cell(s.Name))
		for _, c := range s.Cells {
			switch {
			case !c.Ran:
				b.WriteString(" — |")
			case c.Skipped != "":
				b.WriteString(" skip |")
			case c.Passed:
				b.WriteString(" pass |")
			default:
				fmt.Fprintf(&b, " **FAIL**: %s |", cell(clip(firstLine(c.Reason), reasonInCell)))
			}
		}
		fmt.Fprintf(&b, " %s |\n", rate(s.Failed, s.Ran))
	}

	b.WriteString("\n## Time to detect, time to recover (min / median / max over the runs that measured it)\n\n")
	b.WriteString("| scenario | TTD | TTR | duration |\n|---|---|---|---|\n")
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(s.Name), spread(s.TTD), spread(s.TTR), spread(s.Duration))
	}

	var failures []string
	for _, s := range r.Scenarios {
		for k, c := range s.Cells {
			if c.Ran && !c.Passed && c.Skipped == "" {
				run := r.Runs[k]
				failures = append(failures, fmt.Sprintf("- run %d (KMSCHAOS_SEED=%d), %s:\n\n  ```\n%s\n  ```", run.Index, run.Seed, s.Name, indent(c.Reason, "  ")))
			}
		}
	}
	if len(failures) > 0 {
		fmt.Fprintf(&b, "\n## Failures\n\n%s\n", strings.Join(failures, "\n"))
	}
	var skips []string
	for _, s := range r.Scenarios {
		for k, c := range s.Cells {
			if c.Skipped != "" {
				skips = append(skips, fmt.Sprintf("- run %d, %s: %s", r.Runs[k].Index, s.Name, cell(c.Skipped)))
			}
		}
	}
	if len(skips) > 0 {
		fmt.Fprintf(&b, "\n## Skipped\n\n%s\n", strings.Join(skips, "\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Verdict is the soak in one sentence.
func (r *Report) Verdict() string {
	skips := ""
	if r.SkippedRuns > 0 {
		skips = fmt.Sprintf(" (%d more skipped, not counted)", r.SkippedRuns)
	}
	return fmt.Sprintf("Flake rate %s: %d of %d scenario runs failed%s; %d of %d runs had a red.",
		rate(r.FailedRuns, r.ScenarioRuns), r.FailedRuns, r.ScenarioRuns, skips, r.RedRuns, len(r.Runs))
}

// WriteFiles writes soak.md and soak.json into dir and returns their paths.
func (r *Report) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	md, js := filepath.Join(dir, "soak.md"), filepath.Join(dir, "soak.json")
	f, err := os.Create(md)
	if err != nil {
		return nil, err
	}
	if err := r.WriteMarkdown(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(js, append(j, '\n'), 0o644); err != nil {
		return nil, err
	}
	return []string{md, js}, nil
}

func rate(failed, ran int) string {
	if ran == 0 {
		return "—"
	}
	return fmt.Sprintf("%d/%d (%.0f %%)", failed, ran, 100*float64(failed)/float64(ran))
}

func spread(d Dist) string {
	switch d.Count {
	case 0:
		return "—"
	case 1:
		return dur(d.Median)
	}
	return fmt.Sprintf("%s / %s / %s", dur(d.Min), dur(d.Median), dur(d.Max))
}

// dur formats d for a table: milliseconds below 10 s, tenths above.
func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "0 s"
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d < 10*time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%d min %02d s", d/time.Minute, d%time.Minute/time.Second)
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (…)"
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func indent(s, pre string) string {
	s = strings.ReplaceAll(s, "```", "'''") // a reason must not close the block
	return pre + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pre)
}
