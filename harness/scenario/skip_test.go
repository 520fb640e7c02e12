package scenario

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/runbook"
	"github.com/kmschaos/kmschaos/harness/workload"
)

// fakeRunner is a runner of a plan on a cluster of fake workloads (n=4),
// at the injection: no reset (it needs an engine), no workload. cleanups
// are the heals the run registered for the spec's end.
func fakeRunner(t *testing.T, plan Plan) (r *runner, cleanups *[]func(context.Context) error) {
	t.Helper()
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	// A backend that cannot pause a party. The parties are stopped, so
	// that the monitor asks no health check (the fake has no API) and the
	// pause fault's heal has nothing to resume.
	for _, p := range parties {
		p.Unsupported = []string{"pause"}
		if err := p.Stop(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
	}
	cleanups = new([]func(context.Context) error)
	r = newRunner(context.Background(), c, Scenario{Name: "fake"}, rand.New(rand.NewPCG(1, 2)), Options{
		Cleanup: func(h func(context.Context) error) { *cleanups = append(*cleanups, h) },
	})
	plan.NoWorkload = true
	r.plan = plan
	r.res.Fault, r.res.Kind = describe(plan.Faults)
	t.Cleanup(r.stopBackground)
	return r, cleanups
}

// counted is a fault that injects nothing and counts its heals.
func counted(name string, heals *int, injectErr error) fault.Fault {
	return fault.New(name, fault.Process, []int{1}, func(context.Context, *cluster.Cluster) (fault.Heal, error) {
		return func(context.Context) error { *heals++; return nil }, injectErr
	})
}

// A fault the backend cannot inject skips the scenario: what was injected
// before it is healed at once, the reason is the row's, and the scenario
// is neither passed nor failed.
func TestUnsupportedInjectionSkips(t *testing.T) {
	heals := 0
	r, cleanups := fakeRunner(t, Plan{Faults: []fault.Fault{counted("a filler file", &heals, nil), fault.Pause(2)}})
	if r.inject() {
		t.Fatal("inject went on after an unsupported verb")
	}
	if heals != 1 {
		t.Errorf("the fault injected before the unsupported one was healed %d times, want once, by the skip", heals)
	}
	r.finish()
	res := r.res
	why, skipped := res.Skipped, res.Result() == report.ResultSkip
	if !skipped || !strings.Contains(why, "injecting pause (freeze) parties [2]") || !strings.Contains(why, "pause is not supported on the fake backend") {
		t.Errorf("skipped %v, reason %q; want the fault and the backend's reason", skipped, why)
	}
	if r.err != nil || res.Passed || res.Error != "" {
		t.Errorf("err %v, passed %v, error %q; want a skip: no error, not passed", r.err, res.Passed, res.Error)
	}
	// The spec's cleanup calls the heals again: they healed once already.
	for _, h := range *cleanups {
		if err := h(context.Background()); err != nil {
			t.Errorf("cleanup heal: %v", err)
		}
	}
	if heals != 1 {
		t.Errorf("healed %d times after the cleanup, want once", heals)
	}
}

// Any other injection error is a failure, as before.
func TestOtherInjectionErrorFails(t *testing.T) {
	heals := 0
	r, _ := fakeRunner(t, Plan{Faults: []fault.Fault{counted("a filler file", &heals, errors.New("the disk is read-only"))}})
	if r.inject() {
		t.Fatal("inject went on after an error")
	}
	r.finish()
	if r.res.Result() == report.ResultSkip || r.err == nil || r.res.Passed || !strings.Contains(r.res.Error, "the disk is read-only") {
		t.Errorf("result %s, err %v, passed %v; want a failure naming the error", r.res.Result(), r.err, r.res.Passed)
	}
}

// A skip whose heal fails left a fault behind: that is a failure.
func TestSkipWhoseHealFailsFails(t *testing.T) {
	bad := fault.New("a stuck rule", fault.Network, []int{1}, func(context.Context, *cluster.Cluster) (fault.Heal, error) {
		return func(context.Context) error { return errors.New("the rule stays") }, nil
	})
	r, _ := fakeRunner(t, Plan{Faults: []fault.Fault{bad, fault.Pause(2)}})
	r.inject()
	r.finish()
	if r.res.Result() == report.ResultSkip || r.err == nil || !strings.Contains(r.res.Error, "the rule stays") || !strings.Contains(r.res.Error, "pause is not supported") {
		t.Errorf("result %s, error %q; want a failure naming the heal and the skip", r.res.Result(), r.res.Error)
	}
}

// A runbook step the backend cannot do skips the scenario too: the
// runbook stops there, the faults are healed, nothing more is judged.
func TestUnsupportedRunbookStepSkips(t *testing.T) {
	rb, err := runbook.Parse("runbooks/freeze.yaml", []byte(`name: freeze
origin: guide
steps:
  - name: Freeze the party
    engine: {action: pause}
  - name: Never reached
    heal: true
`))
	if err != nil {
		t.Fatal(err)
	}
	heals := 0
	r, _ := fakeRunner(t, Plan{Faults: []fault.Fault{counted("a filler file", &heals, nil)}, Target: 2})
	r.rbs = []*runbook.Runbook{rb}
	if !r.inject() {
		t.Fatalf("inject: %v", r.fail.err())
	}
	if r.runbooks() {
		t.Error("runbooks went on after an unsupported verb")
	}
	r.finish()
	why, skipped := r.res.Skipped, r.res.Result() == report.ResultSkip
	if !skipped || !strings.Contains(why, `step "Freeze the party"`) || !strings.Contains(why, "pause is not supported") {
		t.Errorf("skipped %v, reason %q; want the step and the backend's reason", skipped, why)
	}
	if r.err != nil || r.res.Passed || heals != 1 || len(r.res.Steps) != 1 {
		t.Errorf("err %v, passed %v, healed %d times, %d steps; want no error, not passed, healed once, the one step run", r.err, r.res.Passed, heals, len(r.res.Steps))
	}
}

// wrongHistory is a workload's history with one wrong decryption through
// party 3, seen during the fault, and one right one through party 2.
func wrongHistory(at time.Time) *workload.History {
	return &workload.History{Ops: []workload.Op{
		{Seq: 1, Party: 2, Want: 7, Got: 7, Start: at, End: at.Add(time.Millisecond), Outcome: workload.OK},
		{Seq: 2, Party: 3, Want: 7, Got: 8, Start: at, End: at.Add(time.Millisecond), Outcome: workload.Wrong, Err: "decrypted 8, the ciphertext holds 7"},
	}}
}

// A skip at injection does not drop what the workload saw before it: a
// wrong value makes the row FAIL, with the skip's reason beside it, and
// the row shows the operations.
func TestSkipAtInjectionStillJudgesTheWorkload(t *testing.T) {
	heals := 0
	r, _ := fakeRunner(t, Plan{Faults: []fault.Fault{counted("a filler file", &heals, nil), fault.Pause(2)}})
	if r.inject() {
		t.Fatal("inject went on after an unsupported verb")
	}
	r.hist = wrongHistory(time.Now())
	r.judgeSeen()
	r.finish()
	res := r.res
	if res.Result() != report.ResultFail || !strings.Contains(res.Error, "1 WRONG decryption(s): op 2 via party 3") {
		t.Errorf("result %s, error %q; want FAIL naming the wrong decryption", res.Result(), res.Error)
	}
	if !strings.Contains(res.Error, "(and the scenario was skipped: injecting pause (freeze) parties [2]") {
		t.Errorf("error %q; want the skip's reason beside the failure", res.Error)
	}
	if res.Ops.OK != 1 || res.Ops.Wrong != 1 {
		t.Errorf("ops %+v; want the operations seen before the skip (1 ok, 1 wrong)", res.Ops)
	}
}

// A skip in a runbook comes after the observation: the operations during
// the fault are judged against the plan, so a party that should be down
// and answered turns the row red.
func TestSkipInARunbookStillJudgesTheFaultWindow(t *testing.T) {
	rb, err := runbook.Parse("runbooks/freeze.yaml", []byte(`name: freeze
origin: guide
steps:
  - name: Freeze the party
    engine: {action: pause}
`))
	if err != nil {
		t.Fatal(err)
	}
	heals := 0
	r, _ := fakeRunner(t, Plan{Faults: []fault.Fault{counted("a filler file", &heals, nil)}, Target: 2,
		During: check.Expect{Down: []int{2}}})
	r.rbs = []*runbook.Runbook{rb}
	if !r.inject() {
		t.Fatalf("inject: %v", r.fail.err())
	}
	at := time.Now()
	r.during = check.Window{From: at.Add(-time.Second), To: at.Add(time.Second)} // the observation, done
	r.hist = &workload.History{Ops: []workload.Op{{Seq: 1, Party: 2, Want: 7, Got: 7, Start: at, End: at, Outcome: workload.OK}}}
	if r.runbooks() {
		t.Fatal("runbooks went on after an unsupported verb")
	}
	r.judgeSeen()
	r.finish()
	if r.res.Result() != report.ResultFail || !strings.Contains(r.res.Error, "1 operations through parties [2] succeeded during the fault") ||
		!strings.Contains(r.res.Error, `step "Freeze the party"`) {
		t.Errorf("result %s, error %q; want FAIL for the party that answered, the skip beside it", r.res.Result(), r.res.Error)
	}
}

// A prelude (a rolling upgrade's waves) is the operation under test: its
// time is the row's prelude, not the harness's injection, which keeps
// only what the harness did around it.
func TestPreludeTimeIsNotTheInjections(t *testing.T) {
	const upgrade = 30 * time.Millisecond
	waves := fault.New("waves", fault.Process, []int{1}, func(ctx context.Context, _ *cluster.Cluster) (fault.Heal, error) {
		select { // the waves' work, which the row must attribute
		case <-time.After(upgrade):
		case <-ctx.Done():
		}
		return nil, nil
	})
	heals := 0
	r, _ := fakeRunner(t, Plan{Prelude: []fault.Fault{waves}, Faults: []fault.Fault{counted("a filler file", &heals, nil)}})
	// As sequence times it: the whole phase is added to Inject after it.
	if !timed(&r.res.Phases.Inject, r.inject) {
		t.Fatalf("inject failed: %v", r.fail.err())
	}
	ph := r.res.Phases
	if ph.Prelude < upgrade {
		t.Errorf("prelude %v, want at least the waves' %v", ph.Prelude, upgrade)
	}
	if ph.Inject >= upgrade || ph.Inject < 0 {
		t.Errorf("inject %v, want what the harness did around the prelude: under the waves' %v and not negative", ph.Inject, upgrade)
	}
}

// A fault that needs a verb the backend lacks (the pages' helm, on a
// backend without it) skips the scenario before anything is injected:
// the faults before it in the plan, which would only set the scene for
// it, are never injected.
func TestAFaultTheBackendCannotRunSkipsBeforeAnyInjection(t *testing.T) {
	heals, injected := 0, 0
	scene := fault.New("every party restarted uninitialised", fault.PRSS, []int{1}, func(context.Context, *cluster.Cluster) (fault.Heal, error) {
		injected++
		return func(context.Context) error { heals++; return nil }, nil
	})
	r, _ := fakeRunner(t, Plan{Faults: []fault.Fault{scene, fault.InitJob(2, time.Second)}})
	if r.inject() {
		t.Fatal("inject went on with a fault the backend cannot run")
	}
	if injected != 0 || heals != 0 {
		t.Errorf("the fault before it was injected %d times and healed %d: the skip came after it", injected, heals)
	}
	r.finish()
	if r.res.Result() != report.ResultSkip || !strings.Contains(r.res.Skipped, "running helm is not supported on the fake backend") {
		t.Errorf("result %s, skipped %q; want a skip naming helm and the backend", r.res.Result(), r.res.Skipped)
	}
}
