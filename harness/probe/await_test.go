package probe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

// An attempt started in time runs to its answer: a slow call is not cut by
// the poll's bound and mistaken for the condition's answer.
func TestAwaitLetsAStartedAttemptAnswer(t *testing.T) {
	slow := New("slow", func(ctx context.Context, _ *cluster.Cluster) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(150 * time.Millisecond): // longer than within
			return errors.New("permission denied")
		}
	})
	err := Await(context.Background(), nil, 50*time.Millisecond, slow)
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("Await = %v, want the attempt's own answer", err)
	}
}

func TestAwaitPollsUntilItHolds(t *testing.T) {
	n := 0
	third := New("third time", func(context.Context, *cluster.Cluster) error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err := Await(context.Background(), nil, 5*time.Second, third); err != nil || n != 3 {
		t.Fatalf("Await = %v after %d attempts, want nil after 3", err, n)
	}
	never := New("never", func(context.Context, *cluster.Cluster) error { return errors.New("no") })
	if err := Await(context.Background(), nil, 300*time.Millisecond, never); err == nil || !strings.Contains(err.Error(), "not within 300ms: no") {
		t.Fatalf("Await = %v, want it to give up naming the last answer", err)
	}
}
