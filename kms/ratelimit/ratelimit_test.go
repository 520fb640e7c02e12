package ratelimit

import (
	"errors"
	"testing"
)

// The real limiter's own tests (rate_limiter.rs): a permit takes its
// tokens and gives them back when dropped; an operation that needs more
// than is left is refused, and served once the holder is done.
func TestPermitTakesAndReturnsTokens(t *testing.T) {
	l := New(50000)
	p, err := l.TryAcquire("pub_decrypt", 1)
	if err != nil {
		t.Fatal(err)
	}
	q, err := l.TryAcquire("crsgen", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.TokensUsed(); got != 101 {
		t.Fatalf("usage with two permits: %d, want 101", got)
	}
	p.Release()
	p.Release() // a second release returns nothing more
	q.Release()
	if got := l.TokensUsed(); got != 0 {
		t.Fatalf("usage after release: %d, want 0", got)
	}
}

func TestRefusedWhenExhaustedAndServedAgainOnceTokensReturn(t *testing.T) {
	l := New(10)
	p, err := l.TryAcquire("pub_decrypt", 10)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.TryAcquire("user_decrypt", 1)
	var ex *Exhausted
	if !errors.As(err, &ex) {
		t.Fatalf("second operation on an empty bucket: %v, want a refusal", err)
	}
	const want = "not enough tokens in bucket for user_decrypt, need 1 from 0: no permits available"
	if err.Error() != want {
		t.Fatalf("refusal reads %q, want the real message %q", err, want)
	}
	if got := l.TokensUsed(); got != 10 {
		t.Fatalf("a refusal took tokens: usage %d, want 10", got)
	}
	p.Release()
	q, err := l.TryAcquire("user_decrypt", 1)
	if err != nil {
		t.Fatalf("after the holder released: %v", err)
	}
	q.Release()
}

func TestMoreThanTheBucketIsAlwaysRefused(t *testing.T) {
	l := New(5)
	if _, err := l.TryAcquire("preproc", 6); err == nil || err.Error() != "not enough tokens in bucket for preproc, need 6 from 5: no permits available" {
		t.Fatalf("asking for more than bucket_size: %v", err)
	}
}
