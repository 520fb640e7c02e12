package report

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const (
	nastyName   = "partition <b>& friends"
	guideDefect = "the guide restarts every party at once"
	stepDefect  = "rotate-keys deletes the old share before the new one is stored"
)

func testRun() *Run {
	start := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	s := time.Second
	crash := Scenario{
		Name: "party-crash", Section: "4.2", Kind: "crash", Fault: "kill party 3",
		Parties: []int{3}, Started: start, Duration: 30 * s,
		Detected: true, TTD: 1230 * time.Millisecond,
		Detections: []Detection{{Probe: "health-check", Held: true, At: 1230 * time.Millisecond, Last: "party 3 unreachable"}},
		Runbook:    "restart-party",
		Steps: []Step{
			{Name: "check", Guide: "§4.2 step 1", Command: "kms-health-check live", Took: 850 * time.Millisecond, OK: true, Output: "Overall Status: DEGRADED\n"},
			{Name: "restart", Guide: "§4.2 step 2", Command: "docker restart party-3", Took: 4 * s, OK: true},
		},
		Recovered: true, TTR: 8 * s,
		Ops:        Ops{OK: 280, Failed: 3, FaultOK: 90, FaultFailed: 3, Availability: 0.968},
		DataIntact: true, Passed: true,
		Events: append([]Event{
			{At: 2 * s, End: 12 * s, Lane: LaneFaults, Label: "kill party 3", Status: Fail},
			{At: 2 * s, End: 14 * s, Lane: "party 3", Label: "down", Status: Fail},
			{At: 3 * s, Lane: LaneProbes, Label: "health-check", Status: Warn, Detail: "party 3 unreachable"},
			{At: 12 * s, End: 13 * s, Lane: LaneRunbook, Label: "restart", Status: OK},
		}, workload(300, 100*time.Millisecond, -1)...),
	}
	partition := Scenario{
		Name: nastyName, Section: "5.3", Kind: "partition", Fault: "cut parties 1,2 from the rest",
		Parties: []int{1, 2, 10}, BeyondThreshold: true, Started: start.Add(time.Minute), Duration: 20 * s,
		Detections: []Detection{{Probe: "quorum", Held: false, Last: "still answering"}},
		Runbook:    "heal-partition",
		Steps: []Step{
			{Name: "rotate-keys", Guide: "§5.3 step 2", Command: "kms rotate", Took: 2 * s, Error: stepDefect, Defect: true, Output: strings.Repeat("é", 3000)},
		},
		Ops:       Ops{OK: 150, Failed: 40, Wrong: 1, FaultOK: 10, FaultFailed: 40, FaultWrong: 1, Availability: 0.2},
		FaultLeft: "iptables rule on party 10",
		Defects:   []string{guideDefect},
		Error:     "decryption returned a wrong value",
		Events: append([]Event{
			{At: 1 * s, End: 15 * s, Lane: LaneFaults, Label: "partition", Status: Fail},
			{At: 1 * s, Lane: "party 10", Label: "isolated", Status: Warn},
			{At: 1 * s, Lane: "party 2", Label: "isolated", Status: Warn},
			{At: 16 * s, End: 18 * s, Lane: LaneRunbook, Label: "rotate-keys", Status: Fail, Detail: "<script>alert(1)</script>"},
		}, workload(200, 100*time.Millisecond, 57)...),
	}
	steady := Scenario{Name: "steady-state", Section: "3", Kind: "baseline", Started: start.Add(2 * time.Minute), Duration: 5 * s, DataIntact: true, Passed: true}
	return &Run{
		Seed: 424242, N: 13, T: 4, Machine: "2 cores, 8 GiB", Started: start, Duration: 3 * time.Minute,
		Scenarios: []Scenario{crash, partition, steady},
	}
}

// workload makes n instants every dt, the one at index wrong being wrong.
func workload(n int, dt time.Duration, wrong int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{At: time.Duration(i) * dt, Lane: LaneWorkload, Label: fmt.Sprintf("decrypt #%d", i), Status: OK}
		if i == wrong {
			evs[i].Status, evs[i].Detail = Wrong, "plaintext mismatch"
		}
	}
	return evs
}

func writeHTML(t *testing.T, r *Run) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "reports", "run", "report.html") // parents do not exist yet
	if err := r.WriteHTML(path); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteHTML(t *testing.T) {
	out := writeHTML(t, testRun())

	for _, want := range []string{
		"<!DOCTYPE html>", "kmschaos report",
		"party-crash", "steady-state", html.EscapeString(nastyName),
		"424242", "KMSCHAOS_SEED=424242",
		"<svg", `class="fault-shade"`, "FAIL", "PASS",
		guideDefect, stepDefect,
		`class="s-wrong"`, `<span class="wrong">1</span>`,
		"1.23 s", "850 ms", "96.8 %",
		`id="sc-1" open>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "<script", "<b>&", "<link", "@import"} {
		if strings.Contains(out, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, tag := range []string{"svg", "details", "table", "pre"} {
		if o, c := strings.Count(out, "<"+tag), strings.Count(out, "</"+tag+">"); o != c {
			t.Errorf("%d <%s but %d </%s>", o, tag, c, tag)
		}
	}
	if strings.Contains(out, `id="sc-0" open`) {
		t.Error("a passed scenario is expanded")
	}
	if strings.Contains(out, strings.Repeat("é", maxOutput)) {
		t.Error("step output is not truncated")
	}
}

func TestWriteHTMLEmptyRun(t *testing.T) {
	out := writeHTML(t, &Run{Seed: 7})
	for _, want := range []string{"No scenarios were run", "No defects in the guide", "KMSCHAOS_SEED=7"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(out, "<svg") {
		t.Error("empty run has a timeline")
	}
}

func TestTimelineLanes(t *testing.T) {
	evs := []Event{{Lane: LaneWorkload}, {Lane: "party 10"}, {Lane: "custom"}, {Lane: "party 2"}, {Lane: "party 10"}}
	want := []Lane{"party 2", "party 10", LaneFaults, LaneProbes, LaneRunbook, LaneWorkload, "custom"}
	if got := timelineLanes(evs); !slices.Equal(got, want) {
		t.Errorf("lanes = %q, want %q", got, want)
	}
}

// Instants on the same pixel collapse into one mark, except wrong results,
// which must each stay visible.
func TestMarksCollapseBusyWorkload(t *testing.T) {
	evs := workload(10000, time.Millisecond, 5000)
	tl := &timeline{span: 10 * time.Second}
	ms := tl.marks(evs)
	if len(ms) > tlPlotW+2 {
		t.Errorf("%d marks for 10000 instants, want at most one per pixel", len(ms))
	}
	total := 0
	for _, m := range ms {
		total += 1 + m.more
	}
	if total != len(evs) {
		t.Errorf("marks stand for %d events, want %d", total, len(evs))
	}
	if last := ms[len(ms)-1]; last.Status != Wrong {
		t.Errorf("last mark is %q, want the wrong result on top", last.Status)
	}
}

// The workload's operations, spans of a few ms each, draw as one run per
// stretch of a status: a pause in the workload stays a gap, each failure
// among successes stays visible over them, a wrong value stays its own
// mark on top, and every operation is counted in a run.
func TestWorkloadDrawsAsRuns(t *testing.T) {
	ms := time.Millisecond
	var evs []Event
	for at := time.Duration(0); at < 60*time.Second; at += 80 * ms {
		if at >= 30*time.Second && at < 35*time.Second {
			continue // the workload paused
		}
		e := Event{At: at, End: at + 40*ms, Lane: LaneWorkload, Label: "decrypt via party 2", Status: OK}
		if at >= 10*time.Second && at < 20*time.Second && at%(2*time.Second) == 0 {
			e.Status, e.Detail = Fail, "Unavailable: party 3 unreachable"
		}
		if at == 50*time.Second {
			e.Status = Wrong
		}
		evs = append(evs, e)
	}
	tl := &timeline{span: 60 * time.Second}
	marks := tl.marks(evs)
	var ok, failed, wrong, total int
	for i, m := range marks {
		total += 1 + m.more
		switch m.Status {
		case OK:
			ok++
			if failed > 0 || wrong > 0 {
				t.Errorf("mark %d: a successful run drawn over a failure", i)
			}
		case Fail:
			failed++
		case Wrong:
			wrong++
		}
	}
	if ok != 2 || failed != 5 || wrong != 1 {
		t.Errorf("%d successful runs, %d failed, %d wrong marks; want 2 (either side of the pause), 5 (two seconds apart), 1", ok, failed, wrong)
	}
	if total != len(evs) {
		t.Errorf("marks stand for %d operations, want %d", total, len(evs))
	}
	if last := marks[len(marks)-1]; last.Status != Wrong {
		t.Errorf("last mark is %q, want the wrong result on top", last.Status)
	}
	if first := marks[0]; first.End < 29*time.Second || !strings.HasPrefix(first.title(), "370 operations [ok], 0 s → 30.0 s") {
		t.Errorf("the first run ends at %v, titled %q; want it to last until the pause and count its operations", first.End, first.title())
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                        "0 s",
		500:                      "500 ns",
		42 * time.Microsecond:    "42 µs",
		2500 * time.Microsecond:  "2.5 ms",
		850 * time.Millisecond:   "850 ms",
		1234 * time.Millisecond:  "1.23 s",
		12340 * time.Millisecond: "12.3 s",
		125 * time.Second:        "2 min 05 s",
		90 * time.Minute:         "1 h 30 min",
		-2 * time.Second:         "-2.00 s",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%d) = %q, want %q", d, got, want)
		}
	}
}

func TestTickStep(t *testing.T) {
	for span, want := range map[time.Duration]time.Duration{
		30 * time.Second:        5 * time.Second,
		8 * time.Second:         time.Second,
		time.Second:             200 * time.Millisecond,
		10 * time.Minute:        100 * time.Second,
		1500 * time.Millisecond: 200 * time.Millisecond,
	} {
		if got := tickStep(span); got != want {
			t.Errorf("tickStep(%v) = %v, want %v", span, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	s := strings.Repeat("é", 50) // 2 bytes each: a cut at 25 falls mid-rune
	got := clip(s, 25)
	if !utf8.ValidString(got) || !strings.HasPrefix(got, strings.Repeat("é", 12)+"…") {
		t.Errorf("clip = %q", got)
	}
	if got := clip("short\n", 25); got != "short" {
		t.Errorf("clip(short) = %q", got)
	}
}

func TestWriteTextListsScenariosAndDefects(t *testing.T) {
	r := &Run{Seed: 7, N: 4, T: 1, Scenarios: []Scenario{
		{Name: "a", Section: "S", Passed: true, Detected: true, Detections: []Detection{{Probe: "p", Held: true}}, Recovered: true, DataIntact: true, Keys: KeysIntact},
		{Name: "b", Section: "S", Steps: []Step{{Name: "chmod", Defect: true, Error: "permission denied"}}, Error: "did not recover after the runbooks", Keys: KeysChanged},
	}}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"1 of 2 scenarios passed", "PASS", "FAIL", "CHANGED", `step "chmod"`, "permission denied", "Failed:\n- b: did not recover after the runbooks"} {
		if !strings.Contains(out, want) {
			t.Errorf("text scorecard lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteTextSaysWhoRecoveredAndLostKeys(t *testing.T) {
	r := &Run{Seed: 7, N: 4, T: 1, Scenarios: []Scenario{
		{Name: "by the guide", Section: "S", Passed: true, Recovered: true, TTR: time.Second, RecoveredBy: ByGuide, DataIntact: true, Keys: KeysIntact},
		{Name: "restored", Section: "S", Passed: true, Recovered: true, TTR: time.Second, RecoveredBy: ByReset, DataIntact: true, Keys: KeysLost},
		{Name: "healed", Section: "S", Passed: true, Recovered: true, TTR: time.Second, RecoveredBy: ByHarness, DataIntact: true, Keys: KeysIntact},
	}}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"RECOVERED BY", "reset", "lost", "Recovered by: 1 by the guide as written, 1 by the harness undoing its own fault (TTR measures the harness), 1 by a reset by the harness"} {
		if !strings.Contains(out, want) {
			t.Errorf("text scorecard lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, "restored") && !strings.Contains(line, " lost ") {
			t.Errorf("keys restored by the harness after a loss must read lost: %q", line)
		}
	}
	var h strings.Builder
	if err := pageTmpl.Execute(&h, newPage(r)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), `title="the harness, not the guide, brought the cluster back`) {
		t.Errorf("HTML does not flag a recovery by the harness")
	}
}
