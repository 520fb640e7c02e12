// Package check holds the invariants checked after every scenario, over the
// workload's history and the cluster: no decryption ever returned a wrong
// value, operations succeeded where enough parties could talk, the key
// material is byte-identical to the baseline, no fault is left behind, and
// the cluster is back in its steady state.
package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/runbook"
	"github.com/kmschaos/kmschaos/harness/workload"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// NoWrongDecryption fails, listing them, if any operation returned a value
// other than the one encrypted.
func NoWrongDecryption(h *workload.History) error {
	var wrong []string
	for _, op := range h.Ops {
		if op.Outcome == workload.Wrong {
			wrong = append(wrong, fmt.Sprintf("op %d via party %d at %s: %s", op.Seq, op.Party, op.Start.Format("15:04:05.000"), op.Err))
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("%d WRONG decryption(s): %s", len(wrong), strings.Join(wrong, "; "))
	}
	return nil
}

// Window is a span of time.
type Window struct{ From, To time.Time }

// Contains tells whether op ran entirely inside the window.
func (w Window) Contains(op workload.Op) bool { return !op.Start.Before(w.From) && !op.End.After(w.To) }

// Expect says how coordinators should fare while a fault is active.
type Expect struct {
	Live []int // must succeed: at least MinLive of their operations
	Down []int // must fail cleanly: none of their operations succeeds
	// MinLive is the share of Live operations that must succeed (0.9):
	// a fault's first instants may still cost an operation.
	MinLive float64
}

// Tally counts the outcomes of the operations of some coordinators inside
// a window.
func Tally(h *workload.History, w Window, parties []int) (ok, failed, wrong int) {
	in := map[int]bool{}
	for _, p := range parties {
		in[p] = true
	}
	for _, op := range h.Ops {
		if !w.Contains(op) || (len(parties) > 0 && !in[op.Party]) {
			continue
		}
		switch op.Outcome {
		case workload.OK:
			ok++
		case workload.Failed:
			failed++
		default:
			wrong++
		}
	}
	return
}

// Observed tells whether the window holds what During judges: an
// operation through every Live and every Down coordinator that started
// and ended inside it. Under a fault that slows every operation, or
// makes the Down coordinators' fail only at a timeout, a short window
// can close before any has ended; the observation goes on until each
// has one.
func Observed(h *workload.History, w Window, e Expect) bool {
	if h == nil {
		return true
	}
	return len(unjudged(h, w, e.Live))+len(unjudged(h, w, e.Down)) == 0
}

// unjudged are the parties of ps with no operation run whole in w.
func unjudged(h *workload.History, w Window, ps []int) []int {
	seen := map[int]bool{}
	for _, op := range h.Ops {
		if w.Contains(op) && op.Outcome != workload.Wrong {
			seen[op.Party] = true
		}
	}
	var out []int
	for _, p := range ps {
		if !seen[p] {
			out = append(out, p)
		}
	}
	return out
}

// During checks the expectations on the operations inside the window:
// every Live and every Down coordinator ran at least one (a coordinator
// that never took a request is evidence neither that it serves nor that
// it fails closed), at least MinLive of the Live ones' succeeded, and
// none of the Down ones'.
func During(h *workload.History, w Window, e Expect) error {
	var errs []error
	if len(e.Live) > 0 {
		min := e.MinLive
		if min == 0 {
			min = 0.9
		}
		if none := unjudged(h, w, e.Live); len(none) > 0 {
			errs = append(errs, fmt.Errorf("no operation through parties %v ran during the fault (of the live parties %v)", none, e.Live))
		}
		if ok, failed, _ := Tally(h, w, e.Live); ok+failed > 0 {
			if r := float64(ok) / float64(ok+failed); r < min {
				errs = append(errs, fmt.Errorf("only %d of %d operations through parties %v succeeded during the fault (%.0f%%, want at least %.0f%%)", ok, ok+failed, e.Live, 100*r, 100*min))
			}
		}
	}
	if len(e.Down) > 0 {
		ok, _, _ := Tally(h, w, e.Down)
		if none := unjudged(h, w, e.Down); len(none) > 0 {
			errs = append(errs, fmt.Errorf("no operation through parties %v ran during the fault (of the parties that must fail closed %v)", none, e.Down))
		}
		if ok > 0 {
			errs = append(errs, fmt.Errorf("%d operations through parties %v succeeded during the fault, where fewer than t+1 parties could take part", ok, e.Down))
		}
	}
	return errors.Join(errs...)
}

// KeyMaterialIntact fails, naming the objects, if any key object of any
// party differs from the baseline recorded at bring-up.
func KeyMaterialIntact(ctx context.Context, c *cluster.Cluster) error {
	return KeyMaterialIntactOf(ctx, c, c.Topology.Parties())
}

// KeyMaterialIntactOf is KeyMaterialIntact judged on the parties given;
// none given is every party.
func KeyMaterialIntactOf(ctx context.Context, c *cluster.Cluster, parties []int) error {
	if len(parties) == 0 {
		parties = c.Topology.Parties()
	}
	now, err := c.KeyMaterial(ctx)
	if err != nil {
		return err
	}
	base := c.BaselineKeyMaterial()
	var diffs []string
	for _, i := range parties {
		for _, obj := range base.Diff(now, i) {
			diffs = append(diffs, "missing or changed: "+obj)
		}
		for _, obj := range now.Diff(base, i) {
			diffs = append(diffs, "unexpected: "+obj)
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return fmt.Errorf("key material differs from the baseline: %s", strings.Join(dedupe(diffs), "; "))
	}
	return nil
}

func dedupe(xs []string) []string {
	var out []string
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// Declared is what a scenario's runbooks changed on purpose, which the
// audit therefore accepts.
type Declared struct {
	// Renews are the key objects a runbook replaced (runbook.RenewsEpoch:
	// a new PRSS epoch on every party, the faulted parties' old one may be
	// gone; runbook.RenewsCertificate: the faulted parties' certificate).
	Renews  []string
	Touched []int // the parties the fault touched
}

// NoFaultLeft fails if anything differs from the baseline — the mesh, a
// party's state, resources or arguments, any stored object, PRSS epochs
// and certificates included — besides what the scenario declared: the
// proof that no fault outlived its scenario.
func NoFaultLeft(ctx context.Context, c *cluster.Cluster, d Declared) error {
	rep, err := c.Audit(ctx)
	if err != nil {
		return err
	}
	touched := func(i int) bool { return slices.Contains(d.Touched, i) }
	if slices.Contains(d.Renews, runbook.RenewsEpoch) {
		rep = rep.Accept(func(_ int, p string) bool { return cluster.IsEpochObject(p) })
		rep = rep.AcceptChanged(func(i int, p string) bool { return cluster.IsEpochObject(p) && touched(i) })
	}
	if slices.Contains(d.Renews, runbook.RenewsCertificate) {
		rep = rep.AcceptChanged(func(i int, p string) bool { return cluster.IsCertificateObject(p) && touched(i) })
	}
	if !rep.Clean() {
		return fmt.Errorf("left behind: %s", rep)
	}
	return nil
}

// Steady fails unless every party reports Optimal and a fresh value
// decrypts right through every party.
func Steady(ctx context.Context, c *cluster.Cluster) error {
	return c.EachParty(func(i int) error { return steadyParty(ctx, c, i) })
}

// SteadyAmong is Steady judged on the parties of scope alone: each is
// Optimal, or misses only parties outside scope
// (cluster.CheckOptimalAmong), and a fresh value decrypts right through
// it. An empty scope is every party: Steady.
func SteadyAmong(scope []int) func(context.Context, *cluster.Cluster) error {
	if len(scope) == 0 {
		return Steady
	}
	return func(ctx context.Context, c *cluster.Cluster) error {
		if err := c.CheckOptimalAmong(ctx, scope); err != nil {
			return err
		}
		return cluster.Parallel(scope, func(i int) error { return decrypts(ctx, c, i) })
	}
}

func steadyParty(ctx context.Context, c *cluster.Cluster, i int) error {
	pc, err := c.Health(ctx, i)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if pc.GetStatus() != kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL {
		return fmt.Errorf("reaches %d of %d nodes", pc.GetNodesReachable(), c.Topology.N)
	}
	return decrypts(ctx, c, i)
}

// decrypts fails unless a fresh value decrypts right through party i.
func decrypts(ctx context.Context, c *cluster.Cluster, i int) error {
	if _, err := oracle.Decrypt(ctx, c, oracle.Request{Party: i, By: "the steady-state check"}); err != nil {
		if oracle.IsWrong(err) {
			return err
		}
		return fmt.Errorf("decrypt: %w", err)
	}
	return nil
}
