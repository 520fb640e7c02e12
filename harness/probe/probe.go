// Package probe holds detections: single checks without side effects that
// say whether a fault is visible the way the troubleshooting guide says an
// operator would see it (the health-check run inside the party container,
// /metrics, the logs, the container engine). Specs poll them with
// Eventually, which is where time-to-detect is measured.
package probe

import (
	"context"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

// Probe is one detection. Check returns nil when the condition holds, or an
// error saying what it saw instead, so a failing poll explains itself.
type Probe interface {
	Name() string
	Check(ctx context.Context, c *cluster.Cluster) error
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
