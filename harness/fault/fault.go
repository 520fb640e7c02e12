// Package fault is the catalog of failures the troubleshooting guide
// describes, as values over the cluster's handles: one kind, many
// parameterisations. Inject returns the fault's Heal at once, so the caller
// can register it for cleanup before anything else can fail; a Heal may be
// called again, and retries what failed.
package fault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kmschaos/kmschaos/cluster"
)

// Kinds of faults, also the Ginkgo labels of the scenarios using them.
const (
	Network   = "network"
	Process   = "process"
	Resources = "resources"
	Storage   = "storage"
	Config    = "config"
	PRSS      = "prss"
	Keys      = "keys"
)

// Heal undoes a fault. Calling it again after it succeeded does nothing;
// after it failed, it tries again.
type Heal func(ctx context.Context) error

// Fault is one failure to inject.
type Fault interface {
	Name() string
	Kind() string
	// Parties are the parties the fault takes away from the cluster, for
	// the fault budget: more than t must be declared by the scenario. Every
	// fault names at least one: CheckBudget refuses a fault that names none.
	Parties() []int
	Inject(ctx context.Context, c *cluster.Cluster) (Heal, error)
}

// Applicable is implemented by faults that need a minimum topology.
type Applicable interface {
	Applicable(cluster.Topology) error
}

// Requiring is implemented by faults that need a verb some backends do not
// offer (helm): Unsupported says why c's backend cannot inject it (a
// cluster.Unsupported), or nil. The runner asks before it injects
// anything, so that a scenario its backend cannot run is skipped at once
// rather than after the faults before it (an uninitialised cluster of 13
// restarted parties, 50 s, for nothing).
type Requiring interface {
	Fault
	Unsupported(c *cluster.Cluster) error
}

type requiring struct {
	Fault
	why func(*cluster.Cluster) error
}

func (r requiring) Unsupported(c *cluster.Cluster) error { return r.why(c) }

type fault struct {
	name, kind string
	parties    []int
	inject     func(ctx context.Context, c *cluster.Cluster) (Heal, error)
}

func (f *fault) Name() string   { return f.name }
func (f *fault) Kind() string   { return f.kind }
func (f *fault) Parties() []int { return f.parties }
func (f *fault) String() string { return f.name }
func (f *fault) Inject(ctx context.Context, c *cluster.Cluster) (Heal, error) {
	h, err := f.inject(ctx, c)
	if h == nil {
		h = func(context.Context) error { return nil }
	}
	return Once(h), err
}

// New makes a fault from an inject function: the way to add a fault
// without touching the harness. inject must return a heal even when it
// fails half-way, undoing what it did.
func New(name, kind string, parties []int, inject func(ctx context.Context, c *cluster.Cluster) (Heal, error)) Fault {
	return &fault{name: name, kind: kind, parties: parties, inject: inject}
}

// Once makes a heal safe to call again: only a heal that succeeded is
// remembered, so a failed one (the engine busy, a link API down) is tried
// again by the next call, the cleanup's. Concurrent calls heal once: they
// wait for the call under way and share its success.
func Once(h Heal) Heal {
	var mu sync.Mutex
	healed := false
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if healed {
			return nil
		}
		if err := h(ctx); err != nil {
			return err
		}
		healed = true
		return nil
	}
}

// heals combines heals, undoing in reverse order. Each is wrapped in Once,
// so retrying the combination retries only the parts that failed.
type heals []Heal

func (hs *heals) add(h Heal) { *hs = append(*hs, Once(h)) }

func (hs heals) all() Heal {
	return func(ctx context.Context) error {
		var errs []error
		for i := len(hs) - 1; i >= 0; i-- {
			if err := hs[i](ctx); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

// AtOnce injects fs together, each from its own goroutine, as faults that
// strike several parties at the same moment: t key shares corrupted at
// once, not one restart after another (four took 9.7 s in a row at n=13,
// the first party back before the last went down). Its name is theirs
// joined, its kind theirs (joined when they differ), its parties their
// union; its heal heals every one, even after a failed injection.
func AtOnce(fs ...Fault) Fault {
	var names, kinds []string
	for _, f := range fs {
		names = append(names, f.Name())
		if !slices.Contains(kinds, f.Kind()) {
			kinds = append(kinds, f.Kind())
		}
	}
	return New(strings.Join(names, " + "), strings.Join(kinds, ","), Touched(fs...), func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		hs := make([]Heal, len(fs))
		errs := make([]error, len(fs))
		var wg sync.WaitGroup
		for k, f := range fs {
			wg.Go(func() { hs[k], errs[k] = f.Inject(ctx, c) })
		}
		wg.Wait()
		heal := func(ctx context.Context) error {
			errs := make([]error, len(hs))
			var wg sync.WaitGroup
			for k, h := range hs {
				if h != nil {
					wg.Go(func() { errs[k] = h(ctx) })
				}
			}
			wg.Wait()
			return errors.Join(errs...)
		}
		return heal, errors.Join(errs...)
	})
}

// Touched is the union of the parties of several faults.
func Touched(fs ...Fault) []int {
	set := map[int]bool{}
	for _, f := range fs {
		for _, p := range f.Parties() {
			set[p] = true
		}
	}
	out := make([]int, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// CheckBudget refuses faults that touch more than t parties unless the
// scenario declared it: beyond t the cluster is expected to fail closed,
// not to keep working, and a scenario must say which it tests.
//
// It also refuses a fault that declares no party at all, declared or not.
// Every fault of the catalog acts on some party (a link, a container, a
// volume), so an empty list is an omission, and counting it as zero would
// let it escape the budget; counting it as every party instead would turn
// the omission into a misleading "over budget" and a wrong party list in
// the report. Refusing names the fault to fix.
func CheckBudget(t int, declared bool, fs ...Fault) error {
	var undeclared []Fault
	for _, f := range fs {
		if len(f.Parties()) == 0 {
			undeclared = append(undeclared, f)
		}
	}
	if len(undeclared) > 0 {
		return fmt.Errorf("fault budget cannot be checked: %s declare no parties; every fault must name the parties it touches", names(undeclared))
	}
	touched := Touched(fs...)
	if len(touched) > t && !declared {
		return fmt.Errorf("fault budget exceeded: %s touch parties %v, more than t=%d, and the scenario does not declare it", names(fs), touched, t)
	}
	return nil
}

func names(fs []Fault) string {
	var n []string
	for _, f := range fs {
		n = append(n, f.Name())
	}
	return strings.Join(n, " + ")
}
