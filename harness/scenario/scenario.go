// Package scenario runs one failure mode end to end: baseline, inject,
// detect (time-to-detect), observe, run the guide's runbooks for real,
// recover (time-to-recover), and check the invariants — no wrong
// decryption, availability as t allows, key material intact, no fault left.
// A scenario is plain data built from the run's seed; Run returns its
// scorecard row and an error naming what went wrong.
package scenario

import (
	"context"
	"errors"
	"fmt"
	"github.com/kmschaos/kmschaos/harness/signals"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/runbook"
)

// Scenario is one failure mode of the guide.
type Scenario struct {
	Name    string
	Section string   // the guide's section, e.g. "Connectivity Issues"
	Labels  []string // Ginkgo labels besides the section's and the faults' kinds
	// Long marks a scenario that takes several times the usual: when
	// clusters run in parallel it starts first, so that no cluster is
	// left running it alone at the end.
	Long bool
	// Build makes the plan from the cluster's topology and the run's seed:
	// which parties, which links.
	Build func(e *Env) Plan
}

// Env is what Build chooses from.
type Env struct {
	C   *cluster.Cluster
	Rng *rand.Rand
	N   int
	T   int
}

// Pick returns k distinct parties chosen at random, ascending.
func (e *Env) Pick(k int) []int {
	perm := e.Rng.Perm(e.N)[:k]
	out := make([]int, k)
	for i, p := range perm {
		out[i] = p + 1
	}
	sortInts(out)
	return out
}

// One returns one party chosen at random.
func (e *Env) One() int { return e.Pick(1)[0] }

// Others lists every party but the given ones.
func (e *Env) Others(not ...int) []int {
	skip := map[int]bool{}
	for _, p := range not {
		skip[p] = true
	}
	var out []int
	for i := 1; i <= e.N; i++ {
		if !skip[i] {
			out = append(out, i)
		}
	}
	return out
}

// Plan is what a scenario does, concretely.
type Plan struct {
	// Prelude makes, the workload running, the state the faults act on
	// (a rolling upgrade's first waves), and checks it itself: it is no
	// fault (no detection, no fault budget), and the clock of detection
	// starts after it. Its heals run with the faults'.
	Prelude []fault.Fault
	Faults  []fault.Fault
	// BeyondThreshold declares that the faults may take more than t
	// parties away: the scenario then tests failing closed.
	BeyondThreshold bool

	Detect       []probe.Probe // every one must hold: the fault is detected
	DetectWithin time.Duration // 45 s
	// NoDetection says why a plan that injects faults declares no
	// detection (e.g. only the audit can see what it changed): the row
	// then shows no time to detect. Without it such a plan is refused.
	NoDetection string

	// Observe is the least the fault stays on from its injection, the
	// workload running (1 s), and then until every party During judges
	// (live or down) has run an operation in it: the window of During, which
	// overlaps the detection; a detection that took longer has covered it.
	Observe time.Duration
	During  check.Expect // how operations must fare from the injection to the end of the observation

	Target   int      // {{party}} of the runbooks
	Runbooks []string // runbook files, run in order
	Vars     map[string]string
	// ExpectDefect is the step ("runbook/step") that is wrong as the guide
	// writes it, and the reason it fails: the scenario expects it to fail
	// or lose data that way, reports it, and goes on with the next
	// runbook. The same step failing for another reason turns it red.
	ExpectDefect Defect
	// Defects are further findings about the guide the scenario makes.
	Defects []string

	Recovered     []probe.Probe // what must hold besides the steady state
	RecoverWithin time.Duration // 120 s
	// RecoverByReset: the runbooks cannot bring the cluster back (the
	// guide's procedure destroyed it); the harness restores it from its
	// offline copy, and says so.
	RecoverByReset bool

	NoWorkload bool
}

// Options of a run.
type Options struct {
	RunbookDir string
	// Cleanup registers a heal to run when the spec ends, pass or fail
	// (Ginkgo's DeferCleanup). It is called as soon as a fault is injected.
	Cleanup func(func(context.Context) error)
	// WorkloadShare is how many clusters share the machine (workload.Options.Share).
	WorkloadShare int
	// Alerts is where the shipped alerts are evaluated during the run
	// (the cluster's Prometheus), or why they are not.
	Alerts signals.Alerts
}

// Runbook loads a runbook file from dir.
func loadRunbooks(dir string, names []string) ([]*runbook.Runbook, error) {
	var out []*runbook.Runbook
	for _, n := range names {
		rb, err := runbook.Load(filepath.Join(dir, n+".yaml"))
		if err != nil {
			return nil, err
		}
		out = append(out, rb)
	}
	return out, nil
}

func sortInts(xs []int) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// failure collects the reasons a scenario fails.
type failure struct{ errs []error }

func (f *failure) add(format string, a ...any) { f.errs = append(f.errs, fmt.Errorf(format, a...)) }
func (f *failure) err() error                  { return errors.Join(f.errs...) }
