// Package manual injects and heals faults by hand on a running cluster
// (kmschaos inject, heal, status). Every fault is recorded in the cluster
// itself, as a record in its keeper, and its toxics carry its id as their
// name: any later process attached to the cluster finds it, heals it, or
// heals it once it is overdue. Nothing is kept on the host's disk.
package manual

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/halt"
)

// recordPrefix names the cluster records of faults injected by hand.
const recordPrefix = "fault-"

// Record is one fault injected by hand and not healed yet.
type Record struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	Name       string            `json:"name"` // what the fault does, in words
	Party      int               `json:"party,omitempty"`
	Link       [2]int            `json:"link,omitzero"`
	Params     map[string]string `json:"params,omitempty"`
	Parties    []int             `json:"parties"` // counted against the budget
	Beyond     bool              `json:"beyond_threshold,omitempty"`
	InjectedAt time.Time         `json:"injected_at"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"` // zero: until healed
}

// Target is the record's target as the command line writes it.
func (r Record) Target() string {
	if r.Link != [2]int{} {
		return fmt.Sprintf("link %d-%d", r.Link[0], r.Link[1])
	}
	return fmt.Sprintf("party %d", r.Party)
}

// Tag is the name of the toxics the fault adds to the mesh: its id.
func (r Record) Tag() string { return r.ID }

// Overdue tells whether the fault should have been healed by now.
func (r Record) Overdue(now time.Time) bool { return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt) }

// InputError is a request the user must change: nothing was injected or
// healed. Its message is one line.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputf(format string, args ...any) error { return &InputError{fmt.Sprintf(format, args...)} }

// Request is one injection asked for by hand.
type Request struct {
	Kind   string
	Party  int               // --party
	Link   [2]int            // --link I-J
	Params map[string]string // --param k=v
	For    time.Duration     // 0: until healed
	// BeyondThreshold allows touching more than t parties in all: the
	// cluster is then expected to fail closed, not to keep working.
	BeyondThreshold bool
}

// Prepare checks a request against the kind table, the topology and the
// faults active now, without touching the cluster.
func Prepare(req Request, topo cluster.Topology, active []Record) (fault.KindSpec, fault.Args, error) {
	k, ok := fault.LookupKind(req.Kind)
	if !ok {
		return k, fault.Args{}, inputf("unknown fault kind %q: did you mean %q? ('kmschaos faults' lists them)", req.Kind, fault.Closest(req.Kind))
	}
	if req.For < 0 {
		return k, fault.Args{}, inputf("--for %s: a fault cannot last a negative time", req.For)
	}
	a, err := k.Check(topo, req.Party, req.Link, req.Params)
	if err != nil {
		return k, a, &InputError{err.Error()}
	}
	f := k.Build(a, "")
	touched := Touched(active, f.Parties())
	if len(touched) > topo.T && !req.BeyondThreshold {
		return k, a, inputf("over the fault budget: %s would bring the parties faulted to %v, more than t=%d (%s); pass --beyond-threshold to inject it anyway",
			f.Name(), touched, topo.T, activeSummary(active))
	}
	return k, a, nil
}

func activeSummary(active []Record) string {
	if len(active) == 0 {
		return "no fault active"
	}
	var s []string
	for _, r := range active {
		s = append(s, fmt.Sprintf("%s on %v", r.ID, r.Parties))
	}
	return "active: " + strings.Join(s, ", ")
}

// Touched is the union of the parties of the active faults and more.
func Touched(active []Record, more []int) []int {
	set := slices.Clone(more)
	for _, r := range active {
		set = append(set, r.Parties...)
	}
	slices.Sort(set)
	return slices.Compact(set)
}

// Budget is how many more parties faults may touch before going beyond t.
func Budget(topo cluster.Topology, active []Record) int {
	return topo.T - len(Touched(active, nil))
}

// Inject checks and injects one fault, recording it in the cluster first:
// a process killed half-way leaves a fault the next one finds and heals.
// A fault whose injection fails is undone and its record removed.
func Inject(ctx context.Context, c *cluster.Cluster, req Request, now time.Time) (Record, error) {
	// A halted cluster takes no fault (a *halt.Error), whoever asks.
	if err := halt.Refuse(ctx, c); err != nil {
		return Record{}, err
	}
	active, err := Active(ctx, c)
	if err != nil {
		return Record{}, err
	}
	k, a, err := Prepare(req, c.Topology, active)
	if err != nil {
		return Record{}, err
	}
	if err := k.OfferedOn(fault.PlatformOf(c)); err != nil {
		return Record{}, &InputError{err.Error() + " ('kmschaos faults' lists where each is offered)"}
	}
	r := Record{ID: newID(k.Name), Kind: k.Name, Party: a.Party, Link: a.Link, Params: a.Params, Beyond: req.BeyondThreshold, InjectedAt: now.UTC()}
	if req.For > 0 {
		r.ExpiresAt = r.InjectedAt.Add(req.For)
	}
	if len(r.Params) == 0 {
		r.Params = nil
	}
	f := k.Build(a, r.Tag())
	r.Name, r.Parties = f.Name(), f.Parties()
	if err := put(ctx, c, r); err != nil {
		return r, fmt.Errorf("recording the fault in the cluster: %w", err)
	}
	if _, err := f.Inject(ctx, c); err != nil {
		uerr := k.Undo(context.WithoutCancel(ctx), c, a, r.Tag())
		if uerr == nil {
			uerr = c.DeleteRecord(context.WithoutCancel(ctx), recordPrefix+r.ID)
		}
		return r, errors.Join(fmt.Errorf("injecting %s: %w", r.Name, err), uerr)
	}
	return r, nil
}

func newID(kind string) string {
	b := make([]byte, 3)
	rand.Read(b)
	return kind + "-" + hex.EncodeToString(b)
}

func put(ctx context.Context, c *cluster.Cluster, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return c.PutRecord(ctx, recordPrefix+r.ID, b)
}

// Active lists the faults injected by hand and not healed, oldest first.
func Active(ctx context.Context, c *cluster.Cluster) ([]Record, error) {
	recs, err := c.Records(ctx, recordPrefix)
	if err != nil {
		return nil, err
	}
	var out []Record
	for name, b := range recs {
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("reading the cluster's record %s: %w", name, err)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InjectedAt.Before(out[j].InjectedAt) })
	return out, nil
}

// Heal undoes one active fault, from the cluster alone, and removes its
// record. An unknown id is the user's error, naming the active ones.
func Heal(ctx context.Context, c *cluster.Cluster, id string) (Record, error) {
	active, err := Active(ctx, c)
	if err != nil {
		return Record{}, err
	}
	for _, r := range active {
		if r.ID == id {
			return r, heal(ctx, c, r)
		}
	}
	var ids []string
	for _, r := range active {
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return Record{}, inputf("no active fault %q: no fault injected by hand is active", id)
	}
	return Record{}, inputf("no active fault %q: active are %s", id, strings.Join(ids, ", "))
}

func heal(ctx context.Context, c *cluster.Cluster, r Record) error {
	k, ok := fault.LookupKind(r.Kind)
	if !ok {
		return fmt.Errorf("fault %s is of a kind this kmschaos does not know (%s): heal it with 'kmschaos heal --all'", r.ID, r.Kind)
	}
	if err := k.Undo(ctx, c, fault.Args{Party: r.Party, Link: r.Link, Params: r.Params}, r.Tag()); err != nil {
		return fmt.Errorf("healing %s (%s): %w", r.ID, r.Name, err)
	}
	return c.DeleteRecord(ctx, recordPrefix+r.ID)
}

// Expire heals every fault that is overdue, and returns them.
func Expire(ctx context.Context, c *cluster.Cluster, now time.Time) ([]Record, error) {
	active, err := Active(ctx, c)
	if err != nil {
		return nil, err
	}
	var healed []Record
	var errs []error
	for _, r := range active {
		if !r.Overdue(now) {
			continue
		}
		if err := heal(ctx, c, r); err != nil {
			errs = append(errs, err)
			continue
		}
		healed = append(healed, r)
	}
	return healed, errors.Join(errs...)
}

// HealAll is the kill switch: it returns the cluster to its baseline at
// once with Reset (every fault, by hand or not) and forgets every record.
func HealAll(ctx context.Context, c *cluster.Cluster) (cluster.ResetReport, []Record, error) {
	active, err := Active(ctx, c)
	if err != nil {
		return cluster.ResetReport{}, nil, err
	}
	rep, err := c.Reset(ctx)
	if err != nil {
		return rep, active, err
	}
	var errs []error
	for _, r := range active {
		errs = append(errs, c.DeleteRecord(ctx, recordPrefix+r.ID))
	}
	return rep, active, errors.Join(errs...)
}

// HealParty heals every active fault injected by hand that touches the
// party: a runbook's heal step run by hand ('kmschaos runbook run').
func HealParty(ctx context.Context, c *cluster.Cluster, party int) error {
	active, err := Active(ctx, c)
	if err != nil {
		return err
	}
	var ids []string
	for _, r := range active {
		if slices.Contains(r.Parties, party) {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("no fault injected by hand touches party %d", party)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, err := Heal(ctx, c, id); err != nil {
			return err
		}
	}
	return nil
}
