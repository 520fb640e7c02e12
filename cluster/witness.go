package cluster

import (
	"fmt"
	"sync"
	"time"
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

// Witness keeps every wrong value anything saw on this cluster, so that
// no path that decrypts — workload, probe, runbook check, steady-state
// check, the demo — can see one and let it pass as an ordinary error.
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
