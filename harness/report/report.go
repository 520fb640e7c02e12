// Package report records what happens during a run — faults, detections,
// runbook steps, workload operations, party states — and writes it as a
// scorecard: JSON for machines and one self-contained HTML page with a
// timeline for people. It never records key material or other secrets.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Lane is a row of the timeline.
type Lane string

// PartyLane is the lane of party i.
func PartyLane(i int) Lane { return Lane(fmt.Sprintf("party %d", i)) }

// Lanes of the timeline besides one per party (PartyLane).
const (
	LaneFaults   Lane = "faults"
	LaneProbes   Lane = "probes"
	LaneRunbook  Lane = "runbook"
	LaneWorkload Lane = "workload"
	// LanePlayers holds what people did during a game day: their
	// diagnoses and the runbooks they ran.
	LanePlayers Lane = "players"
)

// Status is how an event went.
type Status string

// Statuses of an event.
const (
	OK    Status = "ok"
	Fail  Status = "fail"
	Wrong Status = "wrong" // a decryption that returned a wrong value
	Info  Status = "info"
	Warn  Status = "warn"
)

// Event is one thing on the timeline. At and End are offsets from the start
// of the scenario; End is zero for an instant.
type Event struct {
	At     time.Duration `json:"at_ns"`
	End    time.Duration `json:"end_ns,omitempty"`
	Lane   Lane          `json:"lane"`
	Label  string        `json:"label"`
	Status Status        `json:"status"`
	Detail string        `json:"detail,omitempty"`
}

// Detection is one probe of a scenario and when it first held.
type Detection struct {
	Probe string        `json:"probe"`
	Held  bool          `json:"held"`
	At    time.Duration `json:"at_ns"` // time to detect, from injection
	Last  string        `json:"last,omitempty"`
}

// Step is one runbook step as executed.
type Step struct {
	Name     string        `json:"name"`
	Guide    string        `json:"guide,omitempty"` // where the guide says it
	Command  string        `json:"command,omitempty"`
	Took     time.Duration `json:"took_ns"`
	OK       bool          `json:"ok"`
	Error    string        `json:"error,omitempty"`
	Output   string        `json:"output,omitempty"`
	Defect   bool          `json:"defect"`   // the step is wrong or dangerous as written
	Expected bool          `json:"expected"` // the scenario expected this defect, failing the way it expected
	// UndoesFault: the step undid the harness's own fault instead of doing
	// what the guide says. ChecksNothing: a declared diagnostic whose
	// result judges nothing.
	UndoesFault   bool `json:"undoes_fault,omitempty"`
	ChecksNothing bool `json:"checks_nothing,omitempty"`
}

// Who recovered the cluster after a fault (Scenario.RecoveredBy).
const (
	ByGuide    = "guide"    // the guide's procedures as written
	ByRepaired = "repaired" // a runbook that repairs what the guide gets wrong
	ByHarness  = "harness"  // a step that only undid the harness's own fault
	// ByOperations: a procedure of the real KMS's operations pages
	// (kubectl, helm), on Kubernetes.
	ByOperations = "operations"
	ByReset      = "reset" // the harness reset the cluster from its offline copy
)

// What became of the key material (Scenario.Keys).
const (
	KeysIntact  = "intact"  // byte-identical to the baseline throughout
	KeysLost    = "lost"    // a step destroyed some, whatever restored them later
	KeysChanged = "CHANGED" // differs from the baseline at the end
)

// Ops summarises the workload of a scenario.
type Ops struct {
	OK     int `json:"ok"`
	Failed int `json:"failed"`
	Wrong  int `json:"wrong"`
	// While the fault was active.
	FaultOK     int `json:"fault_ok"`
	FaultFailed int `json:"fault_failed"`
	FaultWrong  int `json:"fault_wrong"`
	// Availability is the share of operations that succeeded while the
	// fault was active, among those the scenario expected to succeed.
	Availability float64 `json:"availability"`
}

// Scenario is the scorecard row of one scenario.
type Scenario struct {
	Name            string        `json:"name"`
	Section         string        `json:"section"`
	Kind            string        `json:"kind"`
	Fault           string        `json:"fault"`
	Parties         []int         `json:"parties"`
	BeyondThreshold bool          `json:"beyond_threshold"`
	Started         time.Time     `json:"started"`
	Duration        time.Duration `json:"duration_ns"`
	// Phases is where Duration went; zero for a row a spec wrote by hand.
	Phases Phases `json:"phases"`

	Detected   bool          `json:"detected"`
	TTD        time.Duration `json:"ttd_ns"`
	Detections []Detection   `json:"detections"`

	Runbook   string        `json:"runbook"`
	Steps     []Step        `json:"steps"`
	Recovered bool          `json:"recovered"`
	TTR       time.Duration `json:"ttr_ns"` // from the start of the runbook to steady state
	// RecoveredBy says who brought the cluster back: ByGuide, ByRepaired,
	// ByHarness or ByReset; empty where it did not come back.
	RecoveredBy string `json:"recovered_by,omitempty"`

	Ops        Ops    `json:"ops"`
	DataIntact bool   `json:"data_intact"` // key material byte-identical at the end
	Keys       string `json:"keys"`        // KeysIntact, KeysLost or KeysChanged
	// Wrongs are the wrong decryptions anything saw during the scenario
	// (workload, probe, runbook check, steady-state check), each naming
	// the party, the value sent and the value returned.
	Wrongs    []string `json:"wrongs,omitempty"`
	FaultLeft string   `json:"fault_left,omitempty"`

	// Coverage is what the operator's signals showed of the fault, nil
	// where nothing was injected.
	Coverage *Coverage `json:"coverage,omitempty"`

	Defects []string `json:"defects"` // defects of the guide found by this scenario
	Passed  bool     `json:"passed"`
	// Skipped is why the scenario was not judged: its fault or a runbook
	// needs a verb the backend cannot offer (cluster.Unsupported). A
	// skipped row is neither a pass nor a failure; Passed is false.
	Skipped string  `json:"skipped,omitempty"`
	Error   string  `json:"error,omitempty"`
	Events  []Event `json:"events"`
}

// Results of a scenario, as the reports show them (Scenario.Result).
const (
	ResultPass = "PASS"
	ResultFail = "FAIL"
	ResultSkip = "SKIP"
)

// Result is the row's verdict: SKIP wins, since a skipped row is not
// judged, then PASS or FAIL.
func (s Scenario) Result() string {
	switch {
	case s.Skipped != "":
		return ResultSkip
	case s.Passed:
		return ResultPass
	}
	return ResultFail
}

// Tally counts the scenarios by result.
func (r *Run) Tally() (passed, failed, skipped int) {
	for _, s := range r.Scenarios {
		switch s.Result() {
		case ResultPass:
			passed++
		case ResultSkip:
			skipped++
		default:
			failed++
		}
	}
	return passed, failed, skipped
}

// Phases is the time a scenario spent in each phase of its run. A phase
// the scenario never reached took zero.
type Phases struct {
	Reset time.Duration `json:"reset_ns"` // the cluster back to its baseline, the plan built, runbooks loaded
	// Prelude is the operation under test that makes the state the faults
	// act on, the workload running (a rolling upgrade's waves): the
	// cluster's time, not the harness's.
	Prelude time.Duration `json:"prelude_ns,omitempty"`
	Inject  time.Duration `json:"inject_ns"`  // monitor and workload started, faults injected
	Detect  time.Duration `json:"detect_ns"`  // the diagnostics until each held (TTD)
	Observe time.Duration `json:"observe_ns"` // the fault left on after detection until the window from its injection is long enough and every live party has run an operation in it (often 0)
	Runbook time.Duration `json:"runbook_ns"` // the runbooks' steps (the start of TTR)
	Recover time.Duration `json:"recover_ns"` // until the steady state (the rest of TTR); healing an undetected fault
	Audit   time.Duration `json:"audit_ns"`   // workload judged, key material compared, faults left looked for
}

// Phase is one phase's name and time, for tables and charts.
type Phase struct {
	Name string
	Took time.Duration
}

// List returns the phases in the order they run.
func (p Phases) List() []Phase {
	return []Phase{
		{"reset", p.Reset}, {"prelude", p.Prelude}, {"inject", p.Inject}, {"detect", p.Detect}, {"observe", p.Observe},
		{"runbook", p.Runbook}, {"recover", p.Recover}, {"audit", p.Audit},
	}
}

// Plus adds q to p, phase by phase.
func (p Phases) Plus(q Phases) Phases {
	return Phases{
		Reset: p.Reset + q.Reset, Prelude: p.Prelude + q.Prelude, Inject: p.Inject + q.Inject, Detect: p.Detect + q.Detect,
		Observe: p.Observe + q.Observe, Runbook: p.Runbook + q.Runbook, Recover: p.Recover + q.Recover, Audit: p.Audit + q.Audit,
	}
}

// Total is the sum of the phases.
func (p Phases) Total() time.Duration {
	var t time.Duration
	for _, ph := range p.List() {
		t += ph.Took
	}
	return t
}

// Overhead is the time of a scenario that is neither detecting nor
// recovering nor the operation under test: the harness's own reset,
// injection, observation window and audits (Duration minus the prelude,
// detect, runbook and recover phases). It is false for a row without
// phases.
func (s Scenario) Overhead() (time.Duration, bool) {
	if s.Phases == (Phases{}) {
		return 0, false
	}
	return s.Duration - s.Phases.Prelude - s.Phases.Detect - s.Phases.Runbook - s.Phases.Recover, true
}

// Run is a whole run.
type Run struct {
	Seed    uint64 `json:"seed"`
	N       int    `json:"n"`
	T       int    `json:"t"`
	Machine string `json:"machine"`
	// Backend is where the clusters ran: docker or kubernetes.
	Backend string `json:"backend,omitempty"`
	// Processes is how many clusters ran the scenarios at once (Ginkgo's
	// parallel processes, one cluster each); 0 or 1: one.
	Processes int           `json:"processes,omitempty"`
	Started   time.Time     `json:"started"`
	Duration  time.Duration `json:"duration_ns"`
	Scenarios []Scenario    `json:"scenarios"`
	Guide     *Guide        `json:"guide,omitempty"`
	// RecordedAs is the run's id in the results store, shown on the page
	// (anchor run-ID): the trends page links here with it, and a folder a
	// later run reused shows that later run's id.
	RecordedAs string `json:"recorded_as,omitempty"`
}

// Recorder collects the events of one scenario, from several goroutines.
type Recorder struct {
	mu     sync.Mutex
	start  time.Time
	events []Event
}

// NewRecorder starts a timeline now.
func NewRecorder() *Recorder { return &Recorder{start: time.Now()} }

// Start is the origin of the timeline.
func (r *Recorder) Start() time.Time { return r.start }

// Since is the offset of t on the timeline.
func (r *Recorder) Since(t time.Time) time.Duration { return t.Sub(r.start) }

// Mark records an instant event now.
func (r *Recorder) Mark(lane Lane, label string, status Status, detail string) {
	r.Add(Event{At: time.Since(r.start), Lane: lane, Label: label, Status: status, Detail: detail})
}

// Span records an event from start to end.
func (r *Recorder) Span(lane Lane, label string, status Status, detail string, start, end time.Time) {
	r.Add(Event{At: start.Sub(r.start), End: end.Sub(r.start), Lane: lane, Label: label, Status: status, Detail: detail})
}

// Add records an event.
func (r *Recorder) Add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Events returns the events in time order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Event(nil), r.events...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// WriteJSON writes the run as indented JSON.
func (r *Run) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
