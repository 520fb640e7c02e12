package oracle

import (
	"fmt"
	"runtime"
	"sync"
	"time"
	"weak"

	"github.com/kmschaos/kmschaos/cluster"
)

// Wrong is a decryption that returned a value other than the one
// encrypted: the one thing a threshold KMS must never do.
type Wrong struct {
	At    time.Time `json:"at"`
	Party int       `json:"party"` // the coordinator asked
	Sent  uint64    `json:"sent"`  // the value encrypted
	Got   uint64    `json:"got"`   // the value returned
	By    string    `json:"by"`    // who saw it: the workload, a probe, a runbook check, ...
}

func (w Wrong) String() string {
	return fmt.Sprintf("party %d returned %d for %d (seen by %s at %s)", w.Party, w.Got, w.Sent, w.By, w.At.Format("15:04:05.000"))
}

// Witness keeps every wrong value anything saw through one cluster
// handle, so that no path that decrypts — workload, probe, runbook check,
// steady-state check, the demo — can see one and let it pass as an
// ordinary error.
type Witness struct {
	mu     sync.Mutex
	wrongs []Wrong
}

// Saw records a wrong value.
func (w *Witness) Saw(x Wrong) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.wrongs = append(w.wrongs, x)
}

// Since lists the wrong values seen at or after t.
func (w *Witness) Since(t time.Time) []Wrong {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Wrong
	for _, x := range w.wrongs {
		if !x.At.Before(t) {
			out = append(out, x)
		}
	}
	return out
}

// witnesses are the witnesses of this process's cluster handles. The
// harness keeps them, not the handle: what the harness saw is not the
// cluster's. A handle's witness goes with the handle.
var witnesses struct {
	sync.Mutex
	of map[weak.Pointer[cluster.Cluster]]*Witness
}

// WitnessOf is the witness of the handle c: every wrong value seen
// through c in this process. Another handle on the same cluster (another
// process's, attached) has a witness of its own.
func WitnessOf(c *cluster.Cluster) *Witness {
	k := weak.Make(c)
	witnesses.Lock()
	defer witnesses.Unlock()
	if w, ok := witnesses.of[k]; ok {
		return w
	}
	if witnesses.of == nil {
		witnesses.of = map[weak.Pointer[cluster.Cluster]]*Witness{}
	}
	w := &Witness{}
	witnesses.of[k] = w
	runtime.AddCleanup(c, func(k weak.Pointer[cluster.Cluster]) {
		witnesses.Lock()
		defer witnesses.Unlock()
		delete(witnesses.of, k)
	}, k)
	return w
}
