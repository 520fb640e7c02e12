// Package oracle is the one place the harness decrypts: it encrypts a value
// it chose, asks a party to decrypt it, and compares. A wrong value is
// recorded on the handle's Witness (WitnessOf) and returned as *WrongError — never as
// an ordinary failure that a poll would retry and forget — whoever asked:
// the workload, a probe, a runbook's check, the steady-state check, the demo.
package oracle

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	kmsclient "github.com/kmschaos/kmschaos/kms/client"
)

// WrongError is a decryption that returned another value than the one
// encrypted.
type WrongError struct{ Wrong }

func (e *WrongError) Error() string { return "WRONG decryption: " + e.String() }

// IsWrong tells whether err is, or wraps, a wrong decryption.
func IsWrong(err error) bool {
	var w *WrongError
	return errors.As(err, &w)
}

// Mode is how the value is decrypted.
type Mode int

const (
	Poll Mode = iota // PublicDecrypt, then GetPublicDecryptionResult until done (what real clients do)
	Sync             // PublicDecryptSync, one call
)

// Request is one decryption to check.
type Request struct {
	Party   int           // the coordinator asked
	By      string        // who asks, for the record ("probe: ...", "runbook step ...")
	Mode    Mode          // Poll by default
	Timeout time.Duration // bound of the call (10 s)
	Value   *uint64       // the value to encrypt; a fresh random one when nil
}

// Result of a right decryption.
type Result struct {
	Value      uint64
	Took       time.Duration
	Decryption *kmsclient.Decryption
}

// Decrypt encrypts r.Value (or a fresh value), decrypts it through
// r.Party and compares.
func Decrypt(ctx context.Context, c *cluster.Cluster, r Request) (Result, error) {
	want := fresh(r.Value)
	ct, err := c.Key.Encrypt(rand.Reader, want)
	if err != nil {
		return Result{}, err
	}
	cl, err := c.Client(r.Party)
	if err != nil {
		return Result{}, err
	}
	defer cl.Close()
	return DecryptWith(ctx, c, cl, r, want, ct)
}

// DecryptWith decrypts ct, which holds want, with an open client: for
// callers that keep one client per party (the workload).
func DecryptWith(ctx context.Context, c *cluster.Cluster, cl *kmsclient.Client, r Request, want uint64, ct []byte) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout(r.Timeout))
	defer cancel()
	start := time.Now()
	var d *kmsclient.Decryption
	var err error
	if r.Mode == Sync {
		d, err = cl.PublicDecryptSync(ctx, ct, "")
	} else {
		d, err = cl.PublicDecrypt(ctx, ct, "", fixtures.Intervals.Oracle.ResultPoll)
	}
	took := time.Since(start)
	if err != nil {
		return Result{Took: took}, err
	}
	if d.Value != want {
		return Result{Took: took}, saw(c, r, want, d.Value)
	}
	return Result{Value: d.Value, Took: took, Decryption: d}, nil
}

// DecryptMany decrypts n fresh values through r.Party in one request.
func DecryptMany(ctx context.Context, c *cluster.Cluster, r Request, n int) (time.Duration, error) {
	wants := make([]uint64, n)
	cts := make([][]byte, n)
	for k := range wants {
		wants[k] = fresh(nil)
		ct, err := c.Key.Encrypt(rand.Reader, wants[k])
		if err != nil {
			return 0, err
		}
		cts[k] = ct
	}
	cl, err := c.Client(r.Party)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout(r.Timeout))
	defer cancel()
	start := time.Now()
	got, err := cl.PublicDecryptMany(ctx, cts)
	took := time.Since(start)
	if err != nil {
		return took, err
	}
	if len(got) != n {
		return took, fmt.Errorf("asked for %d plaintexts, got %d", n, len(got))
	}
	var errs []error
	for k := range got {
		if got[k] != wants[k] {
			errs = append(errs, saw(c, r, wants[k], got[k]))
		}
	}
	return took, errors.Join(errs...)
}

// saw records a wrong value on the cluster and returns it as an error.
func saw(c *cluster.Cluster, r Request, want, got uint64) error {
	by := r.By
	if by == "" {
		by = "the harness"
	}
	w := Wrong{At: time.Now(), Party: r.Party, Sent: want, Got: got, By: by}
	WitnessOf(c).Saw(w)
	return &WrongError{w}
}

// Record notes a wrong value seen outside this package (the workload,
// which keeps its own ciphertexts) and returns it as an error.
func Record(c *cluster.Cluster, party int, by string, want, got uint64) error {
	return saw(c, Request{Party: party, By: by}, want, got)
}

func fresh(v *uint64) uint64 {
	if v != nil {
		return *v
	}
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

func timeout(d time.Duration) time.Duration {
	if d <= 0 {
		return fixtures.Intervals.Oracle.Call
	}
	return d
}
