package probe_test

import (
	"context"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/probe"
)

// "Exited with N" holds only on an exit status the backend saw: one it
// did not see fails the probe, naming it, whatever ExitCode holds.
func TestExitedNeedsAKnownExitStatus(t *testing.T) {
	ctx := context.Background()
	c, parties, _, err := fakebackend.ClusterOn(&fakebackend.Driver{}, 4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Party(1).Kill(ctx); err != nil {
		t.Fatal(err)
	}
	parties[1].ExitUnseen = true
	if err := c.Party(2).Kill(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		party, code int
		want        string // "": holds
	}{
		{1, 137, ""},
		{1, 0, "status exited, exit code 137"},
		{2, 137, "status exited, exit status unknown: the fake backend did not see how the party ended"},
		{3, 137, "status running, exit code 0"},
	} {
		err := probe.Exited(tc.party, tc.code).Check(ctx, c)
		if (tc.want == "") != (err == nil) || err != nil && err.Error() != tc.want {
			t.Errorf("Exited(%d, %d): %v, want %q", tc.party, tc.code, err, tc.want)
		}
	}
}

// "Down after a kill" holds on a 137 the backend saw, or on a party gone
// where the backend saw no exit at all; never on a party that runs, nor
// on another exit status the backend did see.
func TestKilledClaimsOnlyWhatTheBackendSaw(t *testing.T) {
	ctx := context.Background()
	c, parties, _, err := fakebackend.ClusterOn(&fakebackend.Driver{}, 4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Party(1).Kill(ctx); err != nil {
		t.Fatal(err)
	}
	parties[1].ExitUnseen = true
	if err := c.Party(2).Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Party(3).Stop(ctx, 0); err != nil { // a graceful stop: exit 0, seen
		t.Fatal(err)
	}
	for _, tc := range []struct {
		party int
		want  string // "": holds
	}{
		{1, ""},
		{2, ""},
		{3, "status exited, exit code 0"},
		{4, "status running, exit code 0"},
	} {
		err := probe.Killed(tc.party).Check(ctx, c)
		if (tc.want == "") != (err == nil) || err != nil && err.Error() != tc.want {
			t.Errorf("Killed(%d): %v, want %q", tc.party, err, tc.want)
		}
	}
}

// "Quiet" is about the last window only: a line logged within it fails
// the probe, naming party and line; the same line older than the window,
// or a line that does not match, does not.
func TestLogQuietLooksAtTheLastWindowOnly(t *testing.T) {
	ctx := context.Background()
	c, parties, _, err := fakebackend.ClusterOn(&fakebackend.Driver{}, 4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	const line = "WARN kms_server: No decryption share from party party=3 session=9"
	quiet := probe.LogQuiet([]int{1, 2}, `No decryption share from party[^\n]* party=3\b`, 200*time.Millisecond)
	parties[1].Log("WARN kms_server: No decryption share from party party=4 session=8")
	if err := quiet.Check(ctx, c); err != nil {
		t.Fatalf("another party's line: %v, want quiet", err)
	}
	parties[1].Log(line)
	err = quiet.Check(ctx, c)
	if want := `party 2 logged "No decryption share from party party=3" within the last 200ms`; err == nil || err.Error() != want {
		t.Fatalf("a matching line just logged: %v, want %q", err, want)
	}
	if err := probe.Await(ctx, c, 2*time.Second, quiet); err != nil {
		t.Fatalf("the line older than the window: %v, want quiet", err)
	}
}
