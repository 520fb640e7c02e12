package scenario

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/runbook"
	"github.com/kmschaos/kmschaos/harness/workload"
)

// Run runs a scenario on c. The returned error names every reason it
// failed; the scorecard row is filled either way.
func Run(ctx context.Context, c *cluster.Cluster, sc Scenario, rng *rand.Rand, o Options) (res report.Scenario, runErr error) {
	rec := report.NewRecorder()
	res = report.Scenario{Name: sc.Name, Section: sc.Section, Started: rec.Start()}
	var fail failure
	defer func() {
		// Every wrong value anything saw — probe, runbook check, steady
		// state — turns the scenario red; the workload's own are judged
		// with its history (checkHistory).
		for _, w := range c.Witness.Since(res.Started) {
			res.Wrongs = append(res.Wrongs, w.String())
			rec.Mark(report.LaneWorkload, fmt.Sprintf("WRONG value via party %d", w.Party), report.Wrong, w.String())
			if w.By != workload.By {
				res.Ops.Wrong++
				fail.add("WRONG decryption: %s", w)
			}
		}
		res.Duration = time.Since(res.Started)
		res.Events = rec.Events()
		runErr = fail.err()
		res.Passed = runErr == nil
		if runErr != nil {
			res.Error = runErr.Error()
		}
	}()

	if rep, err := c.Reset(ctx); err != nil {
		fail.add("could not return the cluster to its baseline: %w", err)
		return
	} else if len(rep.Repaired) > 0 {
		rec.Mark(report.LaneFaults, "baseline restored", report.Info, rep.String())
	}
	plan := sc.Build(&Env{C: c, Rng: rng, N: c.Topology.N, T: c.Topology.T})
	plan.defaults()
	res.Fault, res.Kind = describe(plan.Faults)
	res.Parties, res.BeyondThreshold = fault.Touched(plan.Faults...), plan.BeyondThreshold
	res.Defects = append(res.Defects, plan.Defects...)
	if err := fault.CheckBudget(c.Topology.T, plan.BeyondThreshold, plan.Faults...); err != nil {
		fail.add("%w", err)
		return
	}
	for _, f := range plan.Faults {
		if a, ok := f.(fault.Applicable); ok {
			if err := a.Applicable(c.Topology); err != nil {
				fail.add("%s does not apply to %s: %w", f.Name(), c.Topology, err)
				return
			}
		}
	}
	// Every runbook is loaded, validated and given its variables before
	// anything is injected: a bad runbook costs no fault.
	rbs, err := loadRunbooks(o.RunbookDir, plan.Runbooks)
	if err != nil {
		fail.add("%w", err)
		return
	}
	for _, rb := range rbs {
		if err := rb.CheckVars(plan.Vars); err != nil {
			fail.add("runbook %q: %w", rb.Name, err)
			return
		}
	}
	res.Runbook = strings.Join(plan.Runbooks, ", ")

	mon := startMonitor(c, rec)
	defer mon.stop()
	var w *workload.Workload
	if !plan.NoWorkload {
		if w, err = workload.Start(c, rng, workload.Options{Recorder: rec}); err != nil {
			fail.add("starting the workload: %w", err)
			return
		}
	}
	var hist *workload.History
	stopWorkload := func() {
		if w != nil && hist == nil {
			hist = w.Stop()
		}
	}
	defer stopWorkload()

	// Inject, registering every heal before anything else can fail.
	var skipCleanup atomic.Bool
	var heals []fault.Heal
	faultStart := time.Now()
	for _, f := range plan.Faults {
		h, err := f.Inject(ctx, c)
		if h != nil {
			heals = append(heals, h)
			if o.Cleanup != nil {
				o.Cleanup(func(ctx context.Context) error {
					if skipCleanup.Load() {
						return nil
					}
					return h(ctx)
				})
			}
		}
		if err != nil {
			fail.add("injecting %s: %w", f.Name(), err)
			return
		}
	}
	if len(plan.Faults) > 0 {
		rec.Mark(report.LaneFaults, "inject: "+res.Fault, report.Warn, fmt.Sprintf("parties %v", res.Parties))
	}
	var healedAt time.Time
	healAll := fault.Once(func(ctx context.Context) error {
		var errs []error
		for _, h := range heals {
			if err := h(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		healedAt = time.Now()
		rec.Mark(report.LaneFaults, "heal: "+res.Fault, report.Info, "")
		return errors.Join(errs...)
	})
	faultWindow := func(end time.Time) {
		if len(plan.Faults) == 0 {
			return
		}
		rec.Span(report.LaneFaults, res.Fault, report.Warn, fmt.Sprintf("parties %v", res.Parties), faultStart, end)
	}

	// Detect, reading only what was written since the injection.
	ctx = probe.WithInjectedAt(ctx, faultStart)
	dets, detectedAt, ok := detect(ctx, c, plan.Detect, plan.DetectWithin, rec, faultStart)
	res.Detections, res.Detected = dets, ok
	res.TTD = detectedAt.Sub(faultStart)
	if !ok {
		for _, d := range dets {
			if !d.Held {
				fail.add("detection did not happen within %s: %q: last saw: %s", plan.DetectWithin, d.Probe, d.Last)
			}
		}
		if err := healAll(context.WithoutCancel(ctx)); err != nil {
			fail.add("healing %s: %w", res.Fault, err)
		}
		faultWindow(time.Now())
		stopWorkload()
		checkHistory(&fail, hist, &res, check.Window{}, plan.During)
		auditKeys(ctx, c, &fail, &res) // a report must not say CHANGED where nothing was checked
		return
	}

	// Observe the fault with the workload running, then run the runbooks.
	select {
	case <-ctx.Done():
		fail.add("interrupted: %w", ctx.Err())
		return
	case <-time.After(plan.Observe):
	}
	during := check.Window{From: detectedAt, To: time.Now()}
	rbStart := time.Now()
	lastStep := ""
	var undone bool     // a step undid the harness's own fault
	var renews []string // what the runbooks that ran whole renewed on purpose
	var origins []string
	for _, rb := range rbs {
		steps, err := rb.Run(ctx, &runbook.Env{C: c, Party: plan.Target, Heal: healAll, Vars: plan.Vars, Rec: rec})
		if len(steps) > 0 {
			lastStep = rb.Name + "/" + steps[len(steps)-1].Name
		}
		j := judgeDefect(plan.ExpectDefect, rb.Name, err, func(step string) string {
			for _, st := range steps {
				if st.Name == step {
					return st.Output
				}
			}
			return ""
		})
		if j.Loss != nil {
			res.Keys = report.KeysLost // the step that lost them carries the defect
		}
		for k := range steps {
			if steps[k].Name == j.Step {
				steps[k].Defect, steps[k].Expected = true, j.Expected
				if j.Loss != nil {
					steps[k].Error = j.Loss.Error()
				}
			}
			undone = undone || (steps[k].OK && steps[k].UndoesFault)
		}
		res.Steps = append(res.Steps, steps...)
		origins = append(origins, rb.Origin)
		if err == nil {
			renews = append(renews, rb.Renews...)
		}
		if j.Problem != nil {
			fail.add("%w", j.Problem)
			if j.Step != "" && !j.Expected {
				break
			}
		}
	}

	// Recover.
	if plan.RecoverByReset {
		// What the guide's procedure left is judged before the harness
		// repairs it: keys destroyed stay "lost" in the report.
		if err := check.KeyMaterialIntact(ctx, c); err != nil {
			res.Keys = report.KeysLost
			if len(res.Steps) == 0 || !slices.ContainsFunc(res.Steps, func(s report.Step) bool { return s.Defect }) {
				res.Defects = append(res.Defects, "the guide's procedure destroyed key material: "+err.Error())
			}
		}
		rec.Mark(report.LaneRunbook, "the harness restores the cluster from its offline copy", report.Warn, "the guide's procedure could not")
		if _, err := c.Reset(ctx); err != nil {
			fail.add("the harness could not restore the cluster: %w", err)
		}
		res.Defects = append(res.Defects, "the cluster did not come back from the guide's procedure: restored by the harness from its offline copy of every vault")
	}
	steady := probe.New("steady state (every party Optimal, decrypts right through every party)", check.Steady)
	if err := probe.Await(ctx, c, plan.RecoverWithin, probe.All(append([]probe.Probe{steady}, plan.Recovered...)...)); err != nil {
		fail.add("did not recover after the runbooks (last step %q): %w", lastStep, err)
	} else {
		res.Recovered = true
		res.TTR = time.Since(rbStart)
		res.RecoveredBy = recoveredBy(plan.RecoverByReset, undone, origins)
		rec.Mark(report.LaneProbes, "recovered", report.OK, fmt.Sprintf("time to recover %s", res.TTR.Round(time.Millisecond)))
	}
	end := time.Now()
	if !healedAt.IsZero() {
		end = healedAt
	}
	faultWindow(end)
	stopWorkload()
	checkHistory(&fail, hist, &res, during, plan.During)

	auditKeys(ctx, c, &fail, &res)
	if err := check.NoFaultLeft(ctx, c, check.Declared{Renews: renews, Touched: res.Parties}); err != nil {
		res.FaultLeft = err.Error()
		fail.add("the fault outlived the scenario: %w", err)
	} else if res.Recovered {
		skipCleanup.Store(true) // the runbook undid the fault: nothing to heal
	}
	return
}

// recoveredBy names who brought the cluster back: the harness's reset, a
// step that only undid the harness's own fault, a runbook that repairs
// the guide, or the guide as written.
func recoveredBy(reset, undone bool, origins []string) string {
	switch {
	case reset:
		return report.ByReset
	case undone:
		return report.ByHarness
	case slices.Contains(origins, runbook.OriginRepaired):
		return report.ByRepaired
	case slices.Contains(origins, runbook.OriginHarness):
		return report.ByHarness
	case len(origins) == 0:
		return ""
	}
	return report.ByGuide
}

func (p *Plan) defaults() {
	if p.DetectWithin == 0 {
		p.DetectWithin = 45 * time.Second
	}
	if p.Observe == 0 {
		p.Observe = 3 * time.Second
	}
	if p.RecoverWithin == 0 {
		p.RecoverWithin = 120 * time.Second
	}
}

func describe(fs []fault.Fault) (string, string) {
	var names, kinds []string
	seen := map[string]bool{}
	for _, f := range fs {
		names = append(names, f.Name())
		if !seen[f.Kind()] {
			seen[f.Kind()] = true
			kinds = append(kinds, f.Kind())
		}
	}
	return strings.Join(names, " + "), strings.Join(kinds, ",")
}

// checkHistory fills the ops summary and applies the workload invariants.
func checkHistory(fail *failure, h *workload.History, res *report.Scenario, w check.Window, e check.Expect) {
	if h == nil {
		return
	}
	ok, failed, wrong := check.Tally(h, check.Window{From: time.Time{}, To: time.Now().Add(time.Hour)}, nil)
	res.Ops = report.Ops{OK: ok, Failed: failed, Wrong: wrong}
	if !w.From.IsZero() {
		fo, ff, fw := check.Tally(h, w, nil)
		res.Ops.FaultOK, res.Ops.FaultFailed, res.Ops.FaultWrong = fo, ff, fw
		lo, lf, _ := check.Tally(h, w, e.Live)
		if lo+lf > 0 {
			res.Ops.Availability = float64(lo) / float64(lo+lf)
		}
		if err := check.During(h, w, e); err != nil {
			fail.add("%w", err)
		}
	}
	if err := check.NoWrongDecryption(h); err != nil {
		fail.add("%w", err)
	}
}

// detect polls every probe until each has held once, or within passes.
func detect(ctx context.Context, c *cluster.Cluster, ps []probe.Probe, within time.Duration, rec *report.Recorder, from time.Time) ([]report.Detection, time.Time, bool) {
	dets := make([]report.Detection, len(ps))
	for k, p := range ps {
		dets[k].Probe = p.Name()
	}
	deadline := time.Now().Add(within)
	last := from
	var wrong atomic.Bool // a probe saw a wrong value: a verdict, stop polling
	for {
		var wg sync.WaitGroup
		for k, p := range ps {
			if dets[k].Held {
				continue
			}
			wg.Add(1)
			go func(k int, p probe.Probe) {
				defer wg.Done()
				// A probe may take long (kms-init waits for its set-up):
				// it is bounded by the detection deadline, not less.
				pctx, cancel := context.WithDeadline(ctx, deadline.Add(5*time.Second))
				defer cancel()
				if err := p.Check(pctx, c); err != nil {
					dets[k].Last = err.Error()
					if oracle.IsWrong(err) {
						wrong.Store(true)
					}
					return
				}
				now := time.Now()
				dets[k].Held, dets[k].At, dets[k].Last = true, now.Sub(from), ""
				rec.Mark(report.LaneProbes, "detected: "+p.Name(), report.OK, fmt.Sprintf("after %s", now.Sub(from).Round(time.Millisecond)))
			}(k, p)
		}
		wg.Wait()
		all := true
		for _, d := range dets {
			if !d.Held {
				all = false
			} else if at := from.Add(d.At); at.After(last) {
				last = at
			}
		}
		if all {
			return dets, last, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil || wrong.Load() {
			for _, d := range dets {
				if !d.Held {
					rec.Mark(report.LaneProbes, "not detected: "+d.Probe, report.Fail, d.Last)
				}
			}
			return dets, last, false
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// auditKeys compares every party's key material with the baseline.
func auditKeys(ctx context.Context, c *cluster.Cluster, fail *failure, res *report.Scenario) {
	if err := check.KeyMaterialIntact(ctx, c); err != nil {
		res.Keys = report.KeysChanged
		fail.add("%w", err)
		return
	}
	res.DataIntact = true
	if res.Keys == "" {
		res.Keys = report.KeysIntact
	}
}
