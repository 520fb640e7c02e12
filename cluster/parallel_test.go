package cluster

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestParallelRunsEveryPartyAndNamesTheFailures(t *testing.T) {
	var ran atomic.Int32
	err := Parallel(Topology{N: 13, T: 4}.Parties(), func(i int) error {
		ran.Add(1)
		if i == 4 || i == 11 {
			return errors.New("unreachable")
		}
		return nil
	})
	if ran.Load() != 13 {
		t.Fatalf("fn ran %d times, want 13", ran.Load())
	}
	if err == nil || err.Error() != "party 4: unreachable\nparty 11: unreachable" {
		t.Fatalf("err = %q, want both parties named in order", err)
	}
	if err := Parallel([]int{2, 3}, func(int) error { return nil }); err != nil {
		t.Fatalf("no failures: err = %v", err)
	}
}
