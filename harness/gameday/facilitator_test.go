package gameday

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/manual"
)

// fakeRunnerCommand puts a stand-in for 'kmschaos gameday run' in for the
// test: a shell that writes the cluster it was started for to its log.
// fail makes starting it fail.
func fakeRunnerCommand(t *testing.T, fail error) {
	t.Helper()
	old := runnerCommand
	runnerCommand = func(run string, backend []string) (*exec.Cmd, error) {
		if fail != nil {
			return nil, fail
		}
		return exec.Command("/bin/sh", append([]string{"-c", `echo "gameday run --run $*"`, "sh", run}, backend...)...), nil
	}
	t.Cleanup(func() { runnerCommand = old })
}

// awaitFile waits for the file to hold want, as the detached process
// writes it.
func awaitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q (%v), want %q in it", path, b, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fakeCluster(t *testing.T) *cluster.Cluster {
	t.Helper()
	c, _, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	keeper.OnExec = keeper.Files
	return c
}

func startOptions(dir string) Options {
	return Options{Seed: 1, Faults: 2, Every: time.Hour, Limit: time.Hour, Kinds: []string{"kill"}, Dir: dir}
}

// Start records the game day, writes the sealed file and starts the
// background process for this cluster, its output in the log, which only
// the facilitator reads.
func TestStart(t *testing.T) {
	fakeRunnerCommand(t, nil)
	ctx := context.Background()
	c := fakeCluster(t)
	dir := t.TempDir()
	s, err := Start(ctx, c, startOptions(dir), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	files := s.Files()
	awaitFile(t, files.Log(), "gameday run --run "+c.RunID)
	for _, p := range []string{files.Log(), files.Sealed(), files.Key()} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want it the facilitator's alone (0600)", p, err, st.Mode())
		}
	}
	h, err := CurrentHeader(ctx, c)
	if err != nil || h.ID != s.ID || h.Stage() != "running" {
		t.Fatalf("the cluster keeps %+v (%v), want game day %s running", h, err, s.ID)
	}
	if got, err := Current(ctx, c); err != nil || len(got.Faults) != 2 {
		t.Fatalf("the truth read back: %+v (%v), want the 2 faults drawn", got, err)
	}
}

// A game day needs the whole budget: faults by hand still active refuse
// it, one line, before anything is recorded.
func TestStartRefusesFaultsByHand(t *testing.T) {
	fakeRunnerCommand(t, nil)
	ctx := context.Background()
	c := fakeCluster(t)
	if _, err := manual.Inject(ctx, c, manual.Request{Kind: "kill", Party: 2}, time.Now()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err := Start(ctx, c, startOptions(dir), time.Now())
	var in *InputError
	if !errors.As(err, &in) || err.Error() != "1 fault(s) injected by hand are active: heal them first ('kmschaos heal --all'), a game day needs the whole budget" {
		t.Fatalf("start with a fault by hand: %v; want the input error", err)
	}
	if h, err := LoadHeader(ctx, c); h != nil || err != nil {
		t.Errorf("a game day was recorded: %+v (%v)", h, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files written: %v", ents)
	}
}

// Neither command tells a cluster without a game day as anything but
// the user's error.
func TestCurrentWithoutGameDay(t *testing.T) {
	ctx := context.Background()
	c := fakeCluster(t)
	want := "no game day on cluster fake: start one with 'kmschaos gameday start'"
	var in *InputError
	if _, err := Current(ctx, c); !errors.As(err, &in) || err.Error() != want {
		t.Errorf("Current: %v, want %q", err, want)
	}
	if _, err := CurrentHeader(ctx, c); !errors.As(err, &in) || err.Error() != want {
		t.Errorf("CurrentHeader: %v, want %q", err, want)
	}
}

// A background process that cannot start leaves no game day running.
func TestStartWhoseRunnerFailsEndsTheGameDay(t *testing.T) {
	fakeRunnerCommand(t, errors.New("no executable"))
	ctx := context.Background()
	c, _, _ := meshCluster(t)
	_, err := Start(ctx, c, startOptions(t.TempDir()), time.Now())
	if err == nil || !strings.Contains(err.Error(), "starting the game day's background process: no executable") {
		t.Fatalf("start without a runner: %v", err)
	}
	h, err := CurrentHeader(ctx, c)
	if err != nil || h.Running() {
		t.Fatalf("the game day is %s (%v), want it ended", h.Stage(), err)
	}
}

// A running game day whose background process went silent gets a new
// one; a live one, or a game day ended, none.
func TestRevive(t *testing.T) {
	fakeRunnerCommand(t, nil)
	c, _, _, s := fakeGameDay(t)
	now := time.Now()
	s.Heartbeat = now.Add(-staleAfter - time.Second)
	// The new process reaches the cluster's backend as the first did.
	s.Backend = []string{"--backend", "kubernetes", "--namespace", "chaos-1"}
	if started, err := Revive(c, &s.Header, now); err != nil || !started {
		t.Fatalf("silent runner: started %v (%v), want a new one", started, err)
	}
	awaitFile(t, s.Files().Log(), "gameday run --run "+c.RunID+" --backend kubernetes --namespace chaos-1")
	s.Heartbeat = now
	if started, err := Revive(c, &s.Header, now); err != nil || started {
		t.Errorf("live runner: started %v (%v), want none", started, err)
	}
	s.Heartbeat, s.Ended = now.Add(-time.Hour), now
	if started, err := Revive(c, &s.Header, now); err != nil || started {
		t.Errorf("game day ended: started %v (%v), want none", started, err)
	}
}

// meshCluster is a fake cluster (n=4) whose toxiproxy is a stub with no
// proxy, whose keeper keeps records and holds no stored object, and whose
// driver refuses every cluster-wide verb: the harness's audit, reset and
// final checks can run on it without an engine.
func meshCluster(t *testing.T) (*cluster.Cluster, []*fakebackend.Party, *fakebackend.Keeper) {
	t.Helper()
	fake, parties, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	keeper.OnExec = func(user string, cmd []string) cluster.ExecResult {
		if slices.Contains(cmd, "manifest") {
			return cluster.ExecResult{}
		}
		return keeper.Files(user, cmd)
	}
	mesh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/proxies":
			_, _ = w.Write([]byte("{}"))
		case "/reset":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(mesh.Close)
	ws := make([]cluster.Workload, len(parties))
	for i, p := range parties {
		ws[i] = p
	}
	c, err := cluster.Assemble(cluster.Parts{Topology: fake.Topology, Profile: fake.Profile, RunID: fake.RunID, Parties: ws, Keeper: keeper, Key: fake.Key, MeshAddr: mesh.URL,
		Driver: &fakebackend.Driver{}}) // without one, Reset would recreate parties on the engine
	if err != nil {
		t.Fatal(err)
	}
	return c, parties, keeper
}

// End asks the live background process to end the game day and waits
// for it: the report read afterwards is of the game day it ended.
func TestEndAwaitsTheRunner(t *testing.T) {
	ctx := context.Background()
	c, _, _, s := fakeGameDay(t)
	s.Heartbeat = time.Now().UTC()
	if err := Save(ctx, c, s); err != nil {
		t.Fatal(err)
	}
	if _, err := Diagnose(ctx, c, 2, "kill", "party 2 exited", time.Now()); err != nil {
		t.Fatal(err)
	}
	// The background process: it ends the game day once asked, as Runner.Run does;
	// gone with the test if End fails before asking.
	ended := make(chan error, 1)
	bg, stopBG := context.WithCancel(ctx)
	t.Cleanup(stopBG)
	go func() {
		for bg.Err() == nil {
			stop, err := stopRequested(bg, c)
			if err != nil || stop != nil {
				if err == nil {
					var st *State
					if st, err = Load(ctx, c); err == nil {
						st.Ended, st.Aborted = time.Now().UTC(), stop.Abort
						err = Save(ctx, c, st)
					}
				}
				ended <- err
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		ended <- bg.Err()
	}()
	var said []string
	r, err := End(ctx, c, s, true, func(m string) { said = append(said, m) })
	if err != nil {
		t.Fatal(err)
	}
	if err := <-ended; err != nil {
		t.Fatalf("the stand-in runner: %v", err)
	}
	if r.State.Stage() != "aborted" || len(r.Diagnoses) != 1 || r.Diagnoses[0].Text != "party 2 exited" {
		t.Errorf("report of a game day %s with diagnoses %+v; want aborted, with the one diagnosis", r.State.Stage(), r.Diagnoses)
	}
	if !slices.Equal(said, []string{"asked the background process to abort the game day"}) {
		t.Errorf("said %q", said)
	}
}

// A game day whose background process is gone is ended from the
// facilitator's process: the faults still on healed, the reports
// written.
func TestEndFinishesForADeadRunner(t *testing.T) {
	ctx := context.Background()
	c, parties, _ := meshCluster(t)
	s, err := Begin(ctx, c, startOptions(t.TempDir()), time.Now().Add(-2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// The first fault (a kill) injected a minute ago; its runner died then.
	s.Faults[0].InjectedAt = time.Now().Add(-time.Minute).UTC()
	s.Heartbeat = s.Faults[0].InjectedAt
	if err := parties[s.Faults[0].Party-1].Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := Save(ctx, c, s); err != nil {
		t.Fatal(err)
	}
	var said []string
	r, err := End(ctx, c, s, false, func(m string) { said = append(said, m) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"asked the background process to end the game day", "the background process is gone: ending the game day from here"}
	if !slices.Equal(said, want) {
		t.Errorf("said %q, want %q", said, want)
	}
	f := r.State.Faults[0]
	if r.State.Stage() != "ended" || f.RecoveredBy != ByHarness || !r.State.WorkloadLost {
		t.Errorf("game day %s, fault 1 recovered by %q, workload lost %v; want ended, healed by the harness, the workload's count lost", r.State.Stage(), f.RecoveredBy, r.State.WorkloadLost)
	}
	if st, _ := parties[f.Party-1].State(ctx); !st.Running {
		t.Errorf("party %d not running after the heal: %+v", f.Party, st)
	}
	if b, err := os.ReadFile(r.State.Files().Text()); err != nil || !strings.Contains(string(b), "NOT RECOVERED: healed by the harness") {
		t.Errorf("text report: %v\n%s", err, b)
	}
}

// A game day ended already is read as it stands: nothing asked, nothing
// healed.
func TestEndOfAnEndedGameDay(t *testing.T) {
	ctx := context.Background()
	c, _, _, s := fakeGameDay(t)
	s.Ended = time.Now().UTC()
	if err := Save(ctx, c, s); err != nil {
		t.Fatal(err)
	}
	r, err := End(ctx, c, s, false, func(m string) { t.Errorf("said %q", m) })
	if err != nil || r.State != s {
		t.Fatalf("report %+v (%v), want the game day as it stands", r, err)
	}
	if stop, _ := stopRequested(ctx, c); stop != nil {
		t.Errorf("a stop was requested: %+v", stop)
	}
}

// Status counts the faults injected, the time to the next, and the
// diagnoses, without naming a fault.
func TestStatusOf(t *testing.T) {
	ctx := context.Background()
	c, _, _, s := fakeGameDay(t)
	now := s.Started.Add(2 * time.Minute)
	s.Faults = append(s.Faults, Fault{Kind: "kill", Party: 1, Parties: []int{1}, At: 3 * time.Minute})
	s.Heartbeat, s.PID = now, 4242
	if _, err := Diagnose(ctx, c, 2, "kill", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	st, err := StatusOf(ctx, c, s, now)
	if err != nil {
		t.Fatal(err)
	}
	minute := 60.0
	want := Status{ID: s.ID, Run: "fake", State: "running", ElapsedS: 120, Faults: 2, Injected: 1, NextInS: &minute, Diagnoses: 1, Runner: true, PID: 4242}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("status\n%+v, want\n%+v", st, want)
	}
	s.Ended = s.Started.Add(time.Minute)
	if st, _ := StatusOf(ctx, c, s, now); st.State != "ended" || st.ElapsedS != 60 || st.Runner {
		t.Errorf("ended: %+v; want ended after 60 s, no runner", st)
	}
}

// 'gameday status --output json' gives next_in_s while a fault is still
// to come, 0 for one due now, and none once every fault is in or the
// game day has ended.
func TestStatusNextInJSON(t *testing.T) {
	ctx := context.Background()
	c, _, _, s := fakeGameDay(t) // its one fault injected
	now := s.Started.Add(2 * time.Minute)
	next := func() string {
		t.Helper()
		st, err := StatusOf(ctx, c, s, now)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(st)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return fmt.Sprint(m["next_in_s"])
	}
	if got := next(); got != "<nil>" {
		t.Errorf("every fault injected: next_in_s %s, want none", got)
	}
	s.Faults = append(s.Faults, Fault{Kind: "kill", Party: 1, Parties: []int{1}, At: time.Minute}) // overdue: due now
	if got := next(); got != "0" {
		t.Errorf("a fault due now: next_in_s %s, want 0", got)
	}
	s.Ended = now
	s.Faults[1].At = 3 * time.Minute // cancelled by the end, not to come
	if got := next(); got != "<nil>" {
		t.Errorf("game day ended: next_in_s %s, want none", got)
	}
}
