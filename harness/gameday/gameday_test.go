package gameday

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/report"
)

var topo13 = cluster.Topology{N: 13, T: 4}

// Every draw stays within the budget (t parties in all), the same seed
// draws the same faults, and the schedule is one fault per --every.
func TestPlanWithinBudgetAndSeeded(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		o := Options{Seed: seed, Faults: 6, Every: time.Minute, Limit: time.Hour}
		fs, err := Plan(topo13, o)
		if err != nil {
			t.Fatal(err)
		}
		var touched []int
		for k, f := range fs {
			touched = append(touched, f.Parties...)
			if f.At != time.Duration(k+1)*time.Minute {
				t.Errorf("seed %d: fault %d due at %s", seed, k+1, f.At)
			}
			if strings.Contains(f.Tag, f.Kind) {
				t.Errorf("seed %d: tag %q tells the kind", seed, f.Tag)
			}
		}
		slices.Sort(touched)
		if n := len(slices.Compact(touched)); n > topo13.T {
			t.Fatalf("seed %d: the faults touch %d parties, over t=%d: %+v", seed, n, topo13.T, fs)
		}
		again, _ := Plan(topo13, o)
		for k := range fs {
			if fs[k].Kind != again[k].Kind || fs[k].Target() != again[k].Target() {
				t.Fatalf("seed %d: drew %s on %s, then %s on %s", seed, fs[k].Kind, fs[k].Target(), again[k].Kind, again[k].Target())
			}
		}
	}
}

func TestPlanKindsAndBadInput(t *testing.T) {
	fs, err := Plan(cluster.Topology{N: 4, T: 1}, Options{Seed: 1, Faults: 3, Every: time.Second, Limit: time.Minute, Kinds: []string{"kill", "link-hang"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Kind != "kill" && f.Kind != "link-hang" {
			t.Errorf("drew %s outside --kinds", f.Kind)
		}
	}
	for _, o := range []Options{
		{Faults: 0, Every: time.Second, Limit: time.Second},
		{Faults: 1, Every: 0, Limit: time.Second},
		{Faults: 1, Every: time.Second, Limit: time.Second, Kinds: []string{"kil"}},
	} {
		var in *InputError
		if _, err := Plan(topo13, o); !errors.As(err, &in) {
			t.Errorf("%+v: %v, want an input error", o, err)
		}
	}
	if _, err := Plan(topo13, Options{Faults: 1, Every: time.Second, Limit: time.Second, Kinds: []string{"kil"}}); !strings.Contains(err.Error(), `did you mean "kill"`) {
		t.Errorf("unknown kind: %v", err)
	}
}

func game(start time.Time) *State {
	return &State{Header: Header{Started: start}, Faults: []Fault{
		{Kind: "kill", Party: 2, Parties: []int{2}, Tag: "gd-x-1", InjectedAt: start.Add(10 * time.Second)},
		{Kind: "link-hang", Link: [2]int{3, 1}, Parties: []int{3}, Tag: "gd-x-2", InjectedAt: start.Add(time.Minute)},
	}}
}

// A diagnosis is right for the right party and kind of a fault injected
// by then; the wrong party, the wrong kind, or a fault not injected yet
// is wrong.
func TestScore(t *testing.T) {
	start := time.Now()
	s := game(start)
	for _, c := range []struct {
		party int
		kind  string
		at    time.Duration
		right bool
		fault int
	}{
		{2, "kill", 20 * time.Second, true, 0},
		{3, "kill", 20 * time.Second, false, -1},      // wrong party
		{2, "stop", 20 * time.Second, false, -1},      // wrong kind
		{2, "kill", 5 * time.Second, false, -1},       // before the injection
		{1, "link-hang", 30 * time.Second, false, -1}, // not injected yet
		{1, "link-hang", 70 * time.Second, true, 1},   // either end of the link
		{3, "link-hang", 70 * time.Second, true, 1},   //
		{4, "link-hang", 70 * time.Second, false, -1}, // not on the link
	} {
		d := Score(s, Diagnosis{At: start.Add(c.at), Party: c.party, Kind: c.kind})
		if d.Right != c.right || d.Fault != c.fault {
			t.Errorf("party %d %s at +%s: right %v fault %d, want %v %d", c.party, c.kind, c.at, d.Right, d.Fault, c.right, c.fault)
		}
	}
}

// The report's numbers per fault: first right diagnosis, wrong ones while
// it was on, time to recovery and by whom.
func TestResultsAndText(t *testing.T) {
	start := time.Now().Add(-5 * time.Minute)
	s := game(start)
	s.Faults[0].RecoveredAt, s.Faults[0].RecoveredBy = start.Add(50*time.Second), ByPlayers
	s.Faults[1].RecoveredAt, s.Faults[1].RecoveredBy = start.Add(3*time.Minute), ByHarness
	s.Ended, s.Keys = start.Add(4*time.Minute), report.KeysIntact
	// Recorded unscored, as the players' command does: the report scores
	// each at its own time.
	diags := []Diagnosis{
		{At: start.Add(15 * time.Second), Party: 1, Kind: "pause"},
		{At: start.Add(30 * time.Second), Party: 2, Kind: "kill"},
		{At: start.Add(40 * time.Second), Party: 2, Kind: "kill"},
		{At: start.Add(90 * time.Second), Party: 4, Kind: "isolate"},
	}
	rs := Results(s, diags)
	if !rs[0].Diagnosed || rs[0].FirstRight != 20*time.Second || rs[0].Wrong != 1 || !rs[0].Recovered || rs[0].TTR != 40*time.Second {
		t.Errorf("fault 1: %+v", rs[0])
	}
	if rs[1].Diagnosed || rs[1].Wrong != 1 || rs[1].Recovered || rs[1].TTR != 2*time.Minute {
		t.Errorf("fault 2: %+v", rs[1])
	}
	var b bytes.Buffer
	WriteText(&b, s, diags, nil)
	for _, want := range []string{
		"diagnosed       right, 20s after the injection",
		"recovered       by the players, 40s after the injection",
		"NOT diagnosed right",
		"recovered       NOT RECOVERED: healed by the harness 2m0s after the injection",
		"left on the cluster after the game day: nothing",
		"party 1, pause: wrong",
		"party 2, kill: right (fault 1)",
		"party 4, isolate: wrong",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	f := Build(s, diags, nil)
	if f.Passed {
		t.Error("a game day with a fault the players did not recover passed")
	}
	players := 0
	for _, e := range f.Events {
		if e.Lane == report.LanePlayers {
			players++
		}
	}
	if players != len(diags) {
		t.Errorf("%d events in the players' lane, want %d", players, len(diags))
	}
}

// A fault is present while the audit shows anything of it: its party's
// state, a toxic named by its tag, a disabled link of its party; gone
// when the audit shows nothing of it (another party's trouble is not
// its own).
func TestPresent(t *testing.T) {
	kill := Fault{Kind: "kill", Party: 2, Parties: []int{2}, Tag: "gd-a-1"}
	hang := Fault{Kind: "link-hang", Link: [2]int{3, 1}, Parties: []int{3}, Tag: "gd-a-2"}
	refused := Fault{Kind: "link-refused", Link: [2]int{3, 1}, Parties: []int{3}, Tag: "gd-a-3"}
	clean := cluster.ResetReport{}
	for _, c := range []struct {
		rep  cluster.ResetReport
		f    Fault
		want bool
	}{
		{clean, kill, false},
		{cluster.ResetReport{Repaired: map[int][]string{2: {"not running (exited)"}}}, kill, true},
		{cluster.ResetReport{Repaired: map[int][]string{4: {"paused"}}}, kill, false},
		{cluster.ResetReport{Mesh: []string{"p3-p1 has toxic gd-a-2 (timeout)"}}, hang, true},
		{cluster.ResetReport{Mesh: []string{"p3-p1 has toxic gd-a-9 (timeout)"}}, hang, false},
		{cluster.ResetReport{Mesh: []string{"p3-p1 disabled"}}, refused, true},
		{cluster.ResetReport{Mesh: []string{"p2-p4 disabled"}}, refused, false},
		{cluster.ResetReport{Mesh: []string{"client-p2 disabled"}}, kill, true},
	} {
		if got := Present(c.rep, c.f); got != c.want {
			t.Errorf("%s with %s: present %v, want %v", c.f.Kind, c.rep, got, c.want)
		}
	}
}

// The sealed file is its owner's alone from its creation, holds the
// truth, and is never overwritten.
func TestSeal(t *testing.T) {
	s := game(time.Now())
	s.ID, s.Dir = "abc123", t.TempDir()
	p, err := Seal(s)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("sealed file %s: %v, mode %v", p, err, st.Mode())
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), `"kind": "kill"`) || !strings.Contains(string(b), `"target": "link 3-1"`) {
		t.Errorf("the sealed file does not tell the truth:\n%s", b)
	}
	if _, err := Seal(s); err == nil {
		t.Error("a second Seal overwrote the sealed file")
	}
}

// Every kind of the table can be drawn on a backend that offers it, and
// only there: a kind a game day could never draw would be a gap in the
// exercise, one drawn where the backend lacks its verb a fault that never
// comes (InjectError).
func TestEveryKindDrawableWhereOffered(t *testing.T) {
	drawn := map[string]bool{}
	for _, on := range []fault.Platform{
		{Backend: fault.Docker, VolumesSized: true},
		{Backend: fault.Kubernetes, VolumesSized: true},
		{Backend: fault.Kubernetes}, // hostPath volumes (the local cluster)
	} {
		offered := map[string]bool{}
		for _, k := range fault.Kinds() {
			offered[k.Name] = k.OfferedOn(on) == nil
		}
		seen := map[string]bool{}
		for seed := uint64(0); seed < 400; seed++ {
			fs, err := Plan(cluster.Topology{N: 4, T: 1}, Options{Seed: seed, Faults: 3, Every: time.Second, Limit: time.Second, On: on})
			if err != nil {
				t.Fatalf("%+v: %v", on, err)
			}
			for _, f := range fs {
				seen[f.Kind], drawn[f.Kind] = true, true
			}
		}
		for _, k := range fault.Kinds() {
			if offered[k.Name] != seen[k.Name] {
				t.Errorf("%+v: kind %s offered %v, drawn in 400 seeds %v", on, k.Name, offered[k.Name], seen[k.Name])
			}
		}
	}
	for _, k := range fault.Kinds() {
		if !drawn[k.Name] {
			t.Errorf("kind %s is drawn on no backend", k.Name)
		}
	}
}

// The draw on Kubernetes: evict among the kinds, pause, a held port and
// memory pressure never (no verb for them), the disk fill only where
// volumes have a size; on Docker never evict. A kind asked for that the
// backend lacks is the facilitator's to change, told in one line.
func TestDrawKnowsTheBackend(t *testing.T) {
	kube := fault.Platform{Backend: fault.Kubernetes}
	never := []string{"pause", "port-held", "memory-pressure", "disk-full"}
	seen := map[string]bool{}
	for seed := uint64(0); seed < 300; seed++ {
		fs, err := Plan(topo13, Options{Seed: seed, Faults: 4, Every: time.Second, Limit: time.Second, On: kube})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			seen[f.Kind] = true
		}
	}
	for _, k := range never {
		if seen[k] {
			t.Errorf("a game day on Kubernetes (hostPath volumes) drew %s", k)
		}
	}
	if !seen["evict"] {
		t.Error("a game day on Kubernetes never drew evict in 300 seeds")
	}
	for _, c := range []struct {
		on   fault.Platform
		kind string
		says string
	}{
		{kube, "pause", "--kinds: fault kind pause is not offered on the kubernetes backend (only on docker)"},
		{kube, "disk-full", "--kinds: fault kind disk-full is not offered on this kubernetes cluster: only where each party's volume has a size of its own"},
		{fault.Platform{}, "evict", "--kinds: fault kind evict is not offered on the docker backend (only on kubernetes)"},
	} {
		_, err := Plan(topo13, Options{Faults: 1, Every: time.Second, Limit: time.Second, Kinds: []string{"kill", c.kind}, On: c.on})
		var in *InputError
		if !errors.As(err, &in) || !strings.HasPrefix(err.Error(), c.says) || strings.Contains(err.Error(), "\n") {
			t.Errorf("--kinds kill,%s on %+v: %v; want one line saying %q", c.kind, c.on, err, c.says)
		}
	}
}

// The runner stops once the cluster has been out of reach (neither the
// stop request read nor the state saved) for an unbroken while, and not
// for a blip: any tick that reaches it starts the count again.
func TestOutOfReach(t *testing.T) {
	gone := errors.New("No such container: kmschaos-x-keeper")
	t0 := time.Unix(0, 0)
	var o outOfReach
	for _, step := range []struct {
		at         time.Duration
		read, save error
		want       time.Duration
	}{
		{0, nil, nil, 0},
		{1 * time.Second, gone, nil, 0}, // the state saved: in reach
		{2 * time.Second, nil, gone, 0}, // the stop request read: in reach
		{3 * time.Second, gone, gone, 0},
		{5 * time.Second, gone, gone, 2 * time.Second},
		{6 * time.Second, nil, nil, 0}, // back: the count starts again
		{7 * time.Second, gone, gone, 0},
		{30 * time.Second, gone, gone, 23 * time.Second},
	} {
		if got := o.since(t0.Add(step.at), step.read, step.save); got != step.want {
			t.Fatalf("at +%s (read %v, save %v): out of reach for %s, want %s", step.at, step.read, step.save, got, step.want)
		}
	}
}
