package report

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// phasedRun has one scenario with phases (30 s: 2 s detecting, 5 s of
// runbook, 3 s recovering, so 20 s of the harness's own) and one row a
// spec wrote by hand, without phases.
func phasedRun() *Run {
	s := time.Second
	return &Run{Seed: 7, N: 4, T: 1, Scenarios: []Scenario{
		{Name: "phased", Section: "S", Passed: true, Duration: 30 * s, Detected: true, TTD: 2 * s, Recovered: true, TTR: 8 * s,
			Detections: []Detection{{Probe: "p", Held: true, At: 2 * s}}, DataIntact: true,
			Phases: Phases{Reset: 12 * s, Inject: s, Detect: 2 * s, Observe: 3 * s, Runbook: 5 * s, Recover: 3 * s, Audit: 4 * s}},
		{Name: "by hand", Section: "S", Passed: true, Duration: 15 * s, DataIntact: true},
	}}
}

func TestOverheadIsWhatIsNeitherDetectingNorRecovering(t *testing.T) {
	r := phasedRun()
	if o, ok := r.Scenarios[0].Overhead(); !ok || o != 20*time.Second {
		t.Errorf("overhead = %v, %v; want 20 s", o, ok)
	}
	// A row without phases has no overhead to show, not its whole duration.
	if o, ok := r.Scenarios[1].Overhead(); ok {
		t.Errorf("a row without phases has overhead %v", o)
	}
	if got := r.Scenarios[0].Phases.Total(); got != 30*time.Second {
		t.Errorf("total of the phases = %v, want 30 s", got)
	}
	// A prelude is the operation under test (a rolling upgrade), not the
	// harness's: it is no overhead, and the harness's share says so.
	up := r.Scenarios[0]
	up.Duration += 10 * time.Second
	up.Phases.Prelude = 10 * time.Second
	if o, _ := up.Overhead(); o != 20*time.Second {
		t.Errorf("overhead with a 10 s prelude = %v, want 20 s", o)
	}
	withPrelude := &Run{Scenarios: []Scenario{up}}
	if got, want := withPrelude.PhaseSummary(), "reset 12.0 s (30%), prelude 10.0 s (25%), inject 1.00 s (2%)"; !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "; the harness's share 50.0%") {
		t.Errorf("summary with a prelude = %q, want it to start %q and end with a share of 50.0%%", got, want)
	}
}

func TestWriteTextShowsOverheadAndTimeByPhase(t *testing.T) {
	var b strings.Builder
	if err := phasedRun().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "OVERHEAD") {
		t.Errorf("no OVERHEAD column:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasSuffix(line, "phased") && !regexp.MustCompile(`PASS +2\.00 s +8\.00 s +20\.0 s `).MatchString(line):
			t.Errorf("row lacks TTD, TTR and overhead in order: %q", line)
		case strings.HasSuffix(line, "by hand") && !regexp.MustCompile(`PASS +- +- +- `).MatchString(line):
			t.Errorf("a row without phases shows an overhead: %q", line)
		}
	}
	want := "Time by phase: reset 12.0 s (40%), inject 1.00 s (3%), detect 2.00 s (7%), observe 3.00 s (10%), runbook 5.00 s (17%), recover 3.00 s (10%), audit 4.00 s (13%); the harness's share 66.7%"
	if !strings.Contains(out, want) {
		t.Errorf("text scorecard lacks %q:\n%s", want, out)
	}
	// No phases at all: no line claiming where the time went.
	b.Reset()
	if err := (&Run{Scenarios: []Scenario{{Name: "x"}}}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "Time by phase") {
		t.Errorf("a run without phases has a time by phase:\n%s", b.String())
	}
}

func TestWriteHTMLDrawsPhasesToScale(t *testing.T) {
	out := writeHTML(t, phasedRun())
	// The longest scenario fills the bar: reset is 12/30 of 160 px.
	for _, want := range []string{
		`<i class="ph-reset" style="width: 64.0px" title="reset 12.0 s">`,
		`<i class="ph-audit" style="width: 21.3px" title="audit 4.00 s">`,
		"30.0 s, overhead 20.0 s",
		"Time by phase</dt><dd>reset 12.0 s (40%)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(out, "ZgotmplZ") {
		t.Error("the template refused a value (ZgotmplZ)")
	}
	if n := strings.Count(out, `<i class="ph-`); n != 7 {
		t.Errorf("%d phase segments, want 7 (one scenario has no phases)", n)
	}
}

func TestPhaseBarScalesToTheLongest(t *testing.T) {
	p := Phases{Reset: time.Second, Detect: 3 * time.Second}
	segs := phaseBar(p, 8*time.Second)
	if len(segs) != 2 || segs[0].Width != "20.0" || segs[1].Width != "60.0" {
		t.Errorf("segments = %+v, want reset 20 px and detect 60 px (phases of zero left out)", segs)
	}
	if phaseBar(Phases{}, time.Second) != nil {
		t.Error("a row without phases has a bar")
	}
}
