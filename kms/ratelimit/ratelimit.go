// Package ratelimit is the real KMS's token-bucket rate limiter
// (core/service/src/util/rate_limiter.rs): a bucket of bucket_size tokens;
// an operation takes its tokens without waiting (try-acquire) and holds
// them until it completes; when the bucket has too few, the operation is
// refused. Nothing refills the bucket but operations ending: it bounds the
// operations in flight, not a rate over time.
package ratelimit

import (
	"fmt"
	"sync"
)

// Exhausted is the refusal, worded as the real limiter's anyhow error:
// "not enough tokens in bucket for {op}, need {n} from {available}: {e}",
// e being tokio's TryAcquireError::NoPermits ("no permits available").
type Exhausted struct {
	Op        string // pub_decrypt, user_decrypt, ...
	Need      int
	Available int
}

func (e *Exhausted) Error() string {
	return fmt.Sprintf("not enough tokens in bucket for %s, need %d from %d: no permits available", e.Op, e.Need, e.Available)
}

// Limiter is one party's bucket; safe for concurrent use.
type Limiter struct {
	size int

	mu        sync.Mutex
	available int
}

// New returns a full bucket of size tokens.
func New(size int) *Limiter { return &Limiter{size: size, available: size} }

// Permit holds tokens until Release; releasing twice returns them once.
type Permit struct {
	l    *Limiter
	n    int
	once sync.Once
}

// Release returns the permit's tokens to the bucket.
func (p *Permit) Release() {
	p.once.Do(func() {
		p.l.mu.Lock()
		p.l.available += p.n
		p.l.mu.Unlock()
	})
}

// TryAcquire takes n tokens for op at once, or refuses with *Exhausted
// naming what is left; it never waits.
func (l *Limiter) TryAcquire(op string, n int) (*Permit, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > l.available {
		return nil, &Exhausted{Op: op, Need: n, Available: l.available}
	}
	l.available -= n
	return &Permit{l: l, n: n}, nil
}

// TokensUsed is bucket_size minus the tokens available: what the real
// party exports as kms_rate_limiter_usage.
func (l *Limiter) TokensUsed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size - l.available
}
