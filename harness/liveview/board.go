// Package liveview is a game day's live view in the browser: a board of
// the cluster and the game day, read every few seconds and pushed to the
// pages by server-sent events. The players' board is what an operator
// sees and nothing more; the facilitator's adds the hidden faults.
//
// This file builds the boards from facts (what was read); server.go serves
// them. The players' board is a type of its own that has no field for the
// truth, so no slip of a template can show it.
package liveview

import (
	"context"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/gameday"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/partystate"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/kms/health"
)

// Facts are what one read of the cluster found: everything a board is
// made of.
type Facts struct {
	At        time.Time
	Run       string
	N, T      int
	State     *gameday.State // the truth, opened with the key; nil if the cluster keeps no game day
	Diagnoses []gameday.Diagnosis
	Notes     []gameday.Note
	Halt      *halt.Halt
	Parties   []partystate.Party
}

// ReadCluster reads the facts of game day id on cluster c: its sealed
// state (this process must read its key: the facilitator's), the
// players' records, the halt and every party as an operator sees it. A
// game day that followed it is not shown: the token is the first one's.
func ReadCluster(c *cluster.Cluster, id string) func(context.Context) (*Facts, error) {
	return func(ctx context.Context) (*Facts, error) {
		f := &Facts{Run: c.RunID, N: c.Topology.N, T: c.Topology.T}
		var err error
		if f.State, err = gameday.Load(ctx, c); err != nil {
			return nil, err
		}
		if f.State != nil && f.State.ID != id {
			return nil, fmt.Errorf("game day %s is over and game day %s runs now: start 'kmschaos gameday serve' again", id, f.State.ID)
		}
		if f.Diagnoses, err = gameday.Diagnoses(ctx, c); err != nil {
			return nil, err
		}
		if f.Notes, err = gameday.Notes(ctx, c); err != nil {
			return nil, err
		}
		if f.Halt, err = halt.Current(ctx, c); err != nil {
			return nil, err
		}
		f.Parties = partystate.ReadAll(ctx, c)
		f.At = time.Now()
		return f, nil
	}
}

// Players is the players' board: what an operator sees. It has no field
// for a hidden fault.
type Players struct {
	Run      string             `json:"run"`
	N        int                `json:"n"`
	T        int                `json:"t"`
	GameDay  string             `json:"gameday"`
	Stage    string             `json:"stage"` // running, ended, aborted, or none
	ElapsedS float64            `json:"elapsed_s"`
	Runner   bool               `json:"runner_alive"`
	Parties  []partystate.Party `json:"parties"`
	Quorum   Quorum             `json:"quorum"`
	Ops      Ops                `json:"ops"`
	Said     []Said             `json:"diagnoses"`
	Ran      []Ran              `json:"runbooks"`
	Asked    []Asked            `json:"escalations"`
	Halt     *halt.Halt         `json:"halt,omitempty"`
	// Error: the last read of the cluster failed; the board is the one
	// before it.
	Error string `json:"error,omitempty"`
}

// Quorum is how many parties answer their health check, graded as the
// health check grades a party's view (kms/health): Optimal with all n,
// Healthy from 2t+1, Degraded from t+2, Unhealthy below.
type Quorum struct {
	Up       int    `json:"up"`
	N        int    `json:"n"`
	Healthy  int    `json:"healthy"`  // the least for Healthy (2t+1)
	Degraded int    `json:"degraded"` // the least for Degraded (t+2)
	Grade    string `json:"grade"`
}

// Ops are the game day's workload's operations, in all, and how many a
// second lately (nil until two reads are apart).
type Ops struct {
	OK        int      `json:"ok"`
	Failed    int      `json:"failed"`
	Wrong     int      `json:"wrong"`
	PerSecond *float64 `json:"per_second,omitempty"`
}

// Said is a diagnosis as the player said it, not scored.
type Said struct {
	AtS   float64 `json:"at_s"` // since the start
	Party int     `json:"party"`
	Kind  string  `json:"kind"`
	Text  string  `json:"text,omitempty"`
}

// Ran is a runbook the players ran.
type Ran struct {
	AtS     float64 `json:"at_s"`
	Runbook string  `json:"runbook"`
	Party   int     `json:"party"`
	Passed  bool    `json:"passed"`
	TookS   float64 `json:"took_s"`
}

// Asked is an escalation to the coordinator, with the answer the
// players were told; not whether it healed anything.
type Asked struct {
	AtS    float64 `json:"at_s"`
	Party  int     `json:"party"`
	Ask    string  `json:"ask"`
	Answer string  `json:"answer,omitempty"`
}

// Facilitator is the facilitator's board: the players' and the truth.
type Facilitator struct {
	Players
	Seed   uint64       `json:"seed"`
	LimitS float64      `json:"limit_s"`
	Faults []FaultLane  `json:"faults"`
	Scored []ScoredSaid `json:"scored"` // the diagnoses, scored
	Wrong  int          `json:"wrong_diagnoses"`
	// Answered: whether each escalation had the coordinator heal a fault.
	Answered []bool  `json:"escalations_right"`
	SpanS    float64 `json:"span_s"` // the timeline's length
}

// FaultLane is one hidden fault and its lane on the timeline.
type FaultLane struct {
	N         int      `json:"n"`
	Kind      string   `json:"kind"`
	Target    string   `json:"target"`
	Name      string   `json:"name"`
	State     string   `json:"state"` // due, on, recovered, healed, failed
	DueS      float64  `json:"due_s"`
	InjectedS *float64 `json:"injected_s,omitempty"`
	EndS      *float64 `json:"end_s,omitempty"`
	LeftS     *float64 `json:"left_s,omitempty"` // to the limit, while on
	By        string   `json:"by,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// ScoredSaid is a diagnosis held against the truth.
type ScoredSaid struct {
	Said
	Right bool `json:"right"`
	Fault int  `json:"fault,omitempty"` // 1-based, when right
}

// Board builds boards from successive facts; it keeps the last read's
// operations to tell a rate.
type Board struct {
	last    report.Ops
	lastAt  time.Time
	lastRun string
	rate    *float64
}

// Build makes both boards of f.
func (b *Board) Build(f *Facts) (Players, Facilitator) {
	p := Players{Run: f.Run, N: f.N, T: f.T, Stage: "none", Parties: f.Parties, Halt: f.Halt, Said: []Said{}, Ran: []Ran{}, Asked: []Asked{}}
	p.Quorum = quorum(f.N, f.Parties)
	fc := Facilitator{Faults: []FaultLane{}, Scored: []ScoredSaid{}, Answered: []bool{}}
	s := f.State
	if s == nil {
		fc.Players = p
		return p, fc
	}
	p.GameDay, p.Stage, p.Runner = s.ID, s.Stage(), s.Running() && s.Alive(f.At)
	now := f.At
	if !s.Running() {
		now = s.Ended
	}
	p.ElapsedS = now.Sub(s.Started).Seconds()
	p.Ops = Ops{OK: s.Ops.OK, Failed: s.Ops.Failed, Wrong: s.Ops.Wrong, PerSecond: b.perSecond(s)}
	since := func(t time.Time) float64 { return t.Sub(s.Started).Seconds() }
	for _, d := range f.Diagnoses {
		said := Said{AtS: since(d.At), Party: d.Party, Kind: d.Kind, Text: d.Text}
		p.Said = append(p.Said, said)
		sc := gameday.Score(s, d)
		ss := ScoredSaid{Said: said, Right: sc.Right}
		if sc.Right {
			ss.Fault = sc.Fault + 1
		} else {
			fc.Wrong++
		}
		fc.Scored = append(fc.Scored, ss)
	}
	for _, n := range f.Notes {
		p.Ran = append(p.Ran, Ran{AtS: since(n.At), Runbook: n.Runbook, Party: n.Party, Passed: n.Passed, TookS: n.Took.Seconds()})
	}
	for _, e := range s.Escalations {
		p.Asked = append(p.Asked, Asked{AtS: since(e.At), Party: e.Party, Ask: e.Ask, Answer: e.Answer})
		fc.Answered = append(fc.Answered, e.Right())
	}
	fc.Players, fc.Seed, fc.LimitS = p, s.Seed, s.Limit.Seconds()
	fc.SpanS = p.ElapsedS
	// The report's reading of each fault: who recovered it is its rule,
	// the coordinator's recoveries included.
	for i, r := range gameday.Results(s, f.Diagnoses) {
		flt := r.Fault
		l := FaultLane{N: i + 1, Kind: flt.Kind, Target: r.Target, Name: flt.Name, State: "due", DueS: flt.At.Seconds(), By: flt.RecoveredBy, Error: flt.InjectError}
		fc.SpanS = max(fc.SpanS, l.DueS)
		if !flt.InjectedAt.IsZero() {
			in := since(flt.InjectedAt)
			l.InjectedS, l.State = &in, "on"
			switch {
			case flt.InjectError != "":
				l.State = "failed"
			case r.Recovered:
				l.State = "recovered"
			case flt.RecoveredBy == gameday.ByHarness:
				l.State = "healed"
			}
			if !flt.RecoveredAt.IsZero() {
				end := since(flt.RecoveredAt)
				l.EndS = &end
			} else {
				left := max(0, flt.InjectedAt.Add(s.Limit).Sub(now).Seconds())
				l.LeftS = &left
			}
		}
		fc.Faults = append(fc.Faults, l)
	}
	return p, fc
}

// perSecond is the workload's rate between the last read whose runner
// had counted since and this one.
func (b *Board) perSecond(s *gameday.State) *float64 {
	if b.lastRun == s.ID && s.Heartbeat.After(b.lastAt) && !b.lastAt.IsZero() {
		done := (s.Ops.OK + s.Ops.Failed + s.Ops.Wrong) - (b.last.OK + b.last.Failed + b.last.Wrong)
		r := max(0, float64(done)/s.Heartbeat.Sub(b.lastAt).Seconds())
		b.rate = &r
	}
	if b.lastRun != s.ID {
		b.rate = nil
	}
	if !s.Running() {
		b.rate = nil
	}
	b.last, b.lastAt, b.lastRun = s.Ops, s.Heartbeat, s.ID
	return b.rate
}

// quorum counts the parties whose health check answered with a grade.
func quorum(n int, parties []partystate.Party) Quorum {
	q := Quorum{N: n, Healthy: health.MinHealthy(n), Degraded: health.ThresholdRequired(n) + 1}
	for _, p := range parties {
		if p.Health != "" {
			q.Up++
		}
	}
	q.Grade = health.Name(health.Grade(n, q.Up))
	return q
}
