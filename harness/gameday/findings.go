package gameday

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/workload"
)

// Findings are a game day's report, built once (Build) from the state
// and the players' records and told alike by the text, the JSON and the
// page. The JSON report is this struct as it stands: scripts may read
// every field below (docs/gameday.md lists them); a field is added,
// never renamed or dropped. It holds the truth, so it is written only at
// the end, and never a secret of the cluster.
type Findings struct {
	ID      string        `json:"id"`
	Run     string        `json:"run"`
	Stage   string        `json:"stage"` // running, ended, aborted
	Cluster Cluster       `json:"cluster"`
	Seed    uint64        `json:"seed"`
	Started time.Time     `json:"started"`
	Ended   time.Time     `json:"ended,omitzero"`
	Took    time.Duration `json:"took_ns"`
	Every   time.Duration `json:"every_ns"`
	Limit   time.Duration `json:"limit_ns"`

	// Passed: every fault recovered by the players, nothing left on the
	// cluster, the key material intact and no wrong value; Error says
	// why not.
	Passed bool   `json:"passed"`
	Error  string `json:"error,omitempty"`
	// Summary is what the report says first, worst first: a wrong value
	// always leads, then a halt, the key material, what was left, faults
	// not diagnosed or not recovered, wrong diagnoses; then what the
	// players found and recovered.
	Summary []Line `json:"summary"`

	Faults    []FaultResult `json:"faults"`
	Diagnoses []Scored      `json:"diagnoses"`
	Runbooks  []Note        `json:"runbooks"`
	// Escalations are the players' requests to the network coordinator
	// ('gameday escalate'), with the coordinator's answer and the faults
	// it undid.
	Escalations []Escalation `json:"escalations"`
	// Halt is the game day stopped by a guard or 'kmschaos halt': its
	// cause, time and who pulled it; nil if it was not.
	Halt *halt.Halt `json:"halt,omitempty"`

	Ops          report.Ops `json:"ops"` // the workload's, in all
	WorkloadLost bool       `json:"workload_lost,omitempty"`
	// Wrong is how many decryptions were wrong, whoever saw them; Wrongs
	// each one seen, with who saw it.
	Wrong  int            `json:"wrong"`
	Wrongs []oracle.Wrong `json:"wrongs"`
	Keys   string         `json:"keys"`           // intact, CHANGED, "" not checked
	Left   string         `json:"left,omitempty"` // what the final audit found
	// Events are the timeline: a lane per fault ("fault 1"), the
	// players' lane, the harness's checks; offsets from Started. The
	// workload's operations are on the page only.
	Events []report.Event `json:"events"`
}

// Line is one line of the summary; Bad lines are what went wrong.
type Line struct {
	Bad  bool   `json:"bad"`
	Text string `json:"text"`
}

// Build makes the game day's findings from its state, what the players
// said and the runbooks they ran.
func Build(s *State, diags []Diagnosis, notes []Note) *Findings {
	end := s.Ended
	if end.IsZero() {
		end = time.Now()
	}
	f := &Findings{ID: s.ID, Run: s.Run, Stage: s.Stage(), Cluster: s.Cluster, Seed: s.Seed, Started: s.Started, Ended: s.Ended,
		Took: end.Sub(s.Started), Every: s.Every, Limit: s.Limit,
		Faults: Results(s, diags), Diagnoses: ScoreAll(s, diags), Runbooks: notes, Escalations: s.Escalations,
		Ops: s.Ops, WorkloadLost: s.WorkloadLost, Wrongs: Wrongs(s, notes), Keys: s.Keys, Left: s.Left, Halt: s.Halt}
	if f.Runbooks == nil {
		f.Runbooks = []Note{}
	}
	if f.Escalations == nil {
		f.Escalations = []Escalation{}
	}
	if f.Wrongs == nil {
		f.Wrongs = []oracle.Wrong{}
	}
	f.Wrong = wrongCount(s, f.Wrongs)
	f.Summary = f.summarize()
	recovered := true
	var why []string
	for i, r := range f.Faults {
		recovered = recovered && r.Recovered
		if !r.Recovered {
			why = append(why, fmt.Sprintf("fault %d not recovered by the players", i+1))
		}
	}
	f.Passed = recovered && s.Left == "" && s.Keys == report.KeysIntact && f.Wrong == 0 && f.Halt == nil
	if s.Left != "" {
		why = append(why, s.Left)
	}
	if s.Keys == report.KeysChanged {
		why = append(why, "key material differs from the baseline")
	}
	if f.Wrong > 0 {
		why = append(why, fmt.Sprintf("%d WRONG decryptions", f.Wrong))
	}
	if !f.Passed {
		f.Error = strings.Join(why, "; ")
	}
	f.Events = f.timeline(s, end)
	return f
}

// VerdictLine is the report's verdict in a line.
func (f *Findings) VerdictLine() string {
	switch {
	case f.Wrong > 0:
		return "the game day FAILED: a decryption returned a WRONG value"
	case f.Passed:
		return "the game day PASSED: the players found and recovered every fault"
	case f.Stage == "running":
		return "the game day is still running"
	}
	return "the game day FAILED: " + f.Error
}

func wrongLine(n int) string {
	return fmt.Sprintf("WRONG decryptions: %d, whoever saw them: the game day FAILED", n)
}

// summarize says what went wrong first, a wrong value before anything,
// then what went right.
func (f *Findings) summarize() []Line {
	var bad, good []Line
	badf := func(format string, a ...any) { bad = append(bad, Line{true, fmt.Sprintf(format, a...)}) }
	if f.Wrong > 0 {
		first := ""
		if len(f.Wrongs) > 0 {
			first = ": " + f.Wrongs[0].String()
			if len(f.Wrongs) > 1 {
				first += fmt.Sprintf(", and %d more", len(f.Wrongs)-1)
			}
		}
		badf("%s%s", wrongLine(f.Wrong), first)
	}
	if f.Halt != nil {
		badf("HALTED +%s by %s: %s", f.Halt.At.Sub(f.Started).Round(100*time.Millisecond), f.Halt.By, f.Halt.Cause)
	}
	if f.Keys == report.KeysChanged {
		badf("key material differs from the baseline")
	}
	if f.Left != "" {
		badf("left on the cluster after the game day: %s", f.Left)
	}
	wrongDiags := 0
	for _, d := range f.Diagnoses {
		if !d.Right {
			wrongDiags++
		}
	}
	for i, r := range f.Faults {
		name := fmt.Sprintf("fault %d (%s on %s)", i+1, r.Kind, r.Target)
		switch {
		case r.InjectedAt.IsZero():
			good = append(good, Line{false, name + " was not injected: the game day ended first"})
			continue
		case r.InjectError != "":
			badf("%s did not inject: %s", name, r.InjectError)
			continue
		}
		found := "NOT diagnosed right"
		if r.Diagnosed {
			found = "diagnosed right after " + r.FirstRight.Round(time.Second).String()
		}
		var fixed string
		switch {
		case r.Recovered:
			fixed = "recovered by " + r.By + " after " + r.TTR.Round(time.Second).String()
		case !r.RecoveredAt.IsZero():
			fixed = r.By + " after " + r.TTR.Round(time.Second).String()
		default:
			fixed = "not recovered yet"
		}
		line := name + ": " + found + ", " + fixed
		if r.Diagnosed && r.Recovered {
			good = append(good, Line{false, line})
		} else {
			badf("%s", line)
		}
	}
	if wrongDiags > 0 {
		badf("%d wrong %s", wrongDiags, plural(wrongDiags, "diagnosis", "diagnoses"))
	}
	return append(append([]Line{}, bad...), good...)
}

// faultLabel finds the fault a runner's event of the faults lane is
// about: the page draws those on the fault's own lane.
var faultLabel = regexp.MustCompile(`\bfault (\d+)\b`)

// FaultLane is fault i's lane (from 0) on the timeline.
func FaultLane(i int) report.Lane { return report.Lane(fmt.Sprintf("fault %d", i+1)) }

// timeline is the game day's events: each fault on its lane (while it
// was on, and how it ended), the players' diagnoses, escalations and
// runbooks on theirs, the harness's checks.
func (f *Findings) timeline(s *State, end time.Time) []report.Event {
	at := func(t time.Time) time.Duration { return t.Sub(s.Started) }
	var evs []report.Event
	for i, r := range f.Faults {
		lane := FaultLane(i)
		switch {
		case r.InjectedAt.IsZero():
			continue
		case r.InjectError != "":
			evs = append(evs, report.Event{At: at(r.InjectedAt), Lane: lane, Label: "did not inject", Status: report.Fail, Detail: r.InjectError})
			continue
		}
		until := r.RecoveredAt
		if until.IsZero() {
			until = end
		}
		evs = append(evs, report.Event{At: at(r.InjectedAt), End: at(until), Lane: lane, Label: r.Kind + " on " + r.Target, Status: report.Warn,
			Detail: fmt.Sprintf("%s; ops while it was on: %d ok / %d failed / %d wrong", r.Name, r.Ops.OK, r.Ops.Failed, r.Ops.Wrong)})
		switch {
		case r.Recovered:
			evs = append(evs, report.Event{At: at(r.RecoveredAt), Lane: lane, Label: "recovered by " + r.By, Status: report.OK})
		case !r.RecoveredAt.IsZero():
			evs = append(evs, report.Event{At: at(r.RecoveredAt), Lane: lane, Label: r.By, Status: report.Fail, Detail: r.HealError})
		}
	}
	for _, e := range s.Events {
		if e.Lane == report.LaneFaults && faultLabel.MatchString(e.Label) {
			continue // drawn above, on the fault's lane
		}
		evs = append(evs, e)
	}
	for _, d := range f.Diagnoses {
		e := report.Event{At: at(d.At), Lane: report.LanePlayers, Label: fmt.Sprintf("✗ %s p%d", d.Kind, d.Party), Status: report.Fail,
			Detail: fmt.Sprintf("diagnosis: party %d %s: wrong%s", d.Party, d.Kind, quoted(d.Text))}
		if d.Right {
			e.Label, e.Status = fmt.Sprintf("✓ %s p%d", d.Kind, d.Party), report.OK
			e.Detail = fmt.Sprintf("diagnosis: party %d %s: right (fault %d)%s", d.Party, d.Kind, d.Fault+1, quoted(d.Text))
		}
		evs = append(evs, e)
	}
	for _, x := range f.Escalations {
		status := report.Fail
		if x.Right() {
			status = report.OK
		}
		evs = append(evs, report.Event{At: at(x.At), Lane: report.LanePlayers, Label: fmt.Sprintf("↗ p%d", x.Party), Status: status,
			Detail: fmt.Sprintf("escalation about party %d: %s%s", x.Party, x.Verdict(), quoted(x.Ask))})
	}
	for _, n := range f.Runbooks {
		status := report.OK
		if !n.Passed {
			status = report.Fail
		}
		evs = append(evs, report.Event{At: at(n.At) - n.Took, End: at(n.At), Lane: report.LanePlayers,
			Label: fmt.Sprintf("%s p%d %s", n.Runbook, n.Party, passFail(n.Passed)), Status: status,
			Detail: fmt.Sprintf("runbook %s on party %d: %s%s", n.Runbook, n.Party, passFail(n.Passed), quoted(n.Detail))})
	}
	for _, w := range f.Wrongs {
		if w.By != workload.By && !slices.ContainsFunc(s.Wrongs, func(o oracle.Wrong) bool { return o == w }) {
			// A player's process saw it: the runner's are on the timeline already.
			evs = append(evs, report.Event{At: at(w.At), Lane: report.LanePlayers, Label: fmt.Sprintf("WRONG value via party %d", w.Party), Status: report.Wrong, Detail: w.String()})
		}
	}
	return evs
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
