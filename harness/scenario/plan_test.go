package scenario

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/runbook"
)

func restartRunbook(t *testing.T) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Parse("runbooks/restart.yaml", []byte(`name: restart
origin: guide
steps:
  - name: Restart it
    engine: {action: restart}
`))
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

// A plan is refused at load, before anything is injected, where its row
// would claim what the run cannot know.
func TestPlanRefusedAtLoad(t *testing.T) {
	kill := fault.Kill(1)
	seen := probe.New("something", func(context.Context, *cluster.Cluster) error { return nil })
	for _, tc := range []struct {
		name string
		plan Plan
		want string // "" for a plan that loads
	}{
		{"faults and no detection", Plan{Faults: []fault.Fault{kill}}, "injects SIGKILL parties [1] but declares no detection"},
		{"faults and a reason for no detection", Plan{Faults: []fault.Fault{kill}, NoDetection: "only the audit sees it"}, ""},
		{"both", Plan{Faults: []fault.Fault{kill}, Detect: []probe.Probe{seen}, NoDetection: "x"}, "both a detection and NoDetection"},
		{"no faults, no detection", Plan{}, ""},
		{"a defect in a runbook the plan does not run", Plan{ExpectDefect: Defect{Step: "other/Restart it", Reason: "x"}}, `no runbook of the plan is named "other"`},
		{"a defect naming a step the runbook lacks", Plan{ExpectDefect: Defect{Step: "restart/Restart all", Reason: "x"}}, `runbook "restart" (runbooks/restart.yaml) has no step "Restart all"`},
		{"a defect with no runbook/step form", Plan{ExpectDefect: Defect{Step: "Restart it", Reason: "x"}}, "write it runbook/step"},
		{"a defect without a reason", Plan{ExpectDefect: Defect{Step: "restart/Restart it"}}, "gives no reason"},
		{"a defect with a bad reason", Plan{ExpectDefect: Defect{Step: "restart/Restart it", Reason: "(["}}, "error parsing regexp"},
		{"a defect of a step the plan runs", Plan{ExpectDefect: Defect{Step: "restart/Restart it", Reason: "exit"}}, ""},
	} {
		err := tc.plan.validate([]*runbook.Runbook{restartRunbook(t)})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// A plan that declares no detection claims no time to detect: the row is
// not "detected at 0 s".
func TestNoDetectionClaimsNoDetection(t *testing.T) {
	r, _ := fakeRunner(t, Plan{Faults: []fault.Fault{fault.Kill(1)}, NoDetection: "only the audit sees it"})
	r.faultStart = r.res.Started
	if !r.detect() {
		t.Fatal("detect said no")
	}
	if r.res.Detected || r.res.TTD != 0 || len(r.res.Detections) != 0 {
		t.Errorf("detected %v, TTD %s, %d detections; want no detection claimed", r.res.Detected, r.res.TTD, len(r.res.Detections))
	}
}

// The availability verdict's window starts when the faults are in, not
// when they are detected, and lasts at least Observe from there: a
// detection slower than Observe has covered it, and the observation ends
// at once instead of starting over.
func TestTheObservationOverlapsTheDetection(t *testing.T) {
	const observe = 300 * time.Millisecond
	for _, tc := range []struct {
		name                string
		injected            time.Duration // before the observation starts
		notBefore, notAfter time.Duration // the window's end, after the injection
	}{
		// Injected 10 s ago (a slow detection): the window is those 10 s.
		{"slow detection", -10 * time.Second, 10 * time.Second, 10*time.Second + observe},
		// Injected just now (a quick detection): it still lasts Observe.
		{"quick detection", -10 * time.Millisecond, observe, 2 * observe},
	} {
		r, _ := fakeRunner(t, Plan{Faults: []fault.Fault{fault.Kill(1)}, Observe: observe})
		start := time.Now()
		r.injectedAt = start.Add(tc.injected)
		r.faultStart = r.injectedAt.Add(-time.Millisecond)
		if !r.observe() {
			t.Fatalf("%s: observe said no", tc.name)
		}
		if !r.during.From.Equal(r.injectedAt) {
			t.Errorf("%s: the window starts %s after the injection, want at it", tc.name, r.during.From.Sub(r.injectedAt))
		}
		if end := r.during.To.Sub(r.injectedAt); end < tc.notBefore || end > tc.notAfter {
			t.Errorf("%s: the window ends %s after the injection, want between %s and %s", tc.name, end, tc.notBefore, tc.notAfter)
		}
	}
}

// When the runbooks begin with steps that only look, the observation goes
// on through them and ends before the first step that acts: its wait
// overlaps them, and is counted as the observation's, not the runbook's
// nor the time to recover.
func TestTheObservationOverlapsTheLookingSteps(t *testing.T) {
	const observe = 300 * time.Millisecond
	parse := func(first string) *runbook.Runbook {
		rb, err := runbook.Parse("r.yaml", []byte(`name: r
origin: repaired
steps:
  - name: First
    exec: {command: [`+first+`]}
`))
		if err != nil {
			t.Fatal(err)
		}
		return rb
	}

	r, _ := fakeRunner(t, Plan{Faults: []fault.Fault{fault.Kill(1)}, Observe: observe})
	r.injectedAt = time.Now()
	r.rbs = []*runbook.Runbook{parse("kms-health-check, live")}
	start := time.Now()
	if !r.observe() || r.observed || time.Since(start) > observe/2 {
		t.Fatalf("first step looks: observe took %s, ended the observation %v; want it to return at once, the observation going on", time.Since(start), r.observed)
	}
	r.rbStart = time.Now()
	rbStart := r.rbStart
	if err := r.actNext(t.Context()); err != nil {
		t.Fatal(err)
	}
	wait := r.res.Phases.Observe
	if end := r.during.To.Sub(r.injectedAt); end < observe || end > 2*observe {
		t.Errorf("the window ends %s after the injection, want between %s and %s", end, observe, 2*observe)
	}
	if wait < observe/2 || r.res.Phases.Runbook != -wait || r.rbStart.Sub(rbStart) != wait {
		t.Errorf("the wait (%s) is counted as the observation's %s, taken from the runbook's %s and from the time to recover (start moved by %s)",
			wait, r.res.Phases.Observe, r.res.Phases.Runbook, r.rbStart.Sub(rbStart))
	}
	if err := r.actNext(t.Context()); err != nil || r.res.Phases.Observe != wait {
		t.Errorf("a second act waited again: %v, observation %s, want %s", err, r.res.Phases.Observe, wait)
	}

	// A first step that acts: the observation ends in its own phase.
	r, _ = fakeRunner(t, Plan{Faults: []fault.Fault{fault.Kill(1)}, Observe: observe})
	r.injectedAt = time.Now()
	r.rbs = []*runbook.Runbook{parse("kms-admin, cp, a, b")}
	if !r.observe() || !r.observed || r.during.To.Sub(r.injectedAt) < observe {
		t.Errorf("first step acts: observation ended %v, window %s; want it ended after %s", r.observed, r.during.To.Sub(r.injectedAt), observe)
	}
}

// A plan without faults (a procedure run on a healthy cluster) has no
// fault to observe: no wait, and no window for the availability verdict.
func TestNoFaultNoObservation(t *testing.T) {
	r, _ := fakeRunner(t, Plan{Observe: time.Second})
	r.injectedAt = time.Now()
	start := time.Now()
	if !r.observe() || time.Since(start) > 100*time.Millisecond || !r.during.From.IsZero() {
		t.Errorf("observe took %s, window from %v; want no wait and no window", time.Since(start), r.during.From)
	}
}
