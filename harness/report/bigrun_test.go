package report

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// bigRun is a run the size of the real catalog at n=13: 55 scenarios in
// the guide's 8 sections, each about 75 s with a 13-party timeline, about
// 13 decryptions a second from the injection on, and 10 runbook steps of
// 4 KiB of output each. Six fail and four are skipped.
func bigRun() *Run {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	sections := []string{"Startup Issues", "Connectivity Issues", "Performance Issues", "Threshold Network Issues",
		"Storage Issues", "Key Management Issues", "Process Issues", "Emergency Procedures"}
	r := &Run{Seed: 878207669, N: 13, T: 4, Machine: "2 cores, 24 GiB", Backend: "docker", Started: start, Duration: 71 * time.Minute}
	for i := range 55 {
		r.Scenarios = append(r.Scenarios, bigScenario(rng, i, sections[i%len(sections)], start.Add(time.Duration(i)*75*time.Second)))
	}
	return r
}

func bigScenario(rng *rand.Rand, i int, section string, started time.Time) Scenario {
	s := time.Second
	party := 1 + i%13
	dur := 70*s + time.Duration(rng.IntN(20))*s
	injectAt, healAt := 12*s, 40*s
	sc := Scenario{
		Name:    fmt.Sprintf("a party whose %s fault #%d is found by the guide's diagnostics and healed by its runbook", strings.ToLower(section), i),
		Section: section, Kind: "network", Fault: fmt.Sprintf("partition party %d from its peers", party), Parties: []int{party},
		Started: started, Duration: dur,
		Phases:   Phases{Reset: 10 * s, Inject: 2 * s, Detect: 3 * s, Observe: 3 * s, Runbook: 20 * s, Recover: 5 * s, Audit: dur - 43*s},
		Detected: true, TTD: 2700 * time.Millisecond,
		Detections: []Detection{
			{Probe: "health-check grade below Optimal", Held: true, At: 2700 * time.Millisecond, Last: fmt.Sprintf("party %d: Degraded", party)},
			{Probe: "decryption through the party fails", Held: true, At: 1900 * time.Millisecond, Last: "context deadline exceeded"},
		},
		Runbook: "restore-connectivity", Recovered: true, TTR: 25 * s, RecoveredBy: ByGuide,
		Ops:  Ops{OK: 700, Failed: 40, FaultOK: 300, FaultFailed: 40, Availability: 0.97},
		Keys: KeysIntact, DataIntact: true, Passed: true,
	}
	for j := range 10 {
		sc.Steps = append(sc.Steps, Step{
			Name: fmt.Sprintf("step %d of the runbook", j+1), Guide: fmt.Sprintf("%s, step %d", section, j+1),
			Command: fmt.Sprintf("docker exec party-%d kms-health-check live --endpoint localhost:50100", party),
			Took:    time.Duration(300+rng.IntN(3000)) * time.Millisecond, OK: true, Output: stepOutput(rng, 4096),
		})
	}
	switch {
	case i%9 == 4: // six failures, each its own way
		sc.Passed = false
		switch i / 9 {
		case 0, 3:
			sc.Recovered, sc.RecoveredBy, sc.TTR = false, "", 0
			sc.Error = fmt.Sprintf("did not recover after the runbooks: party %d still Degraded after 2m0s; its last health check:\n", party) + stepOutput(rng, 1500)
			sc.Steps[6].OK, sc.Steps[6].Defect = false, true
			sc.Steps[6].Error = "exit 1: " + stepOutput(rng, 600)
			sc.Defects = []string{"the guide restarts every party at once"}
		case 1:
			sc.Ops.Wrong, sc.Ops.FaultWrong = 1, 1
			sc.Wrongs = []string{fmt.Sprintf("party %d returned 17 for a ciphertext of 42 (seen by the workload)", party)}
			sc.Error = "a WRONG decryption is on record: " + sc.Wrongs[0]
		case 2:
			sc.Keys, sc.DataIntact = KeysChanged, false
			sc.Error = fmt.Sprintf("key material CHANGED: party %d's key share differs from the baseline", party)
		case 4:
			sc.FaultLeft = fmt.Sprintf("iptables rule DROP on party %d", party)
			sc.Error = "a fault was left on the cluster: " + sc.FaultLeft
		default:
			sc.Detected, sc.TTD = false, 0
			sc.Detections[0].Held, sc.Detections[0].At, sc.Detections[0].Last = false, 0, "Optimal"
			sc.Error = "not detected within 30s: health-check grade below Optimal never held (last seen: Optimal)"
		}
	case i%13 == 12: // four skips
		sc = Scenario{Name: sc.Name, Section: section, Kind: "process", Fault: "freeze party 3", Parties: []int{3}, Started: started,
			Skipped: "injecting pause (freeze) parties [3]: party 3: Pause is not supported on the kubernetes backend: a pod cannot be frozen"}
		return sc
	}
	rec := []Event{{At: injectAt, End: healAt, Lane: LaneFaults, Label: sc.Fault, Status: Fail}}
	for p := 1; p <= 13; p++ {
		if p == party {
			rec = append(rec, Event{At: 0, End: injectAt + s, Lane: PartyLane(p), Label: "Optimal", Status: OK},
				Event{At: injectAt + s, End: healAt + 3*s, Lane: PartyLane(p), Label: "Degraded", Status: Warn},
				Event{At: healAt + 3*s, End: dur, Lane: PartyLane(p), Label: "Optimal", Status: OK})
			continue
		}
		rec = append(rec, Event{At: 0, End: dur, Lane: PartyLane(p), Label: "Optimal", Status: OK})
	}
	for k := range 12 {
		at := injectAt + time.Duration(k)*250*time.Millisecond
		rec = append(rec, Event{At: at, Lane: LaneProbes, Label: "health-check", Status: Warn, Detail: fmt.Sprintf("party %d: Degraded", party)})
	}
	at := healAt - 20*s
	for _, st := range sc.Steps {
		status := OK
		if !st.OK {
			status = Fail
		}
		rec = append(rec, Event{At: at, End: at + st.Took, Lane: LaneRunbook, Label: st.Name, Status: status})
		at += st.Took
	}
	for t := injectAt; t < dur; t += 77 * time.Millisecond {
		p := 1 + rng.IntN(13)
		e := Event{At: t, End: t + time.Duration(20+rng.IntN(60))*time.Millisecond, Lane: LaneWorkload,
			Label: fmt.Sprintf("decrypt via party %d", p), Status: OK}
		if p == party && t > injectAt && t < healAt {
			e.Status, e.Detail = Fail, "DeadlineExceeded: context deadline exceeded"
		}
		rec = append(rec, e)
	}
	sc.Events = rec
	return sc
}

// stepOutput is n bytes of what a health check prints.
func stepOutput(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		p := 1 + rng.IntN(13)
		fmt.Fprintf(&b, "party-%d  peer %d: Optimal, last seen %d ms ago, %d shares, epoch %x\n", p, rng.IntN(13)+1, rng.IntN(900), rng.IntN(40), rng.Uint32())
	}
	return b.String()[:n]
}
