package scenario

import (
	"slices"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// fakePhases records the phases called; the one named stop says no, and
// each phase takes a known time so that its duration can be found in
// the right field.
type fakePhases struct {
	stop   string
	called []string
}

// took is how long each fake phase takes: distinct, so a duration in the
// wrong field shows.
var took = map[string]time.Duration{
	"reset": 1, "inject": 2, "detect": 3, "healUndetected": 4, "auditUndetected": 5,
	"observe": 6, "runbooks": 7, "recover": 8, "audit": 9, "judgeSeen": 10,
}

func (f *fakePhases) phase(name string) bool {
	f.called = append(f.called, name)
	time.Sleep(took[name] * time.Millisecond) // the phase's work; the test measures it
	return name != f.stop
}

func (f *fakePhases) reset() bool           { return f.phase("reset") }
func (f *fakePhases) inject() bool          { return f.phase("inject") }
func (f *fakePhases) detect() bool          { return f.phase("detect") }
func (f *fakePhases) healUndetected() bool  { return f.phase("healUndetected") }
func (f *fakePhases) auditUndetected() bool { return f.phase("auditUndetected") }
func (f *fakePhases) observe() bool         { return f.phase("observe") }
func (f *fakePhases) runbooks() bool        { return f.phase("runbooks") }
func (f *fakePhases) recover() bool         { return f.phase("recover") }
func (f *fakePhases) audit() bool           { return f.phase("audit") }
func (f *fakePhases) judgeSeen() bool       { return f.phase("judgeSeen") }

func TestSequence(t *testing.T) {
	for _, tc := range []struct {
		stop string
		want []string
	}{
		{"", []string{"reset", "inject", "detect", "observe", "runbooks", "recover", "audit"}},
		// A bad plan or runbook, a failed injection: nothing more (the
		// heals registered so far run in the spec's cleanup).
		{"reset", []string{"reset"}},
		// Anything that stops the run after the workload started still
		// judges what it saw.
		{"inject", []string{"reset", "inject", "judgeSeen"}},
		// Not detected: the fault is healed and judged, no runbook runs.
		{"detect", []string{"reset", "inject", "detect", "healUndetected", "auditUndetected"}},
		// Interrupted while observing.
		{"observe", []string{"reset", "inject", "detect", "observe", "judgeSeen"}},
		// A runbook that fails still leads to recovery and the audit
		// (runbooks says yes); one that needs a verb the backend cannot
		// offer says no: skipped, and what the workload saw is judged.
		{"runbooks", []string{"reset", "inject", "detect", "observe", "runbooks", "judgeSeen"}},
	} {
		f := &fakePhases{stop: tc.stop}
		var ph report.Phases
		sequence(&ph, f)
		if !slices.Equal(f.called, tc.want) {
			t.Errorf("stop at %q: called %v, want %v", tc.stop, f.called, tc.want)
		}
		if tc.stop == "" {
			// Each phase's time lands in its own field: at least its sleep.
			for field, min := range map[string]struct {
				got  time.Duration
				want time.Duration
			}{
				"reset": {ph.Reset, took["reset"]}, "inject": {ph.Inject, took["inject"]}, "detect": {ph.Detect, took["detect"]},
				"observe": {ph.Observe, took["observe"]}, "runbook": {ph.Runbook, took["runbooks"]},
				"recover": {ph.Recover, took["recover"]}, "audit": {ph.Audit, took["audit"]},
			} {
				if min.got < min.want*time.Millisecond {
					t.Errorf("phase %s took %v, want at least %v", field, min.got, min.want*time.Millisecond)
				}
			}
		}
		if tc.stop == "detect" && (ph.Recover < 4*time.Millisecond || ph.Audit < 5*time.Millisecond || ph.Runbook != 0 || ph.Observe != 0) {
			t.Errorf("undetected: phases %+v, want the heal as recover and its audit as audit, nothing else after detect", ph)
		}
	}
}
