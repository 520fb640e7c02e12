// Package gameday runs a game day: hidden faults drawn from the fault
// kinds table within the fault budget, injected on a schedule while a
// workload runs, people diagnosing them with what an operator sees, and a
// report scoring their diagnoses and recoveries against the truth.
//
// The game day lives with the cluster, as records in its keeper: its state,
// each diagnosis, each runbook the players ran, a request to stop. The
// players work on the same engine and can read the keeper, so the state's
// record shows only a public header (id, start, runner, end); the truth —
// the faults, the schedule, the timeline — is sealed in it with a key that
// exists only in the facilitator's file beside the sealed truth (Files.Key,
// mode 0600). Players' commands need the header alone; what needs the
// truth (the runner, reveal, end, the report) needs that file. A diagnosis
// is recorded as said and scored only in the report.
//
// One long-lived process (Runner) injects, watches and heals; any other
// facilitator's process — a new shell after the first was killed — reads
// and adds records, and starts a new runner if the old one died.
package gameday

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	mrand "math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/report"
)

// Record names in the cluster's keeper.
const (
	stateRecord = "gameday"
	diagPrefix  = "gameday-diag-"
	notePrefix  = "gameday-note-"
	stopRecord  = "gameday-stop"
)

// Who recovered a fault.
const (
	ByPlayers = "players"
	// ByCoordinator (escalate.go): the players, through the coordinator.
	ByHarness = "harness" // at the limit, or at the end: not recovered
)

// State is a game day: its public header and the truth. The cluster keeps
// it sealed (seal.go); it holds no secret of the cluster.
type State struct {
	Header
	// Cluster is the cluster the game day ran on (Begin), for the report.
	Cluster Cluster       `json:"cluster"`
	Seed    uint64        `json:"seed"`
	Every   time.Duration `json:"every_ns"`
	Limit   time.Duration `json:"limit_ns"`
	Faults  []Fault       `json:"faults"`
	// Events are the faults, probes and invariant lanes of the timeline,
	// offsets from Started (the workload's are the runner's alone).
	Events []report.Event `json:"events"`
	Ops    report.Ops     `json:"ops"`
	// Wrongs are the wrong values the runners saw, their workload's and
	// their checks' (the players' are in their notes: see Wrongs).
	Wrongs []oracle.Wrong `json:"wrongs,omitempty"`
	Keys   string         `json:"keys,omitempty"` // report.KeysIntact / KeysChanged at the last check
	Left   string         `json:"left,omitempty"` // what the final audit found different from the baseline
	// WorkloadLost: the runner that ran the workload died; its
	// operations are counted only up to its last heartbeat.
	WorkloadLost bool `json:"workload_lost,omitempty"`
	// Escalations are the players' escalations as the coordinator
	// answered them (escalate.go).
	Escalations []Escalation `json:"escalations,omitempty"`
	// Grace is how long more than t parties may be out of reach before
	// the guard halts the game day (halt.go); zero: that rail is off.
	Grace time.Duration `json:"grace_ns,omitempty"`
	// Halt is the halt that ended the game day, if one did.
	Halt *halt.Halt `json:"halt,omitempty"`
	// Results is the results store the game day is recorded in when it
	// ends (as start resolved it: --db, KMSCHAOS_DB or the default file),
	// with Labels; Recorded is the run's id there, or RecordError why it
	// is not. Sealed with the rest: the store's address may carry a
	// password.
	Results     string            `json:"results,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Recorded    string            `json:"recorded,omitempty"`
	RecordError string            `json:"record_error,omitempty"`

	key []byte // seals the state in its record; never marshalled
}

// Cluster is a game day's cluster as the report tells it.
type Cluster struct {
	N       int    `json:"n"`
	T       int    `json:"t"`
	Backend string `json:"backend"` // docker, kubernetes
}

// Fault is one hidden fault: what it is, when it was to come and what
// became of it.
type Fault struct {
	Kind    string            `json:"kind"`
	Party   int               `json:"party,omitempty"`
	Link    [2]int            `json:"link,omitzero"`
	Params  map[string]string `json:"params,omitempty"`
	Name    string            `json:"name"`
	Parties []int             `json:"parties"`
	Tag     string            `json:"tag"` // names its toxics: opaque, so the mesh does not tell the kind
	At      time.Duration     `json:"at_ns"`

	InjectedAt  time.Time  `json:"injected_at,omitzero"`
	InjectError string     `json:"inject_error,omitempty"`
	EscalatedAt time.Time  `json:"escalated_at,omitzero"` // undone by the coordinator on an escalation
	RecoveredAt time.Time  `json:"recovered_at,omitzero"`
	RecoveredBy string     `json:"recovered_by,omitempty"`
	HealError   string     `json:"heal_error,omitempty"`
	Ops         report.Ops `json:"ops"`
}

// Target is the fault's target as the command line writes it.
func (f Fault) Target() string {
	if f.Link != [2]int{} {
		return fmt.Sprintf("link %d-%d", f.Link[0], f.Link[1])
	}
	return fmt.Sprintf("party %d", f.Party)
}

// Active tells whether the fault is on the cluster at t.
func (f Fault) Active(t time.Time) bool {
	return !f.InjectedAt.IsZero() && !t.Before(f.InjectedAt) && (f.RecoveredAt.IsZero() || t.Before(f.RecoveredAt))
}

// Touches tells whether a diagnosis naming party p names this fault: a
// party fault's party, either end of a link.
func (f Fault) Touches(p int) bool {
	if f.Link != [2]int{} {
		return f.Link[0] == p || f.Link[1] == p
	}
	return f.Party == p
}

func (f Fault) args() fault.Args { return fault.Args{Party: f.Party, Link: f.Link, Params: f.Params} }

// Running tells whether the state is of a game day not ended.
func (s *State) Running() bool { return s != nil && s.Header.Running() }

// Diagnosis is what a player said, when. It is kept as said: the
// verdict needs the truth, which the report has and the players not.
type Diagnosis struct {
	At    time.Time `json:"at"`
	Party int       `json:"party"`
	Kind  string    `json:"kind"`
	Text  string    `json:"text,omitempty"`
}

// Scored is a diagnosis held against the truth.
type Scored struct {
	Diagnosis
	Right bool `json:"right"`
	Fault int  `json:"fault"` // index of the fault it names right; -1
}

// Note is a runbook the players ran during the game day.
type Note struct {
	At      time.Time     `json:"at"`
	Took    time.Duration `json:"took_ns"`
	Runbook string        `json:"runbook"`
	Party   int           `json:"party"`
	Passed  bool          `json:"passed"`
	Detail  string        `json:"detail,omitempty"`
	// Wrongs are the wrong values the runbook's process saw (AddNote
	// fills them in): they fail the game day as the runner's do.
	Wrongs []oracle.Wrong `json:"wrongs,omitempty"`
}

// InputError is a request the facilitator or a player must change:
// nothing was done.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputf(format string, a ...any) error { return &InputError{fmt.Sprintf(format, a...)} }

// Options of a new game day.
type Options struct {
	Seed   uint64
	Faults int           // how many hidden faults
	Every  time.Duration // between two injections; the first comes after one
	Limit  time.Duration // after which the harness heals a fault the players did not
	Kinds  []string      // the kinds to draw from (default: every kind On offers)
	// On is where the cluster runs (Begin sets it from the cluster): the
	// draw takes only kinds it offers. Zero is Docker, the default.
	On    fault.Platform
	Grace time.Duration // more than t parties out of reach this long halts it (0: never)
	Dir   string
	// Backend are the flags that reach the cluster's backend, which the
	// game day's background process is started with (Header.Backend).
	Backend []string
	// Results and Labels: where the game day is recorded when it ends
	// (results.Where), and its labels; no store, no record.
	Results string
	Labels  map[string]string
}

// Check refuses options no cluster could make a game day of (an
// *InputError): what the command line checks before it attaches.
func (o Options) Check() error {
	if o.Faults < 1 {
		return inputf("--faults %d: a game day has at least one fault", o.Faults)
	}
	if o.Every <= 0 || o.Limit <= 0 {
		return inputf("--every and --limit must be positive")
	}
	if o.Grace < 0 {
		return inputf("--grace must not be negative")
	}
	for _, name := range o.Kinds {
		k, ok := fault.LookupKind(name)
		if !ok {
			return inputf("--kinds: unknown fault kind %q: did you mean %q? ('kmschaos faults' lists them)", name, fault.Closest(name))
		}
		// Before attaching only the backend is known; Plan checks the rest.
		if err := k.OfferedOn(fault.Platform{Backend: o.platform().Backend, VolumesSized: true}); err != nil {
			return inputf("--kinds: %v ('kmschaos faults' lists where each is offered)", err)
		}
	}
	return nil
}

func (o Options) platform() fault.Platform {
	if o.On == (fault.Platform{}) {
		return fault.Platform{Backend: fault.Docker, VolumesSized: true}
	}
	return o.On
}

// Plan draws the hidden faults from the seed: kinds from the table (or
// opts.Kinds), targets within the fault budget — every fault touches only
// parties of t drawn at random, so all of them together never take more
// than t parties away.
func Plan(topo cluster.Topology, o Options) ([]Fault, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	on := o.platform()
	var kinds []fault.KindSpec
	if len(o.Kinds) == 0 {
		for _, k := range fault.Kinds() {
			if k.OfferedOn(on) == nil {
				kinds = append(kinds, k)
			}
		}
	}
	for _, name := range o.Kinds {
		k, _ := fault.LookupKind(name)
		if err := k.OfferedOn(on); err != nil {
			return nil, inputf("--kinds: %v ('kmschaos faults' lists where each is offered)", err)
		}
		kinds = append(kinds, k)
	}
	if len(kinds) == 0 {
		return nil, inputf("no fault kind is offered on the %s backend", on.Backend)
	}
	if topo.T < 1 {
		return nil, inputf("the cluster's threshold is %d: no fault fits in its budget", topo.T)
	}
	h := fnv.New64a()
	h.Write([]byte("gameday"))
	rng := mrand.New(mrand.NewPCG(o.Seed, h.Sum64()))
	budget := rng.Perm(topo.N)[:topo.T]
	for i := range budget {
		budget[i]++
	}
	slices.Sort(budget)
	id := newID()
	var out []Fault
	for k := 0; k < o.Faults; k++ {
		spec := kinds[rng.IntN(len(kinds))]
		party, link := budget[rng.IntN(len(budget))], [2]int{}
		if spec.Target == fault.AtLink {
			other := 1 + rng.IntN(topo.N-1)
			if other >= party {
				other++
			}
			link, party = [2]int{party, other}, 0
		}
		a, err := spec.Check(topo, party, link, nil)
		if err != nil {
			return nil, fmt.Errorf("drawing %s: %w", spec.Name, err)
		}
		tag := fmt.Sprintf("gd-%s-%d", id, k+1)
		f := spec.Build(a, tag)
		if t := fault.Touched(f); !subset(t, budget) {
			// A kind whose fault reaches beyond its target (none today):
			// drawn again rather than over the budget.
			k--
			continue
		}
		params := a.Params
		if len(params) == 0 {
			params = nil
		}
		out = append(out, Fault{Kind: spec.Name, Party: a.Party, Link: a.Link, Params: params, Name: f.Name(),
			Parties: f.Parties(), Tag: tag, At: time.Duration(k+1) * o.Every})
	}
	return out, nil
}

func subset(xs, of []int) bool {
	for _, x := range xs {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}

func newID() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// LoadHeader reads the public header of the game day the cluster keeps,
// nil if it has none: all the players' commands need.
func LoadHeader(ctx context.Context, c *cluster.Cluster) (*Header, error) {
	b, ok, err := c.Record(ctx, stateRecord)
	if err != nil || !ok {
		return nil, err
	}
	h, _, err := parseRecord(b)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// Load reads the whole game day the cluster keeps, nil if it has none. It
// opens the sealed state with the key in the facilitator's file: a
// *KeyError if this user cannot read it.
func Load(ctx context.Context, c *cluster.Cluster) (*State, error) {
	b, ok, err := c.Record(ctx, stateRecord)
	if err != nil || !ok {
		return nil, err
	}
	return openRecord(b, readKey)
}

// Save writes the state to the cluster, sealed with the key it was
// loaded or begun with.
func Save(ctx context.Context, c *cluster.Cluster, s *State) error {
	if s.key == nil {
		return fmt.Errorf("game day %s: no key to seal its state with", s.ID)
	}
	b, err := sealState(s.key, s)
	if err != nil {
		return err
	}
	return c.PutRecord(ctx, stateRecord, b)
}

// Begin records a new game day in the cluster, refusing if one is running.
func Begin(ctx context.Context, c *cluster.Cluster, o Options, now time.Time) (*State, error) {
	old, err := LoadHeader(ctx, c)
	if err != nil {
		return nil, err
	}
	if old.Running() {
		return nil, inputf("a game day is already running on cluster %s (%s, started %s): 'kmschaos gameday end' or 'abort' it first",
			c.RunID, old.ID, old.Started.Local().Format(time.TimeOnly))
	}
	if o.Dir == "" {
		return nil, inputf("a game day needs a directory for its key, sealed file and report")
	}
	o.On = fault.PlatformOf(c)
	faults, err := Plan(c.Topology, o)
	if err != nil {
		return nil, err
	}
	s := &State{Header: Header{ID: strings.Split(faults[0].Tag, "-")[1], Run: c.RunID, Started: now.UTC(), Dir: o.Dir, Backend: o.Backend, Heartbeat: now.UTC()},
		Cluster: Cluster{N: c.Topology.N, T: c.Topology.T, Backend: c.Backend()},
		Seed:    o.Seed, Every: o.Every, Limit: o.Limit, Grace: o.Grace, Faults: faults,
		Results: o.Results, Labels: o.Labels}
	if s.key, err = newKey(s.Files()); err != nil {
		return nil, fmt.Errorf("writing the game day's key: %w", err)
	}
	// Old diagnoses, notes and a stop request belong to the game day before.
	if err := clearRecords(ctx, c); err != nil {
		return nil, err
	}
	return s, Save(ctx, c, s)
}

func clearRecords(ctx context.Context, c *cluster.Cluster) error {
	for _, prefix := range []string{diagPrefix, notePrefix, escPrefix} {
		recs, err := c.Records(ctx, prefix)
		if err != nil {
			return err
		}
		for name := range recs {
			if err := c.DeleteRecord(ctx, name); err != nil {
				return err
			}
		}
	}
	return c.DeleteRecord(ctx, stopRecord)
}

// Diagnose records a player's diagnosis as said, with its time. It needs
// only the header: the report scores it against the truth.
func Diagnose(ctx context.Context, c *cluster.Cluster, party int, kind, text string, now time.Time) (Diagnosis, error) {
	if _, ok := fault.LookupKind(kind); !ok {
		return Diagnosis{}, inputf("unknown fault kind %q: did you mean %q? ('kmschaos faults' lists them)", kind, fault.Closest(kind))
	}
	if party < 1 || party > c.Topology.N {
		return Diagnosis{}, inputf("--party %d is out of range: the cluster has parties 1 to %d", party, c.Topology.N)
	}
	h, err := LoadHeader(ctx, c)
	if err != nil {
		return Diagnosis{}, err
	}
	if !h.Running() {
		return Diagnosis{}, inputf("no game day is running on cluster %s", c.RunID)
	}
	d := Diagnosis{At: now.UTC(), Party: party, Kind: kind, Text: text}
	b, err := json.Marshal(d)
	if err != nil {
		return d, err
	}
	return d, c.PutRecord(ctx, fmt.Sprintf("%s%d", diagPrefix, now.UnixNano()), b)
}

// Score holds a diagnosis against the faults on the cluster at its time:
// right if one of them is of that kind and touches that party (a fault
// still active is preferred to one recovered already).
func Score(s *State, d Diagnosis) Scored {
	sc := Scored{Diagnosis: d, Fault: -1}
	for pass := 0; pass < 2 && sc.Fault < 0; pass++ {
		for i, f := range s.Faults {
			if f.InjectedAt.IsZero() || d.At.Before(f.InjectedAt) || f.Kind != d.Kind || !f.Touches(d.Party) {
				continue
			}
			if pass == 0 && !f.Active(d.At) {
				continue
			}
			sc.Right, sc.Fault = true, i
			break
		}
	}
	return sc
}

// ScoreAll scores each diagnosis, in order.
func ScoreAll(s *State, diags []Diagnosis) []Scored {
	out := make([]Scored, len(diags))
	for i, d := range diags {
		out[i] = Score(s, d)
	}
	return out
}

// AddNote records a runbook the players ran, if a game day is running,
// with every wrong value this process saw — the players' process, whose
// witness the runner and 'end' cannot read; it says whether one was.
func AddNote(ctx context.Context, c *cluster.Cluster, n Note) (bool, error) {
	h, err := LoadHeader(ctx, c)
	if err != nil || !h.Running() {
		return false, err
	}
	n.Wrongs = oracle.WitnessOf(c).Since(time.Time{})
	b, err := json.Marshal(n)
	if err != nil {
		return true, err
	}
	return true, c.PutRecord(ctx, fmt.Sprintf("%s%d", notePrefix, n.At.UnixNano()), b)
}

// Diagnoses lists the diagnoses recorded, oldest first.
func Diagnoses(ctx context.Context, c *cluster.Cluster) ([]Diagnosis, error) {
	return readRecords(ctx, c, diagPrefix, func(d Diagnosis) time.Time { return d.At })
}

// Notes lists the runbooks the players ran, oldest first.
func Notes(ctx context.Context, c *cluster.Cluster) ([]Note, error) {
	return readRecords(ctx, c, notePrefix, func(n Note) time.Time { return n.At })
}

// readRecords decodes every record named prefix*, oldest first by at.
func readRecords[T any](ctx context.Context, c *cluster.Cluster, prefix string, at func(T) time.Time) ([]T, error) {
	recs, err := c.Records(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []T
	for name, b := range recs {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return out, fmt.Errorf("reading the cluster's record %s: %w", name, err)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return at(out[i]).Before(at(out[j])) })
	return out, nil
}

// Stop asks the runner to end the game day (abort: heal everything at
// once and score nothing more).
type Stop struct {
	At    time.Time `json:"at"`
	Abort bool      `json:"abort"`
}

// RequestStop records a stop request for the runner.
func RequestStop(ctx context.Context, c *cluster.Cluster, abort bool, now time.Time) error {
	b, _ := json.Marshal(Stop{At: now.UTC(), Abort: abort})
	return c.PutRecord(ctx, stopRecord, b)
}

func stopRequested(ctx context.Context, c *cluster.Cluster) (*Stop, error) {
	b, ok, err := c.Record(ctx, stopRecord)
	if err != nil || !ok {
		return nil, err
	}
	var s Stop
	return &s, json.Unmarshal(b, &s)
}

// staleAfter: a runner silent that long is dead (it beats every tick).
var staleAfter = fixtures.Intervals.GameDay.StaleAfter
