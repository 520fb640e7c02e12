package gameday

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/guard"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/manual"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/secrets"
	"github.com/kmschaos/kmschaos/harness/workload"
)

// Tick is how often the runner looks at the cluster.
var Tick = fixtures.Intervals.GameDay.Tick

// keysEvery: the key material is compared with the baseline every so
// many ticks (it reads every party's storage).
const keysEvery = 5

// Runner is the long-lived process of a game day: it injects the hidden
// faults on schedule, runs the workload, watches for the players'
// recovery, heals at the limit, and ends the game day when asked.
type Runner struct {
	C   *cluster.Cluster
	Log io.Writer

	s    *State
	rec  *report.Recorder // the workload's events, this runner's alone
	w    *workload.Workload
	tick int
	test *checks // a test's stand-ins for the checks on the cluster
	// testUndo, if set, stands in for undoing a fault on an escalation.
	testUndo func(Fault) error
	// witnessed: how many of the wrong values this process saw are in
	// the state already.
	witnessed int
	guard     *guard.Guard // the guard rails (halt.go), made at the first tick
}

// checks are what the runner asks of the cluster to tell a fault gone.
type checks struct {
	audit  func(*cluster.Cluster, context.Context) (cluster.ResetReport, error)
	steady func(context.Context, *cluster.Cluster) error
	keys   func(context.Context, *cluster.Cluster) error
}

// checks are the real ones, or a test's stand-ins.
func (r *Runner) checks() checks {
	if r.test != nil {
		return *r.test
	}
	return checks{audit: (*cluster.Cluster).Audit, steady: check.Steady, keys: check.KeyMaterialIntact}
}

// Run runs the game day the cluster keeps until it ends (a stop request,
// or ctx), and writes the reports into its directory. A runner started
// for a game day another runner was running continues it.
func (r *Runner) Run(ctx context.Context) error {
	s, err := Load(ctx, r.C)
	if err != nil {
		return err
	}
	if !s.Running() {
		return fmt.Errorf("no game day is running on cluster %s", r.C.RunID)
	}
	r.s = s
	if s.PID != 0 && s.PID != os.Getpid() {
		// A runner before this one died: its workload's operations after
		// its last heartbeat are lost.
		s.WorkloadLost = s.WorkloadLost || s.Ops.OK+s.Ops.Failed+s.Ops.Wrong > 0
		r.logf("continuing game day %s after runner %d stopped", s.ID, s.PID)
	}
	s.PID = os.Getpid()
	// The set-up can outlast staleAfter on a loaded host: the runner beats
	// all through it, or the facilitator's next 'gameday status' takes it
	// for dead and starts a second one on the same game day.
	settingUp := r.beating(ctx)
	// Every secret the cluster holds while the game day runs — a player's
	// runbook may set up a fresh epoch — is searched for in its reports:
	// those made meanwhile from here, those of the end by Close.
	tracked, err := secrets.Watch(ctx, r.C)
	if err != nil {
		settingUp()
		return fmt.Errorf("reading the cluster's secrets: %w", err)
	}
	defer tracked.Stop()
	r.rec = report.NewRecorder()
	h := fnv.New64a()
	h.Write([]byte("gameday workload"))
	w, err := workload.Start(r.C, mrand.New(mrand.NewPCG(s.Seed, h.Sum64())), workload.Options{Recorder: r.rec})
	settingUp()
	if err != nil {
		return fmt.Errorf("starting the workload: %w", err)
	}
	r.w = w
	base := s.Ops // what runners before this one counted
	t := time.NewTicker(Tick)
	defer t.Stop()
	var out outOfReach
	for {
		stop, stopErr := stopRequested(ctx, r.C)
		if stopErr != nil {
			r.logf("reading the stop request: %v", stopErr)
		}
		if stop != nil || ctx.Err() != nil {
			abort := stop != nil && stop.Abort
			return errors.Join(r.finish(context.WithoutCancel(ctx), base, abort), tracked.Err())
		}
		if h := r.halted(ctx); h != nil {
			return errors.Join(r.endHalted(context.WithoutCancel(ctx), base, *h), tracked.Err())
		}
		r.step(ctx, time.Now())
		r.tally(base, false)
		if r.guardTripped(ctx, time.Now()) {
			continue // the next turn ends the game day
		}
		saveErr := r.beat(ctx)
		if out.since(time.Now(), stopErr, saveErr) >= staleAfter {
			// The cluster is gone (kmschaos down, a swept run): nobody can
			// end this game day any more, so the runner does not outlive it.
			r.w.Stop()
			return fmt.Errorf("cluster %s out of reach for %s (%v): game day %s stops unfinished", r.C.RunID, staleAfter, saveErr, s.ID)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// beat saves the state with the heartbeat now, logging a failure.
func (r *Runner) beat(ctx context.Context) error {
	r.s.Heartbeat = time.Now().UTC()
	err := Save(ctx, r.C, r.s)
	if err != nil {
		r.logf("saving the state: %v", err)
	}
	return err
}

// beating saves the heartbeat now and every Tick until stop is called —
// while the runner does something slow before its ticks begin, and
// touches the state nowhere else meanwhile. stop returns once the last
// beat is saved.
func (r *Runner) beating(ctx context.Context) (stop func()) {
	beat := func() { _ = r.beat(ctx) } // logged; the ticks judge reach
	beat()
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(Tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				beat()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// outOfReach measures how long the cluster has been out of reach: since
// the first of an unbroken run of ticks at which neither the stop
// request could be read nor the state saved.
type outOfReach struct{ first time.Time }

// since records a tick's two errors and returns how long the cluster has
// been out of reach; any success resets it to zero.
func (o *outOfReach) since(now time.Time, readErr, saveErr error) time.Duration {
	if readErr == nil || saveErr == nil {
		o.first = time.Time{}
		return 0
	}
	if o.first.IsZero() {
		o.first = now
	}
	return now.Sub(o.first)
}

func (r *Runner) logf(format string, a ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, "%s %s\n", time.Now().UTC().Format("15:04:05.000"), fmt.Sprintf(format, a...))
	}
}

// event adds a timeline event at t (to end, if not zero).
func (r *Runner) event(lane report.Lane, label string, status report.Status, detail string, at, end time.Time) {
	e := report.Event{At: at.Sub(r.s.Started), Lane: lane, Label: label, Status: status, Detail: detail}
	if !end.IsZero() {
		e.End = end.Sub(r.s.Started)
	}
	r.s.Events = append(r.s.Events, e)
}

// step injects what is due, watches what is on, heals what is overdue and
// checks the key material now and then.
func (r *Runner) step(ctx context.Context, now time.Time) {
	s := r.s
	r.tick++
	r.answer(ctx, now)
	var rep *cluster.ResetReport
	audit := func() *cluster.ResetReport {
		if rep == nil {
			a, err := r.checks().audit(r.C, ctx)
			if err != nil {
				r.logf("audit: %v", err)
				return nil
			}
			rep = &a
		}
		return rep
	}
	for i := range s.Faults {
		f := &s.Faults[i]
		switch {
		case f.InjectedAt.IsZero() && f.InjectError == "" && !now.Before(s.Started.Add(f.At)):
			r.inject(ctx, i)
			rep = nil
		case f.Active(now) && now.Sub(f.InjectedAt) >= s.Limit:
			r.heal(ctx, i, fmt.Sprintf("not recovered within the limit (%s): healed by the harness", s.Limit))
			rep = nil
		case f.Active(now) && now.Sub(f.InjectedAt) >= 2*Tick:
			a := audit()
			if a == nil || Present(*a, *f) {
				continue
			}
			// Undone by the players: recovered once the cluster is steady
			// and its key material intact.
			if err := r.checks().steady(ctx, r.C); err != nil {
				// Not recovered; a wrong value is on the witness besides
				// (witness, below), failing the game day.
				continue
			}
			if err := r.checks().keys(ctx, r.C); err != nil {
				continue
			}
			if r.halted(ctx) != nil {
				continue // the lever's reset healed it, not the players
			}
			f.RecoveredAt, f.RecoveredBy = time.Now().UTC(), recoveredBy(*f)
			r.logf("fault %d recovered by %s after %s", i+1, Who(f.RecoveredBy), f.RecoveredAt.Sub(f.InjectedAt).Round(time.Millisecond))
			r.event(report.LaneFaults, fmt.Sprintf("fault %d", i+1), report.Warn, f.Name, f.InjectedAt, f.RecoveredAt)
			r.event(report.LaneProbes, fmt.Sprintf("fault %d recovered by %s", i+1, Who(f.RecoveredBy)), report.OK,
				fmt.Sprintf("every party Optimal, decrypts right, key material intact, %s after the injection", f.RecoveredAt.Sub(f.InjectedAt).Round(time.Millisecond)), f.RecoveredAt, time.Time{})
		}
	}
	if r.tick%keysEvery == 0 {
		keys := report.KeysIntact
		if err := r.checks().keys(ctx, r.C); err != nil {
			keys = report.KeysChanged
			if s.Keys != keys {
				r.event(report.LaneProbes, "key material differs from the baseline", report.Fail, err.Error(), now, time.Time{})
			}
		} else if s.Keys == report.KeysChanged {
			r.event(report.LaneProbes, "key material as the baseline again", report.OK, "", now, time.Time{})
		}
		s.Keys = keys
	}
	r.witness()
}

// witness moves the wrong values this process saw since the last call —
// the workload's, the steady check's, any other's — into the state, saved
// with the tick: none is lost with the process, and the report has them
// all. Those not the workload's (its own are in its lane) go on the
// timeline.
func (r *Runner) witness() {
	all := oracle.WitnessOf(r.C).Since(time.Time{})
	for _, w := range all[r.witnessed:] {
		r.s.Wrongs = append(r.s.Wrongs, w)
		r.logf("WRONG decryption: %s", w)
		if w.By != workload.By {
			r.event(report.LaneProbes, fmt.Sprintf("WRONG value via party %d", w.Party), report.Wrong, w.String(), w.At, time.Time{})
		}
	}
	r.witnessed = len(all)
}

func (r *Runner) inject(ctx context.Context, i int) {
	f := &r.s.Faults[i]
	if err := halt.Refuse(ctx, r.C); err != nil {
		r.logf("fault %d not injected: %v", i+1, err)
		return
	}
	k, _ := fault.LookupKind(f.Kind)
	flt := k.Build(f.args(), f.Tag)
	f.InjectedAt = time.Now().UTC()
	// Saved before the injection: a runner killed half-way leaves a fault
	// the next one (or end) knows to heal.
	if err := Save(ctx, r.C, r.s); err != nil {
		r.logf("saving the state: %v", err)
	}
	if _, err := flt.Inject(ctx, r.C); err != nil {
		f.InjectError = err.Error()
		uerr := k.Undo(context.WithoutCancel(ctx), r.C, f.args(), f.Tag)
		f.RecoveredAt, f.RecoveredBy = time.Now().UTC(), ByHarness
		r.logf("fault %d (%s) did not inject: %v (undo: %v)", i+1, f.Name, err, uerr)
		r.event(report.LaneFaults, fmt.Sprintf("fault %d did not inject", i+1), report.Fail, err.Error(), f.InjectedAt, time.Time{})
		return
	}
	r.logf("fault %d injected", i+1)
	r.event(report.LaneFaults, fmt.Sprintf("inject fault %d", i+1), report.Warn, f.Name, f.InjectedAt, time.Time{})
}

// heal undoes fault i as the harness: the players did not.
func (r *Runner) heal(ctx context.Context, i int, why string) {
	f := &r.s.Faults[i]
	k, _ := fault.LookupKind(f.Kind)
	ctx = context.WithoutCancel(ctx)
	if err := k.Undo(ctx, r.C, f.args(), f.Tag); err != nil {
		f.HealError = err.Error()
		r.logf("healing fault %d: %v", i+1, err)
	}
	f.RecoveredAt, f.RecoveredBy = time.Now().UTC(), ByHarness
	r.logf("fault %d: %s", i+1, why)
	r.event(report.LaneFaults, fmt.Sprintf("fault %d", i+1), report.Warn, f.Name, f.InjectedAt, f.RecoveredAt)
	r.event(report.LaneFaults, fmt.Sprintf("harness heals fault %d", i+1), report.Fail, why, f.RecoveredAt, time.Time{})
}

// tally counts the workload's operations, in all and per fault.
func (r *Runner) tally(base report.Ops, final bool) {
	if r.w == nil {
		return // no workload in this process: the counts stay as the last runner left them
	}
	var h *workload.History
	if final {
		h = r.w.Stop()
	} else {
		h = r.w.Snapshot()
	}
	ok, failed, wrong := check.Tally(h, check.Window{To: time.Now().Add(time.Hour)}, nil)
	r.s.Ops = report.Ops{OK: base.OK + ok, Failed: base.Failed + failed, Wrong: base.Wrong + wrong}
	for i := range r.s.Faults {
		f := &r.s.Faults[i]
		if f.InjectedAt.IsZero() {
			continue
		}
		end := f.RecoveredAt
		if end.IsZero() {
			end = time.Now()
		}
		o, fl, wr := check.Tally(h, check.Window{From: f.InjectedAt, To: end}, nil)
		// A runner that continues another adds to what that one counted.
		f.Ops = report.Ops{OK: max(f.Ops.OK, o), Failed: max(f.Ops.Failed, fl), Wrong: max(f.Ops.Wrong, wr)}
	}
}

// finish ends the game day: faults not injected are cancelled, those
// still on are healed by the harness (all at once, with a reset, on an
// abort), the workload stops, and the final audit says what is left.
func (r *Runner) finish(ctx context.Context, base report.Ops, abort bool) error {
	s := r.s
	now := time.Now()
	if !abort {
		r.answer(ctx, now) // asked before the end: answered, if late
	}
	for i := range s.Faults {
		if s.Faults[i].Active(now) && !abort {
			r.heal(ctx, i, "still on at the end of the game day: healed by the harness")
		}
	}
	r.tally(base, true)
	if abort {
		for i := range s.Faults {
			if f := &s.Faults[i]; f.Active(now) {
				f.RecoveredAt, f.RecoveredBy = time.Now().UTC(), ByHarness
			}
		}
		// Everything at once, faults by hand too (a player may have
		// injected one): the cluster back to its baseline.
		if _, _, err := manual.HealAll(ctx, r.C); err != nil {
			r.logf("abort: reset: %v", err)
		}
		r.event(report.LaneFaults, "game day aborted: everything healed", report.Fail, "", time.Now(), time.Time{})
	}
	r.witness()
	return Close(ctx, r.C, s, abort, r.rec.Events(), r.rec.Start(), r.logf)
}

// Finish ends a game day whose runner is gone, from any process of the
// facilitator (it opens the sealed state): the faults still on are healed
// (all at once with a reset on an abort), the final audit is written and
// the reports too, without the workload's operations after the last
// runner's heartbeat.
func Finish(ctx context.Context, c *cluster.Cluster, abort bool, log io.Writer) error {
	s, err := Load(ctx, c)
	if err != nil {
		return err
	}
	if !s.Running() {
		return nil
	}
	s.WorkloadLost = true
	r := &Runner{C: c, Log: log, s: s, rec: report.NewRecorder()}
	return r.finish(ctx, s.Ops, abort)
}

// Close writes the end of a game day into the state: the final audit and
// key check, the time, the reports. The runner calls it; so does 'end' if
// the runner died.
func Close(ctx context.Context, c *cluster.Cluster, s *State, abort bool, workloadEvents []report.Event, workloadStart time.Time, logf func(string, ...any)) error {
	var errs []error
	if err := check.NoFaultLeft(ctx, c, check.Declared{}); err != nil {
		s.Left = err.Error()
	}
	s.Keys = report.KeysIntact
	if err := check.KeyMaterialIntact(ctx, c); err != nil {
		s.Keys = report.KeysChanged
	}
	s.Ended, s.Aborted = time.Now().UTC(), abort
	diags, err := Diagnoses(ctx, c)
	errs = append(errs, err)
	notes, err := Notes(ctx, c)
	errs = append(errs, err)
	// The workload's events, moved to the game day's clock.
	shift := workloadStart.Sub(s.Started)
	var wl []report.Event
	for _, e := range workloadEvents {
		e.At += shift
		if e.End != 0 {
			e.End += shift
		}
		wl = append(wl, e)
	}
	record(context.WithoutCancel(ctx), s, diags, notes, c.Images.Party)
	if s.Dir != "" {
		if err := WriteReports(s, diags, notes, wl); err != nil {
			errs = append(errs, fmt.Errorf("writing the reports: %w", err))
		}
		// No report, and not the sealed file, may hold a secret of the
		// cluster: searched for, in every encoding, in memory; those the
		// cluster holds now, and in the runner's process every one it
		// held while the game day ran (secrets.Track).
		set, err := secrets.Collect(ctx, c)
		if err == nil {
			err = secrets.Scan(s.Dir, secrets.Merge(set, secrets.Active()))
		}
		errs = append(errs, err)
	}
	errs = append(errs, Save(ctx, c, s), c.DeleteRecord(ctx, stopRecord))
	if logf != nil {
		logf("game day %s ended (aborted %v); left: %s", s.ID, abort, orNothing(s.Left))
		if s.RecordError != "" {
			logf("the game day was not recorded in the results store: %s", s.RecordError)
		}
	}
	return errors.Join(errs...)
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// Present tells whether the audit still shows fault f: anything different
// on one of its parties (state, limits, storage, new objects), a toxic
// named by its tag, or a disabled link of one of its parties.
func Present(rep cluster.ResetReport, f Fault) bool {
	for _, p := range f.Parties {
		if len(rep.Repaired[p]) > 0 || len(rep.NewObjects[p]) > 0 {
			return true
		}
	}
	for _, line := range rep.Mesh {
		if strings.Contains(line, f.Tag) {
			return true
		}
		name, disabled := strings.CutSuffix(line, " disabled")
		if !disabled {
			continue
		}
		for _, part := range strings.Split(strings.TrimPrefix(name, "client-"), "-") {
			for _, p := range f.Parties {
				if part == fmt.Sprintf("p%d", p) {
					return true
				}
			}
		}
		if f.Link != [2]int{} && slices.Contains(strings.Split(name, "-"), fmt.Sprintf("p%d", f.Link[1])) {
			return true
		}
	}
	return false
}
