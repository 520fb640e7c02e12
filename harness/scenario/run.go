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
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/runbook"
	"github.com/kmschaos/kmschaos/harness/signals"
	"github.com/kmschaos/kmschaos/harness/verdict"
	"github.com/kmschaos/kmschaos/harness/workload"
)

// Run runs a scenario on c. The returned error names every reason it
// failed; the scorecard row is filled either way, with the time each
// phase took. A scenario whose fault or runbook needs a verb the backend
// cannot offer (cluster.Unsupported) is skipped: what was injected is
// healed, the row's Skipped says why, Passed is false and the error nil
// (report.Scenario.Result is SKIP).
func Run(ctx context.Context, c *cluster.Cluster, sc Scenario, rng *rand.Rand, o Options) (report.Scenario, error) {
	r := newRunner(ctx, c, sc, rng, o)
	// The workload and the monitor stop even if a phase panics.
	defer r.stopBackground()
	sequence(&r.res.Phases, r)
	r.finish()
	return r.res, r.err
}

// phases are the steps of a run, in the order sequence calls them; each
// says whether the run goes on.
type phases interface {
	reset() bool
	inject() bool
	detect() bool
	healUndetected() bool
	auditUndetected() bool
	observe() bool
	runbooks() bool
	recover() bool
	audit() bool
	judgeSeen() bool
}

// sequence runs the phases in order, timing each into ph. A fault that is
// not detected is healed and what can be judged is. A run that stops
// after the injection began — a skip at injection or in a runbook (a
// verb the backend cannot offer), an injection that failed, an
// interrupted observation — still judges what the workload saw up to
// there: a wrong value is never dropped because the run went no
// further. The heals of a run that stopped without skipping are left to
// the spec's cleanup.
func sequence(ph *report.Phases, p phases) {
	if !timed(&ph.Reset, p.reset) {
		return
	}
	switch {
	case !timed(&ph.Inject, p.inject):
		timed(&ph.Audit, p.judgeSeen)
	case !timed(&ph.Detect, p.detect):
		timed(&ph.Recover, p.healUndetected)
		timed(&ph.Audit, p.auditUndetected)
	case !timed(&ph.Observe, p.observe), !timed(&ph.Runbook, p.runbooks):
		timed(&ph.Audit, p.judgeSeen)
	default:
		timed(&ph.Recover, p.recover)
		timed(&ph.Audit, p.audit)
	}
}

// timed runs one phase and adds the time it took to d; the phase says
// whether the scenario goes on.
func timed(d *time.Duration, phase func() bool) bool {
	start := time.Now()
	defer func() { *d += time.Since(start) }()
	return phase()
}

// runner is one scenario's run, phase by phase: reset, inject, detect,
// observe, runbook, recover, audit. Each phase is a method that returns
// whether the next one runs; what a phase learns for the later ones is
// kept here.
type runner struct {
	ctx context.Context // carries the injection time once the faults are in
	c   *cluster.Cluster
	sc  Scenario
	rng *rand.Rand
	o   Options

	rec  *report.Recorder
	res  report.Scenario
	fail failure
	err  error // what finish made of fail
	// skipped is why the run stopped without a verdict: a verb the
	// backend cannot offer (cluster.Unsupported), at injection or in a
	// runbook step. A failure recorded as well wins over it.
	skipped string

	plan  Plan
	rbs   []*runbook.Runbook
	judge verdict.Judge // the runbooks' verdict: steps, steady state, nothing left

	mon  *monitor
	sig  *signals.Watch
	w    *workload.Workload
	hist *workload.History

	skipCleanup atomic.Bool // the runbook undid the fault: the registered heals need not run
	heals       []fault.Heal
	healAll     func(context.Context) error
	healedAt    time.Time
	faultStart  time.Time
	injectedAt  time.Time // every fault in: the observation's start

	during   check.Window // from the end of the injection to the end of the observation
	observed bool         // the observation has ended (endObservation)
	rbStart  time.Time
	lastStep string
	undone   bool // a step undid the harness's own fault
	origins  []string
}

func newRunner(ctx context.Context, c *cluster.Cluster, sc Scenario, rng *rand.Rand, o Options) *runner {
	rec := report.NewRecorder()
	return &runner{
		ctx: ctx, c: c, sc: sc, rng: rng, o: o, rec: rec, judge: verdict.Judge{C: c},
		res: report.Scenario{Name: sc.Name, Section: sc.Section, Started: rec.Start()},
	}
}

// reset returns the cluster to its baseline, builds the plan from the
// seed and loads every runbook: a bad plan or runbook costs no fault.
func (r *runner) reset() bool {
	// Only what the last scenario changed is read again: its audit, when
	// clean, already proved the rest.
	if rep, err := r.c.ResetUnlessClean(r.ctx); err != nil {
		r.fail.add("could not return the cluster to its baseline: %w", err)
		return false
	} else if len(rep.Repaired) > 0 {
		r.rec.Mark(report.LaneFaults, "baseline restored", report.Info, rep.String())
	}
	c, res := r.c, &r.res
	r.plan = r.sc.Build(&Env{C: c, Rng: r.rng, N: c.Topology.N, T: c.Topology.T})
	plan := &r.plan
	plan.defaults()
	res.Fault, res.Kind = describe(plan.Faults)
	res.Parties, res.BeyondThreshold = fault.Touched(plan.Faults...), plan.BeyondThreshold
	r.judge.Touched = res.Parties
	res.Defects = append(res.Defects, plan.Defects...)
	if err := fault.CheckBudget(c.Topology.T, plan.BeyondThreshold, plan.Faults...); err != nil {
		r.fail.add("%w", err)
		return false
	}
	for _, f := range plan.Faults {
		if a, ok := f.(fault.Applicable); ok {
			if err := a.Applicable(c.Topology); err != nil {
				r.fail.add("%s does not apply to %s: %w", f.Name(), c.Topology, err)
				return false
			}
		}
	}
	// Every runbook is loaded, validated and given its variables, and
	// the plan judged against them, before anything is injected.
	rbs, err := plan.load(r.o.RunbookDir)
	if err != nil {
		r.fail.add("%w", err)
		return false
	}
	r.rbs = rbs
	res.Runbook = strings.Join(plan.Runbooks, ", ")
	return true
}

// inject starts the monitor and the workload, then injects the faults,
// registering every heal before anything else can fail.
func (r *runner) inject() bool {
	r.sig = signals.Begin(r.c, r.o.Alerts)
	r.mon = startMonitor(r.c, r.rec, r.sig)
	if !r.plan.NoWorkload {
		w, err := workload.Start(r.c, r.rng, workload.Options{Recorder: r.rec, Share: r.o.WorkloadShare})
		if err != nil {
			r.fail.add("starting the workload: %w", err)
			return false
		}
		r.w = w
	}
	// healAll heals what is registered when it is called: a skip during
	// the injection heals the faults injected so far.
	r.healAll = fault.Once(func(ctx context.Context) error {
		var errs []error
		for _, h := range r.heals {
			if err := h(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		r.healedAt = time.Now()
		r.rec.Mark(report.LaneFaults, "heal: "+r.res.Fault, report.Info, "")
		return errors.Join(errs...)
	})
	for _, f := range append(slices.Clone(r.plan.Prelude), r.plan.Faults...) {
		if q, ok := f.(fault.Requiring); ok {
			if err := q.Unsupported(r.c); err != nil {
				// Before anything is injected: nothing to heal.
				r.skip(fmt.Errorf("injecting %s: %w", f.Name(), err))
				return false
			}
		}
	}
	r.faultStart = time.Now()
	ok := r.injectAll(r.plan.Prelude)
	if len(r.plan.Prelude) > 0 {
		// The operation under test, not the harness's injection: its
		// time is the prelude's (sequence adds the whole phase to Inject).
		took := time.Since(r.faultStart)
		r.res.Phases.Prelude += took
		r.res.Phases.Inject -= took
	}
	if !ok {
		return false
	}
	if len(r.plan.Prelude) > 0 {
		names, _ := describe(r.plan.Prelude)
		r.rec.Span(report.LaneFaults, "prelude: "+names, report.Info, "", r.faultStart, time.Now())
	}
	r.arm()
	r.faultStart = time.Now()
	if len(r.plan.Faults) > 0 {
		r.sig.Injected(r.faultStart)
	}
	if !r.injectAll(r.plan.Faults) {
		return false
	}
	r.injectedAt = time.Now()
	if len(r.plan.Faults) > 0 {
		r.rec.Mark(report.LaneFaults, "inject: "+r.res.Fault, report.Warn, fmt.Sprintf("parties %v", r.res.Parties))
	}
	return true
}

// injectAll injects fs in order, registering each heal before anything
// else can fail; false if one could not be injected.
func (r *runner) injectAll(fs []fault.Fault) bool {
	for _, f := range fs {
		h, err := f.Inject(r.ctx, r.c)
		if h != nil {
			r.heals = append(r.heals, h)
			if r.o.Cleanup != nil {
				r.o.Cleanup(func(ctx context.Context) error {
					if r.skipCleanup.Load() {
						return nil
					}
					return h(ctx)
				})
			}
		}
		if err != nil {
			if cluster.IsUnsupported(err) {
				r.skip(fmt.Errorf("injecting %s: %w", f.Name(), err))
				return false
			}
			r.fail.add("injecting %s: %w", f.Name(), err)
			return false
		}
	}
	return true
}

// arm takes the readings of the detections that judge a change since the
// injection (probe.Armed), just before it. A reading that fails keeps its
// probe from ever holding, which says why; it is marked here too.
func (r *runner) arm() {
	for _, p := range append(slices.Clone(r.plan.Detect), r.plan.Recovered...) {
		if a, ok := p.(probe.Armed); ok {
			if err := a.Arm(r.ctx, r.c); err != nil {
				r.rec.Mark(report.LaneProbes, "no reading before the injection: "+p.Name(), report.Warn, err.Error())
			}
		}
	}
}

// skip stops the run without a verdict: the backend cannot offer a verb
// the fault or a runbook needs (why wraps a cluster.Unsupported). The
// faults injected so far are healed at once, so that the next scenario
// starts clean; healing that fails is a failure (a fault may be left).
func (r *runner) skip(why error) {
	if !r.rbStart.IsZero() {
		// A runbook's step the backend cannot run, maybe one that only
		// looks: the observation ends before the heal below.
		r.endObservation(&r.res.Phases.Runbook)
	}
	r.skipped = why.Error()
	r.rec.Mark(report.LaneFaults, "skipped: not supported on this backend", report.Info, r.skipped)
	if err := r.healAll(context.WithoutCancel(r.ctx)); err != nil {
		r.fail.add("healing %s after the skip: %w", r.res.Fault, err)
	}
}

// detect runs the guide's diagnostics until every one holds, reading
// only what was written since the injection.
func (r *runner) detect() bool {
	r.ctx = probe.WithInjectedAt(r.ctx, r.faultStart)
	if len(r.plan.Detect) == 0 {
		// Nothing to detect (a plan without faults, or one that says why
		// none can be seen): no time to detect is claimed.
		return true
	}
	dets, detectedAt, ok := detect(r.ctx, r.c, r.plan.Detect, r.plan.DetectWithin, r.rec, r.faultStart)
	r.res.Detections, r.res.Detected = dets, ok
	r.res.TTD = detectedAt.Sub(r.faultStart)
	if !ok {
		for _, d := range dets {
			if !d.Held {
				r.fail.add("detection did not happen within %s: %q: last saw: %s", r.plan.DetectWithin, d.Probe, d.Last)
			}
		}
	}
	return ok
}

// healUndetected removes a fault the diagnostics did not detect.
func (r *runner) healUndetected() bool {
	if err := r.healAll(context.WithoutCancel(r.ctx)); err != nil {
		r.fail.add("healing %s: %w", r.res.Fault, err)
	}
	return true
}

// auditUndetected judges the workload and the key material after a
// fault that was not detected: a report must not say CHANGED where
// nothing was checked.
func (r *runner) auditUndetected() bool {
	r.faultWindow(time.Now())
	r.stopWorkload()
	checkHistory(&r.fail, r.hist, &r.res, check.Window{}, r.plan.During)
	auditKeys(r.ctx, r.c, &r.fail, &r.res)
	return true
}

// judgeSeen judges the workload's history up to a stop before the
// recovery: every operation for a wrong value, and, when the fault was
// observed whole, the operations during it against what t allows (a party
// that should be down answering). The row shows the operations either way.
func (r *runner) judgeSeen() bool {
	if !r.injectedAt.IsZero() {
		// A runbook stopped before any step acted: the fault is still on.
		r.endObservation(&r.res.Phases.Audit)
	}
	r.stopWorkload()
	checkHistory(&r.fail, r.hist, &r.res, r.during, r.plan.During)
	return true
}

// observe leaves the fault on, the workload running, until the
// availability verdict has its window: the operations that started and
// ended under the fault, from the end of its injection, not from its
// detection, so the window overlaps the detection instead of following
// it. When the runbooks begin with steps that only look (runbook.Step.Acts:
// a health check, a listing, an inspect), the window goes on through them
// too and ends before the first step that acts (Env.BeforeActing), so
// that the wait overlaps them as well; otherwise it ends here.
func (r *runner) observe() bool {
	if len(r.rbs) > 0 && !r.rbs[0].Steps[0].Acts() {
		return true
	}
	return r.endObservation(nil)
}

// endObservation ends the observation of the fault, once, when the
// window has what it needs: it lasts at least Observe from the injection
// (a detection or the steps that only look took longer: it ends at once),
// then until every party During judges, live or down, has run an
// operation whole in it (each is judged on its own, and a fault that
// slows every decryption, or fails the down ones' only at a timeout,
// would leave During nothing to judge of them), at
// most observeMore longer: During then names the parties that ran none.
// Its wait is the observation's time wherever it is called: taken from
// the phase it ran in (from) and from the time to recover.
func (r *runner) endObservation(from *time.Duration) bool {
	if r.observed {
		return true
	}
	r.observed = true
	if len(r.plan.Faults) == 0 {
		// A procedure run on a healthy cluster: no fault to observe the
		// operations under, and no window (the row shows none).
		return true
	}
	start := time.Now()
	defer func() {
		wait := time.Since(start)
		if from != nil {
			*from -= wait
			r.res.Phases.Observe += wait
		}
		if !r.rbStart.IsZero() {
			r.rbStart = r.rbStart.Add(wait)
		}
	}()
	minEnd := r.injectedAt.Add(r.plan.Observe)
	maxEnd := later(minEnd, start).Add(observeMore)
	tick := time.NewTicker(observePoll)
	defer tick.Stop()
	for now := start; ; {
		if !now.Before(minEnd) {
			r.during = check.Window{From: r.injectedAt, To: now}
			if r.w == nil || now.After(maxEnd) || check.Observed(r.w.Snapshot(), r.during, r.plan.During) {
				return true
			}
		}
		select {
		case <-r.ctx.Done():
			r.fail.add("interrupted: %w", r.ctx.Err())
			return false
		case now = <-tick.C:
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// How the observation waits for an operation to have run under the fault.
var (
	observePoll = fixtures.Intervals.Scenario.ObservePoll
	observeMore = fixtures.Intervals.Scenario.ObserveMore
)

// runbooks runs the plan's runbooks for real, in order, each judged
// against the defect the plan expects (judgeDefect). A step that needs a
// verb the backend cannot offer skips the scenario: it says no.
func (r *runner) runbooks() bool {
	r.rbStart = time.Now()
	res := &r.res
	for _, rb := range r.rbs {
		steps, err := r.judge.Run(r.ctx, rb, &runbook.Env{C: r.c, Party: r.plan.Target, Heal: r.healAll, Vars: r.plan.Vars, Rec: r.rec,
			BeforeActing: r.actNext})
		if len(steps) > 0 {
			r.lastStep = rb.Name + "/" + steps[len(steps)-1].Name
		}
		if cluster.IsUnsupported(err) {
			// Not the guide's defect nor the cluster's failure: the
			// backend cannot do what the step says.
			res.Steps = append(res.Steps, steps...)
			r.skip(err)
			return false
		}
		j := judgeDefect(r.plan.ExpectDefect, rb.Name, err, func(step string) string {
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
			r.undone = r.undone || (steps[k].OK && steps[k].UndoesFault)
		}
		res.Steps = append(res.Steps, steps...)
		r.origins = append(r.origins, rb.Origin)
		if j.Problem != nil {
			r.fail.add("%w", j.Problem)
			if j.Step != "" && !j.Expected {
				break
			}
		}
	}
	return true
}

// actNext ends the observation before a runbook's first step that acts.
func (r *runner) actNext(ctx context.Context) error {
	if !r.endObservation(&r.res.Phases.Runbook) {
		return ctx.Err()
	}
	return nil
}

// recover waits for the steady state after the runbooks (the end of
// time-to-recover), after restoring the cluster where the plan says the
// guide's procedure cannot.
func (r *runner) recover() bool {
	ctx, c, res := r.ctx, r.c, &r.res
	// Runbooks that only looked leave the observation to end here.
	r.endObservation(&res.Phases.Recover)
	if r.plan.RecoverByReset {
		// What the guide's procedure left is judged before the harness
		// repairs it: keys destroyed stay "lost" in the report.
		if err := check.KeyMaterialIntact(ctx, c); err != nil {
			res.Keys = report.KeysLost
			if len(res.Steps) == 0 || !slices.ContainsFunc(res.Steps, func(s report.Step) bool { return s.Defect }) {
				res.Defects = append(res.Defects, "the guide's procedure destroyed key material: "+err.Error())
			}
		}
		r.rec.Mark(report.LaneRunbook, "the harness restores the cluster from its offline copy", report.Warn, "the guide's procedure could not")
		if _, err := c.Reset(ctx); err != nil {
			r.fail.add("the harness could not restore the cluster: %w", err)
		}
		res.Defects = append(res.Defects, "the cluster did not come back from the guide's procedure: restored by the harness from its offline copy of every vault")
	}
	if err := r.judge.Steady(ctx, r.plan.RecoverWithin, r.plan.Recovered...); err != nil {
		r.fail.add("did not recover after the runbooks (last step %q): %w", r.lastStep, err)
	} else {
		res.Recovered = true
		res.TTR = time.Since(r.rbStart)
		res.RecoveredBy = recoveredBy(r.plan.RecoverByReset, r.undone, r.origins)
		r.rec.Mark(report.LaneProbes, "recovered", report.OK, fmt.Sprintf("time to recover %s", res.TTR.Round(time.Millisecond)))
	}
	r.stopSignals()
	return true
}

// audit stops the workload and checks the invariants: operations during
// the fault, no wrong decryption, key material as the baseline, no
// fault left.
func (r *runner) audit() bool {
	end := time.Now()
	if !r.healedAt.IsZero() {
		end = r.healedAt
	}
	r.faultWindow(end)
	r.stopWorkload()
	checkHistory(&r.fail, r.hist, &r.res, r.during, r.plan.During)

	auditKeys(r.ctx, r.c, &r.fail, &r.res)
	if err := r.judge.Left(r.ctx); err != nil {
		r.res.FaultLeft = err.Error()
		r.fail.add("the fault outlived the scenario: %w", err)
	} else if r.res.Recovered {
		r.skipCleanup.Store(true) // the runbook undid the fault: nothing to heal
	}
	return true
}

// finish fills the row whichever phase the run stopped at. Every wrong
// value anything saw — probe, runbook check, steady state — turns the
// scenario red; the workload's own are judged with its history
// (checkHistory). Its time counts as the audit's.
func (r *runner) finish() {
	start := time.Now()
	r.stopBackground()
	res := &r.res
	for _, w := range oracle.WitnessOf(r.c).Since(res.Started) {
		res.Wrongs = append(res.Wrongs, w.String())
		r.rec.Mark(report.LaneWorkload, fmt.Sprintf("WRONG value via party %d", w.Party), report.Wrong, w.String())
		if w.By != workload.By {
			res.Ops.Wrong++
			r.fail.add("a WRONG decryption is on record: %s", w)
		}
	}
	res.Phases.Audit += time.Since(start)
	res.Duration = time.Since(res.Started)
	res.Events = r.rec.Events()
	r.err = r.fail.err()
	switch {
	case r.skipped != "" && r.err == nil:
		res.Skipped = r.skipped
	case r.skipped != "":
		// What failed before or while skipping is a failure all the same.
		r.err = fmt.Errorf("%w\n(and the scenario was skipped: %s)", r.err, r.skipped)
	}
	res.Passed = r.err == nil && res.Skipped == ""
	if r.err != nil {
		res.Error = r.err.Error()
	}
}

// faultWindow draws the fault's span on the timeline, up to end.
func (r *runner) faultWindow(end time.Time) {
	if len(r.plan.Faults) == 0 {
		return
	}
	r.rec.Span(report.LaneFaults, r.res.Fault, report.Warn, fmt.Sprintf("parties %v", r.res.Parties), r.faultStart, end)
}

// stopWorkload stops the workload once and keeps its history.
func (r *runner) stopWorkload() {
	if r.w != nil && r.hist == nil {
		r.hist = r.w.Stop()
	}
}

// stopBackground stops the workload, then the monitor (which draws its
// last spans), then the signals watch; it may be called more than once.
func (r *runner) stopBackground() {
	r.stopWorkload()
	if r.mon != nil {
		r.mon.stop()
		r.mon = nil
	}
	r.stopSignals()
}

// stopSignals ends the signals' window (at the end of the recovery, or
// wherever the run stopped) and keeps what they showed.
func (r *runner) stopSignals() {
	if r.sig != nil {
		r.res.Coverage = r.sig.Stop(context.WithoutCancel(r.ctx))
		r.sig = nil
	}
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
	case slices.Contains(origins, runbook.OriginOperations):
		return report.ByOperations
	case len(origins) == 0:
		return ""
	}
	return report.ByGuide
}

func (p *Plan) defaults() {
	if p.DetectWithin == 0 {
		p.DetectWithin = fixtures.Intervals.Scenario.DetectWithin
	}
	if p.Observe == 0 {
		p.Observe = fixtures.Intervals.Scenario.Observe
	}
	if p.RecoverWithin == 0 {
		p.RecoverWithin = fixtures.Intervals.Scenario.RecoverWithin
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
				pctx, cancel := context.WithDeadline(ctx, deadline.Add(fixtures.Intervals.Scenario.DetectAttemptGrace))
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
				detail := fmt.Sprintf("after %s", now.Sub(from).Round(time.Millisecond))
				if n, ok := p.(probe.Noted); ok {
					detail += "; " + n.Note()
				}
				rec.Mark(report.LaneProbes, "detected: "+p.Name(), report.OK, detail)
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
		case <-time.After(fixtures.Intervals.Scenario.DetectPoll):
		}
	}
}

// auditKeys compares every party's key material with the baseline.
func auditKeys(ctx context.Context, c *cluster.Cluster, fail *failure, res *report.Scenario) {
	if err := JudgeKeys(ctx, c, res); err != nil {
		fail.add("%w", err)
	}
}

// JudgeKeys audits every party's key material against the baseline and
// says what it found in the row: intact (or lost, where a step destroyed
// some that were restored later), or CHANGED with the error naming the
// objects. A row written by hand calls it too: a row that was never
// audited says nothing of its keys.
func JudgeKeys(ctx context.Context, c *cluster.Cluster, res *report.Scenario) error {
	if err := check.KeyMaterialIntact(ctx, c); err != nil {
		res.Keys, res.DataIntact = report.KeysChanged, false
		return err
	}
	res.DataIntact = true
	if res.Keys == "" {
		res.Keys = report.KeysIntact
	}
	return nil
}
