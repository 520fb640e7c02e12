package fault

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/kms/config"
)

// RateLimitBurst lowers party i's rate limiter bucket (bucket_size in its
// [rate_limiter_conf]) to bucket tokens, restarts it so it loads the
// value, and starts a burst: workers concurrent clients decrypting through
// it without pause, each asking again after a refusal.
//
// Why the bucket is lowered: the real default is 50000 tokens
// (core/service/src/util/rate_limiter.rs) and a public decryption holds 1
// until it ends, so exhausting it takes 50000 decryptions in flight at
// one party. In production that is a burst of real traffic against
// decryptions that take seconds; on a test-sized cluster a decryption
// takes tens of ms and 50000 in flight would swamp the machine for half
// an hour. The ratio is kept instead: a bucket below the burst's
// concurrency, which is what an operator who sizes bucket_size (the
// chart's kmsCore.rateLimiter.bucketSize) too small for the peak meets.
// Every worker's result is checked: a wrong value is recorded as any
// other (oracle).
//
// The heal stops the burst, waits for its workers to end, and writes the
// party's config back and restarts it: nothing of the fault is left.
func RateLimitBurst(i, bucket, workers int) Fault {
	name := fmt.Sprintf("party %d's rate limiter bucket_size lowered to %d and a burst of %d concurrent decryptions through it", i, bucket, workers)
	lowered := BadConfig(i, Mutation{fmt.Sprintf("bucket_size lowered to %d", bucket), func(s string, _ *cluster.Cluster, _ int) string {
		return strings.Replace(s, fmt.Sprintf("bucket_size = %d\n", config.DefaultRateLimiter.BucketSize), fmt.Sprintf("bucket_size = %d\n", bucket), 1)
	}})
	return New(name, Resources, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		restore, err := lowered.Inject(ctx, c)
		if err != nil {
			return restore, err
		}
		stop, err := burst(c, i, workers, "burst of "+name)
		if err != nil {
			return restore, err
		}
		return func(ctx context.Context) error {
			stop()
			return restore(ctx)
		}, nil
	})
}

// burst runs workers decryption loops through party i until stop, which
// returns once every worker has ended.
func burst(c *cluster.Cluster, i, workers int, by string) (stop func(), err error) {
	cl, err := c.Client(i)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var b [8]byte
				_, _ = rand.Read(b[:])
				want := binary.BigEndian.Uint64(b[:])
				ct, err := c.Key.Encrypt(rand.Reader, want)
				if err == nil {
					_, err = oracle.DecryptWith(ctx, c, cl, oracle.Request{Party: i, By: by, Timeout: fixtures.Intervals.Fault.BurstCall}, want, ct)
				}
				if err == nil || oracle.IsWrong(err) {
					continue // a wrong value is on the record already
				}
				select {
				case <-ctx.Done():
				case <-time.After(fixtures.Intervals.Fault.BurstRetry):
				}
			}
		}()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			_ = cl.Close()
		})
	}, nil
}
