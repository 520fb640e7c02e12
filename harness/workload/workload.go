// Package workload keeps streams of threshold decryptions running against
// the cluster during a scenario, through every party, and records
// each one in a history: when it ran, through which party, and whether it
// returned the right value, failed, or — the one thing that must never
// happen — returned a wrong value.
package workload

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/report"
	kmsclient "github.com/kmschaos/kmschaos/kms/client"
)

// Outcomes of an operation.
const (
	OK     = "ok"
	Failed = "failed"
	Wrong  = "wrong"
)

// By is how the workload signs what it sees on the handle's witness (oracle.WitnessOf).
const By = "the workload"

// Op is one decryption.
type Op struct {
	Seq        int
	Party      int // the coordinator asked
	Want       uint64
	Got        uint64
	Start, End time.Time
	Outcome    string
	Code       string // gRPC code of a failure
	Err        string
}

// History is every operation of a run of the workload.
type History struct {
	Ops []Op
}

// Options shape the workload.
type Options struct {
	// Workers are concurrent clients (one per party). Each serves a fixed
	// set of coordinators, so a party that hangs stalls only its own
	// stream and the rest of the cluster keeps being exercised.
	Workers int
	Pause   time.Duration // between two operations of a worker (75 ms × n × Share: about 13 ops/s in all)
	// Share is how many clusters share the machine's workload budget
	// (the suite's parallel clusters): each runs 1/Share of the rate, so
	// the machine decrypts as much as with one cluster. 0 or 1: one.
	Share    int
	Timeout  time.Duration // bound of one operation (8 s)
	Values   int           // distinct ciphertexts (16)
	Recorder *report.Recorder
}

// Workload is a running stream of decryptions.
type Workload struct {
	c      *cluster.Cluster
	o      Options
	cts    [][]byte
	values []uint64
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	ops     []Op
	clients map[int]*kmsclient.Client
}

// Start encrypts a pool of values drawn from rng and starts the workers.
func Start(c *cluster.Cluster, rng *rand.Rand, o Options) (*Workload, error) {
	if o.Workers <= 0 || o.Workers > c.Topology.N {
		o.Workers = c.Topology.N
	}
	if o.Pause == 0 {
		o.Pause = fixtures.Intervals.Workload.PausePerParty * time.Duration(c.Topology.N*max(o.Share, 1))
	}
	if o.Timeout == 0 {
		o.Timeout = fixtures.Intervals.Workload.OpTimeout
	}
	if o.Values == 0 {
		o.Values = 16
	}
	w := &Workload{c: c, o: o, clients: map[int]*kmsclient.Client{}}
	for range o.Values {
		v := rng.Uint64()
		ct, err := c.Key.Encrypt(crand.Reader, v) // never seeded: a replayed run reuses no nonce
		if err != nil {
			return nil, err
		}
		w.values = append(w.values, v)
		w.cts = append(w.cts, ct)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	for k := range o.Workers {
		w.wg.Add(1)
		go w.worker(ctx, k, rand.New(rand.NewPCG(rng.Uint64(), uint64(k))))
	}
	return w, nil
}

func (w *Workload) client(i int) (*kmsclient.Client, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cl, ok := w.clients[i]; ok {
		return cl, nil
	}
	cl, err := w.c.Client(i)
	if err == nil {
		w.clients[i] = cl
	}
	return cl, err
}

func (w *Workload) worker(ctx context.Context, k int, rng *rand.Rand) {
	defer w.wg.Done()
	// Worker k coordinates through parties k+1, k+1+Workers, ... in turn;
	// a random first pause keeps the workers out of lockstep.
	var parties []int
	for p := k + 1; p <= w.c.Topology.N; p += w.o.Workers {
		parties = append(parties, p)
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Duration(rng.Int64N(int64(w.o.Pause)))):
	}
	for i := 0; ctx.Err() == nil; i++ {
		seq := k + i*w.o.Workers
		party := parties[i%len(parties)]
		idx := rng.IntN(len(w.cts))
		op := w.decrypt(ctx, seq, party, idx)
		if ctx.Err() != nil && op.Outcome == Failed {
			return // stopped mid-operation: not an outcome of the cluster
		}
		w.record(op)
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.o.Pause):
		}
	}
}

func (w *Workload) decrypt(ctx context.Context, seq, party, idx int) Op {
	op := Op{Seq: seq, Party: party, Want: w.values[idx], Start: time.Now()}
	cl, err := w.client(party)
	if err == nil {
		var r oracle.Result
		r, err = oracle.DecryptWith(ctx, w.c, cl, oracle.Request{Party: party, By: By, Timeout: w.o.Timeout}, op.Want, w.cts[idx])
		op.Got = r.Value
	}
	op.End = time.Now()
	var wrong *oracle.WrongError
	switch {
	case errors.As(err, &wrong):
		op.Outcome, op.Got = Wrong, wrong.Got
		op.Err = fmt.Sprintf("decrypted %d, the ciphertext holds %d", op.Got, op.Want)
	case err != nil:
		st := status.Convert(err)
		op.Outcome, op.Code, op.Err = Failed, st.Code().String(), st.Message()
	default:
		op.Outcome = OK
	}
	return op
}

func (w *Workload) record(op Op) {
	w.mu.Lock()
	w.ops = append(w.ops, op)
	w.mu.Unlock()
	if r := w.o.Recorder; r != nil {
		status := map[string]report.Status{OK: report.OK, Failed: report.Fail, Wrong: report.Wrong}[op.Outcome]
		detail := op.Err
		if op.Code != "" {
			detail = op.Code + ": " + op.Err
		}
		r.Span(report.LaneWorkload, fmt.Sprintf("decrypt via party %d", op.Party), status, detail, op.Start, op.End)
	}
}

// Snapshot is the history so far, the workload still running: what a
// long game day tallies as it goes.
func (w *Workload) Snapshot() *History {
	w.mu.Lock()
	defer w.mu.Unlock()
	return &History{Ops: append([]Op(nil), w.ops...)}
}

// Stop ends the workload and returns its history.
func (w *Workload) Stop() *History {
	w.cancel()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, cl := range w.clients {
		cl.Close()
	}
	return &History{Ops: append([]Op(nil), w.ops...)}
}
