package gameday

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/workload"
)

// FaultResult is one fault's line of the report.
type FaultResult struct {
	Fault
	// FirstRight is the time from the injection to the first right
	// diagnosis; zero if nobody diagnosed it.
	FirstRight time.Duration `json:"first_right_ns"`
	Diagnosed  bool          `json:"diagnosed"`
	Wrong      int           `json:"wrong_diagnoses"` // wrong diagnoses while it was on
	TTR        time.Duration `json:"ttr_ns"`          // injection to recovery (or the harness's heal)
	Recovered  bool          `json:"recovered"`       // by the players
	Target     string        `json:"target"`          // "party 2", "link 3-1"
	// By is who recovered it, as the report says it: "the players", "NOT
	// RECOVERED: healed by the harness", "not yet".
	By string `json:"by"`
}

// Results scores each fault against the diagnoses, each held against the
// truth at its own time.
func Results(s *State, diags []Diagnosis) []FaultResult {
	scored := ScoreAll(s, diags)
	out := make([]FaultResult, len(s.Faults))
	for i, f := range s.Faults {
		r := FaultResult{Fault: f, Recovered: f.RecoveredBy == ByPlayers || f.RecoveredBy == ByCoordinator, Target: f.Target(), By: byWhom(f)}
		if !f.RecoveredAt.IsZero() && !f.InjectedAt.IsZero() {
			r.TTR = f.RecoveredAt.Sub(f.InjectedAt)
		}
		for _, d := range scored {
			switch {
			case d.Right && d.Fault == i && !r.Diagnosed:
				r.Diagnosed, r.FirstRight = true, d.At.Sub(f.InjectedAt)
			case !d.Right && f.Active(d.At):
				r.Wrong++
			}
		}
		out[i] = r
	}
	return out
}

// byWhom is who recovered f, as the report says it.
func byWhom(f Fault) string {
	switch {
	case f.InjectedAt.IsZero() || f.InjectError != "":
		return "—"
	case f.RecoveredBy == ByPlayers, f.RecoveredBy == ByCoordinator:
		return Who(f.RecoveredBy)
	case f.RecoveredBy == ByHarness:
		return "NOT RECOVERED: healed by the harness"
	case f.RecoveredAt.IsZero():
		return "not yet"
	}
	return f.RecoveredBy
}

// WriteText writes the game day's report for people: what the summary
// says first, then each fault, the players' records and the invariants.
func WriteText(w io.Writer, s *State, diags []Diagnosis, notes []Note) {
	writeText(w, s, Build(s, diags, notes))
}

// writeText tells the findings f of s as text.
func writeText(w io.Writer, s *State, f *Findings) {
	end := s.Ended
	if end.IsZero() {
		end = time.Now()
	}
	fmt.Fprintf(w, "kmschaos game day %s on cluster %s: %s, seed %d, %d hidden faults every %s, limit %s, %s\n",
		s.ID, s.Run, s.Stage(), s.Seed, len(s.Faults), s.Every, s.Limit, end.Sub(s.Started).Round(time.Second))
	fmt.Fprintf(w, "cluster: n = %d, t = %d, on %s\n", f.Cluster.N, f.Cluster.T, orDash(f.Cluster.Backend))
	if first := firstInjected(s); !first.IsZero() {
		fmt.Fprintf(w, "first fault injected %s after 'gameday start'\n", first.Sub(s.Started).Round(time.Millisecond))
	}
	fmt.Fprintf(w, "\n%s\n", f.VerdictLine())
	for _, l := range f.Summary {
		mark := "  "
		if l.Bad {
			mark = "! "
		}
		fmt.Fprintf(w, "%s%s\n", mark, l.Text)
	}
	fmt.Fprintln(w)
	for i, r := range f.Faults {
		fmt.Fprintf(w, "fault %d: %s (%s on %s)\n", i+1, r.Name, r.Kind, r.Target)
		if r.InjectedAt.IsZero() {
			fmt.Fprintf(w, "  not injected: the game day ended first\n\n")
			continue
		}
		fmt.Fprintf(w, "  injected        +%s\n", r.InjectedAt.Sub(s.Started).Round(time.Millisecond))
		if r.InjectError != "" {
			fmt.Fprintf(w, "  did not inject  %s\n\n", r.InjectError)
			continue
		}
		if r.Diagnosed {
			fmt.Fprintf(w, "  diagnosed       right, %s after the injection\n", r.FirstRight.Round(time.Millisecond))
		} else {
			fmt.Fprintf(w, "  diagnosed       NOT diagnosed right\n")
		}
		fmt.Fprintf(w, "  wrong diagnoses %d\n", r.Wrong)
		switch {
		case r.Recovered:
			fmt.Fprintf(w, "  recovered       by %s, %s after the injection\n", Who(r.RecoveredBy), r.TTR.Round(time.Millisecond))
		case !r.RecoveredAt.IsZero():
			fmt.Fprintf(w, "  recovered       NOT RECOVERED: healed by the harness %s after the injection\n", r.TTR.Round(time.Millisecond))
		default:
			fmt.Fprintf(w, "  recovered       not yet (on for %s)\n", time.Since(r.InjectedAt).Round(time.Second))
		}
		if r.HealError != "" {
			fmt.Fprintf(w, "  heal error      %s\n", r.HealError)
		}
		fmt.Fprintf(w, "  ops             %d ok / %d failed / %d wrong while it was on\n\n", r.Ops.OK, r.Ops.Failed, r.Ops.Wrong)
	}
	fmt.Fprintf(w, "diagnoses (%d):\n", len(f.Diagnoses))
	for _, d := range f.Diagnoses {
		verdict := "wrong"
		if d.Right {
			verdict = fmt.Sprintf("right (fault %d)", d.Fault+1)
		}
		fmt.Fprintf(w, "  +%-9s party %d, %s: %s%s\n", d.At.Sub(s.Started).Round(100*time.Millisecond), d.Party, d.Kind, verdict, quoted(d.Text))
	}
	fmt.Fprintf(w, "runbooks the players ran (%d):\n", len(f.Runbooks))
	for _, n := range f.Runbooks {
		fmt.Fprintf(w, "  +%-9s %s on party %d: %s (%s)%s\n", n.At.Sub(s.Started).Round(100*time.Millisecond), n.Runbook, n.Party, passFail(n.Passed), n.Took.Round(100*time.Millisecond), quoted(n.Detail))
	}
	writeEscalations(w, s.Started, f.Escalations)
	if f.Halt != nil {
		fmt.Fprintf(w, "HALTED +%s by %s: %s\n", f.Halt.At.Sub(s.Started).Round(100*time.Millisecond), f.Halt.By, f.Halt.Cause)
	}
	fmt.Fprintf(w, "\nops in all: %d ok / %d failed / %d wrong", s.Ops.OK, s.Ops.Failed, s.Ops.Wrong)
	if s.WorkloadLost {
		fmt.Fprint(w, " (a runner died: its operations after its last heartbeat are not counted)")
	}
	fmt.Fprintln(w)
	if f.Wrong > 0 {
		fmt.Fprintln(w, wrongLine(f.Wrong))
	} else {
		fmt.Fprintln(w, "wrong decryptions: none")
	}
	for _, wr := range f.Wrongs {
		fmt.Fprintf(w, "  WRONG: %s\n", wr)
	}
	fmt.Fprintf(w, "key material: %s\n", orUnchecked(s.Keys))
	if !s.Ended.IsZero() {
		fmt.Fprintf(w, "left on the cluster after the game day: %s\n", orNothing(s.Left))
	}
}

func firstInjected(s *State) time.Time {
	var first time.Time
	for _, f := range s.Faults {
		if !f.InjectedAt.IsZero() && (first.IsZero() || f.InjectedAt.Before(first)) {
			first = f.InjectedAt
		}
	}
	return first
}

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" — %q", s)
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func orUnchecked(s string) string {
	if s == "" {
		return "not checked yet"
	}
	return s
}

// Wrongs are every wrong value seen during the game day, oldest first,
// whoever saw it: the runners' workload and checks (the state), and the
// players' runbooks in their own processes (their notes).
func Wrongs(s *State, notes []Note) []oracle.Wrong {
	out := slices.Clone(s.Wrongs)
	for _, n := range notes {
		for _, w := range n.Wrongs {
			w.By = fmt.Sprintf("the players' runbook %s on party %d: %s", n.Runbook, n.Party, w.By)
			out = append(out, w)
		}
	}
	slices.SortStableFunc(out, func(a, b oracle.Wrong) int { return a.At.Compare(b.At) })
	return out
}

// wrongCount is how many decryptions were wrong: the workload's wrong
// operations (counted on its history, even those of a runner that died
// before it saved them) and every other wrong value seen.
func wrongCount(s *State, wrongs []oracle.Wrong) int {
	n := s.Ops.Wrong
	for _, w := range wrongs {
		if w.By != workload.By {
			n++
		}
	}
	return n
}

// Failed is the game day's failure if anything saw a wrong value —
// whatever else the report says, it is what 'gameday end' exits with —
// or nil.
func Failed(s *State, notes []Note) error {
	wrongs := Wrongs(s, notes)
	n := wrongCount(s, wrongs)
	if n == 0 {
		return nil
	}
	var seen []string
	for _, w := range wrongs[:min(len(wrongs), 3)] {
		seen = append(seen, w.String())
	}
	if len(wrongs) > len(seen) {
		seen = append(seen, fmt.Sprintf("%d more in the report", len(wrongs)-len(seen)))
	}
	return fmt.Errorf("game day %s FAILED: %d WRONG decryptions: %s", s.ID, n, strings.Join(seen, "; "))
}

// JSON is the report for scripts: the Findings, indented.
func JSON(s *State, diags []Diagnosis, notes []Note) ([]byte, error) {
	return json.MarshalIndent(Build(s, diags, notes), "", "  ")
}

// WriteReports writes gameday-ID.txt, .json and .html into the state's
// directory: the same findings, built once, told three ways.
func WriteReports(s *State, diags []Diagnosis, notes []Note, workloadEvents []report.Event) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	f := Build(s, diags, notes)
	files := s.Files()
	out, err := os.Create(files.Text())
	if err != nil {
		return err
	}
	writeText(out, s, f)
	if err := out.Close(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(files.JSON(), b, 0o644); err != nil {
		return err
	}
	return WriteHTML(files.HTML(), f, workloadEvents)
}

// Truth is the sealed file's content: what the facilitator may read and
// the players may not.
type Truth struct {
	ID      string        `json:"id"`
	Run     string        `json:"run"`
	Seed    uint64        `json:"seed"`
	Started time.Time     `json:"started"`
	Every   time.Duration `json:"every_ns"`
	Limit   time.Duration `json:"limit_ns"`
	Faults  []TruthFault  `json:"faults"`
}

// TruthFault is one hidden fault as the sealed file tells it.
type TruthFault struct {
	Kind   string            `json:"kind"`
	Target string            `json:"target"`
	Params map[string]string `json:"params,omitempty"`
	Name   string            `json:"name"`
	At     string            `json:"at"` // after the start
}

// TruthOf is the truth of a game day.
func TruthOf(s *State) Truth {
	t := Truth{ID: s.ID, Run: s.Run, Seed: s.Seed, Started: s.Started, Every: s.Every, Limit: s.Limit}
	for _, f := range s.Faults {
		t.Faults = append(t.Faults, TruthFault{Kind: f.Kind, Target: f.Target(), Params: f.Params, Name: f.Name, At: f.At.String()})
	}
	return t
}

// Seal writes the truth to its file, readable by its owner only. The
// file is created with those permissions (never wider, not even for a
// moment) and must not exist already.
func Seal(s *State) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", err
	}
	p := s.Files().Sealed()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return p, err
	}
	b, _ := json.MarshalIndent(TruthOf(s), "", "  ")
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return p, err
	}
	return p, f.Close()
}
