package oracle

import (
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

// A handle has one witness, its own: another handle on the same cluster
// (another process's) saw nothing of what this one saw.
func TestAWitnessIsItsHandles(t *testing.T) {
	c, parties, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	WitnessOf(c).Saw(Wrong{At: time.Now(), Party: 2, Sent: 7, Got: 8, By: "a test"})
	if got := WitnessOf(c).Since(time.Time{}); len(got) != 1 || got[0].Got != 8 {
		t.Fatalf("the handle's witness holds %v, want the wrong value it saw", got)
	}
	other, err := fakebackend.Attach(c, parties, keeper)
	if err != nil {
		t.Fatal(err)
	}
	if got := WitnessOf(other).Since(time.Time{}); len(got) != 0 {
		t.Fatalf("another handle's witness holds %v, want nothing", got)
	}
}

// The witnesses are kept beside the handles, not in them: a handle no
// one holds any more takes its witness with it.
func TestAWitnessGoesWithItsHandle(t *testing.T) {
	k := func() weak.Pointer[cluster.Cluster] {
		c, _, _, err := fakebackend.Cluster(4, cluster.Resources{})
		if err != nil {
			t.Fatal(err)
		}
		WitnessOf(c).Saw(Wrong{Party: 1})
		if !kept(weak.Make(c)) {
			t.Fatal("the handle's witness is not kept")
		}
		return weak.Make(c)
	}()
	// A cleanup runs once a collection found the handle unreachable.
	for range 1000 {
		if !kept(k) {
			return
		}
		runtime.GC()
		runtime.Gosched()
	}
	t.Fatal("the witness of a handle no one holds is still kept")
}

func kept(k weak.Pointer[cluster.Cluster]) bool {
	witnesses.Lock()
	defer witnesses.Unlock()
	_, ok := witnesses.of[k]
	return ok
}
