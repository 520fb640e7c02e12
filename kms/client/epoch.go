package client

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// EpochOutcome is one party's result of a PRSS initialisation.
type EpochOutcome struct {
	Endpoint string
	Err      error // nil on success
	Exists   bool  // the epoch was already there
	Took     time.Duration
}

// InitEpoch starts the PRSS set-up of epochID on every endpoint at once and
// polls each every poll until it finishes or ctx ends. progress, if not nil,
// is called as each party finishes.
func InitEpoch(ctx context.Context, endpoints []string, epochID string, poll time.Duration, progress func(EpochOutcome)) []EpochOutcome {
	out := make([]EpochOutcome, len(endpoints))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, ep := range endpoints {
		wg.Add(1)
		go func(i int, ep string) {
			defer wg.Done()
			start := time.Now()
			o := initOne(ctx, ep, epochID, poll)
			o.Took = time.Since(start)
			out[i] = o
			if progress != nil {
				mu.Lock()
				progress(o)
				mu.Unlock()
			}
		}(i, ep)
	}
	wg.Wait()
	return out
}

func initOne(ctx context.Context, endpoint, epochID string, poll time.Duration) EpochOutcome {
	o := EpochOutcome{Endpoint: endpoint}
	c, err := Dial(endpoint)
	if err != nil {
		o.Err = err
		return o
	}
	defer c.Close()
	id := &kmsv1.RequestId{RequestId: epochID}
	// The first call may meet a party still starting: retry what is retryable.
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = c.NewMpcEpoch(cctx, &kmsv1.NewMpcEpochRequest{EpochId: id})
		cancel()
		if err == nil {
			break
		}
		if status.Code(err) == codes.AlreadyExists && strings.HasPrefix(status.Convert(err).Message(), "Epoch ") {
			o.Exists = true
			o.Err = errors.New(status.Convert(err).Message())
			return o
		}
		if !Retryable(err) || ctx.Err() != nil {
			o.Err = fmt.Errorf("NewMpcEpoch: %s", describe(err))
			return o
		}
		if !sleep(ctx, poll) {
			o.Err = fmt.Errorf("NewMpcEpoch: %s", describe(err))
			return o
		}
	}
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.GetEpochResult(cctx, id)
		cancel()
		switch {
		case err == nil:
			return o
		case status.Code(err) == codes.Unavailable && ctx.Err() == nil:
			// still running, or the party is briefly unreachable
		default:
			o.Err = errors.New(describe(err))
			return o
		}
		if !sleep(ctx, poll) {
			o.Err = fmt.Errorf("timed out waiting for the PRSS set-up (last answer: %s)", describe(err))
			return o
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func describe(err error) string {
	if st, ok := status.FromError(err); ok {
		return fmt.Sprintf("%s: %s", st.Code(), st.Message())
	}
	return err.Error()
}

// Summarise sorts outcomes into failures (by endpoint) and tells whether
// every party already had the epoch.
func Summarise(outcomes []EpochOutcome) (failed []EpochOutcome, allExisted bool) {
	allExisted = len(outcomes) > 0
	for _, o := range outcomes {
		if !o.Exists {
			allExisted = false
		}
	}
	if allExisted {
		return nil, true
	}
	for _, o := range outcomes {
		if o.Err != nil {
			failed = append(failed, o)
		}
	}
	sort.Slice(failed, func(a, b int) bool { return failed[a].Endpoint < failed[b].Endpoint })
	return failed, false
}
