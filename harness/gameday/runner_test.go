package gameday

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

// A runner beats from the moment it runs, and all through its set-up:
// reading every secret the cluster holds and starting the workload can
// outlast staleAfter on a loaded host, and a runner silent meanwhile
// looked dead to the facilitator's next 'gameday status', which started a
// second one on the same game day (two runners saving over each other,
// each healing the same fault).
func TestRunnerBeatsWhileItSetsUp(t *testing.T) {
	ctx := context.Background()
	c, _, keeper, _ := fakeGameDay(t) // its heartbeat two minutes old: a runner is due
	files := keeper.OnExec
	release := make(chan struct{})
	keeper.OnExec = func(user string, cmd []string) cluster.ExecResult {
		if slices.Contains(cmd, "manifest") {
			<-release // the secrets' read, as slow as a loaded host makes it
			return cluster.ExecResult{ExitCode: 1, Stderr: "the set-up ends here"}
		}
		return files(user, cmd)
	}
	ran := make(chan error, 1)
	go func() { ran <- (&Runner{C: c}).Run(ctx) }()
	// Two heartbeats of this runner while its set-up has not ended.
	var beats []time.Time
	deadline := time.Now().Add(5 * Tick)
	for len(beats) < 2 {
		if time.Now().After(deadline) {
			close(release)
			<-ran //nolint:errcheck // only awaits the runner before failing: the heartbeats are what failed
			t.Fatalf("heartbeats of the runner during its set-up: %v; want two, its pid recorded", beats)
		}
		h, err := LoadHeader(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if h.PID == os.Getpid() && h.Alive(time.Now()) && !slices.Contains(beats, h.Heartbeat) {
			beats = append(beats, h.Heartbeat)
		}
		time.Sleep(Tick / 10)
	}
	close(release)
	if err := <-ran; err == nil || !strings.Contains(err.Error(), "reading the cluster's secrets") {
		t.Errorf("run: %v; want the set-up's failure", err)
	}
}
