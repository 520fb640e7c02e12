// Package halt is the safety lever of a cluster under chaos: a halt is a
// record in the cluster's keeper saying every fault is to be healed now
// and no new one injected until it is lifted. Whoever pulls it — a person
// (`kmschaos halt`, the live view's button) or a guard that tripped (more
// than t parties out of reach too long, a wrong decryption, a deadline) —
// the record says why and when; every process that injects reads it
// first (Refuse), and the processes that hold faults heal theirs when
// they see it.
//
// This package holds the record alone, so that everything that injects or
// shows a cluster's state can read it without importing what heals.
package halt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

// record is the halt's name in the cluster's keeper.
const record = "halt"

// Who pulled the lever.
const (
	ByPerson = "person" // kmschaos halt, the live view's button
	ByGuard  = "guard"  // a guard rail tripped
)

// Halt is a pulled lever: why, when, by whom.
type Halt struct {
	Cause string    `json:"cause"`
	At    time.Time `json:"at"`
	By    string    `json:"by"`
}

func (h Halt) String() string {
	return fmt.Sprintf("halted at %s by %s: %s", h.At.UTC().Format(time.TimeOnly), h.By, h.Cause)
}

// Set records a halt. A cluster already halted keeps its first halt (the
// first cause is the one that matters); Set returns the halt in force.
func Set(ctx context.Context, c *cluster.Cluster, h Halt) (Halt, error) {
	if cur, err := Current(ctx, c); err != nil {
		return Halt{}, err
	} else if cur != nil {
		return *cur, nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return Halt{}, err
	}
	return h, c.PutRecord(ctx, record, b)
}

// Current is the halt in force on c, or nil.
func Current(ctx context.Context, c *cluster.Cluster) (*Halt, error) {
	b, ok, err := c.Record(ctx, record)
	if err != nil || !ok {
		return nil, err
	}
	var h Halt
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("the cluster's halt record is unreadable: %w", err)
	}
	return &h, nil
}

// Lift removes the halt: injections are allowed again.
func Lift(ctx context.Context, c *cluster.Cluster) error { return c.DeleteRecord(ctx, record) }

// Error refuses an injection on a halted cluster.
type Error struct{ Halt Halt }

func (e *Error) Error() string {
	return "the cluster is halted (" + e.Halt.String() + "): no fault is injected until `kmschaos unhalt`"
}

// Refuse returns an *Error if c is halted, and the error reading the
// record if it cannot be told: an injection that cannot tell does not go.
func Refuse(ctx context.Context, c *cluster.Cluster) error {
	h, err := Current(ctx, c)
	if err != nil {
		return fmt.Errorf("cannot tell whether the cluster is halted: %w", err)
	}
	if h != nil {
		return &Error{Halt: *h}
	}
	return nil
}
