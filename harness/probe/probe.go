// Package probe holds detections: single checks without side effects that
// say whether a fault is visible the way the troubleshooting guide says an
// operator would see it (the health-check run inside the party container,
// /metrics, the logs, the container engine). Specs poll them with
// Eventually, which is where time-to-detect is measured.
package probe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

// Probe is one detection. Check returns nil when the condition holds, or an
// error saying what it saw instead, so a failing poll explains itself.
type Probe interface {
	Name() string
	Check(ctx context.Context, c *cluster.Cluster) error
}

// Noted is a probe with something to add to the timeline when it holds:
// a measurement behind the detection (a latency, a message).
type Noted interface {
	Probe
	Note() string
}

type funcProbe struct {
	name string
	fn   func(ctx context.Context, c *cluster.Cluster) error
}

func (p funcProbe) Name() string                                        { return p.name }
func (p funcProbe) Check(ctx context.Context, c *cluster.Cluster) error { return p.fn(ctx, c) }

// New makes a probe from a function: the way to add a detection without
// touching the harness.
func New(name string, fn func(ctx context.Context, c *cluster.Cluster) error) Probe {
	return funcProbe{name, fn}
}

// All holds when every probe holds.
func All(ps ...Probe) Probe {
	name := "all of"
	for _, p := range ps {
		name += " [" + p.Name() + "]"
	}
	return New(name, func(ctx context.Context, c *cluster.Cluster) error {
		for _, p := range ps {
			if err := p.Check(ctx, c); err != nil {
				return fmt.Errorf("%s: %w", p.Name(), err)
			}
		}
		return nil
	})
}

// Armed is a detection of a change since the injection: Arm takes its
// reading just before the faults are injected (the scenario runner arms
// every detection that is one), and Check holds on what changed since.
// A value alone — a counter, a restart count — may come from an earlier
// run on the same cluster; only the change is this fault's.
type Armed interface {
	Probe
	Arm(ctx context.Context, c *cluster.Cluster) error
}

// Since makes an Armed probe: read is taken at Arm and at every Check, and
// held judges the two readings. Checked unarmed, or armed with a reading
// that failed, it never holds and says why.
func Since[T any](name string, read func(context.Context, *cluster.Cluster) (T, error), held func(before, now T) error) Armed {
	return &armedProbe[T]{name: name, read: read, held: held}
}

type armedProbe[T any] struct {
	name string
	read func(context.Context, *cluster.Cluster) (T, error)
	held func(before, now T) error

	mu    sync.Mutex
	armed bool
	base  T
	err   error // why the reading before the injection failed
}

func (s *armedProbe[T]) Name() string { return s.name }

func (s *armedProbe[T]) Arm(ctx context.Context, c *cluster.Cluster) error {
	base, err := s.read(ctx, c)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.base, s.err = true, base, err
	return err
}

func (s *armedProbe[T]) Check(ctx context.Context, c *cluster.Cluster) error {
	s.mu.Lock()
	armed, base, err := s.armed, s.base, s.err
	s.mu.Unlock()
	switch {
	case !armed:
		return errors.New("no reading from before the injection: only a change since then detects the fault")
	case err != nil:
		return fmt.Errorf("no baseline: %w", err)
	}
	now, err := s.read(ctx, c)
	if err != nil {
		return err
	}
	return s.held(base, now)
}

type injectedAtKey struct{}

// WithInjectedAt tells the probes checked with ctx when the scenario's
// fault was injected: detections that read history (logs) read only what
// came after it, never a line an earlier scenario left.
func WithInjectedAt(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, injectedAtKey{}, t)
}

// InjectedAt is the injection time WithInjectedAt set, or the zero time.
func InjectedAt(ctx context.Context) time.Time {
	t, _ := ctx.Value(injectedAtKey{}).(time.Time)
	return t
}
