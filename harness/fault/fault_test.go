package fault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

func TestOnceRetriesAFailedHealAndKeepsASuccessfulOne(t *testing.T) {
	ctx := context.Background()
	calls := 0
	h := Once(func(context.Context) error {
		calls++
		if calls == 1 {
			return errors.New("engine busy")
		}
		return nil
	})
	if err := h(ctx); err == nil || err.Error() != "engine busy" {
		t.Fatalf("first heal: %v, want the heal's error", err)
	}
	if err := h(ctx); err != nil {
		t.Fatalf("second heal: %v, want the retry to succeed", err)
	}
	if err := h(ctx); err != nil {
		t.Fatalf("third heal: %v", err)
	}
	if calls != 2 {
		t.Fatalf("heal ran %d times, want 2 (once failing, once succeeding, then never again)", calls)
	}
}

func TestOnceHealsOnceUnderConcurrentCalls(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	h := Once(func(context.Context) error {
		calls.Add(1)
		<-release
		return nil
	})
	const callers = 8
	errs := make(chan error, callers)
	var started sync.WaitGroup
	for range callers {
		started.Add(1)
		go func() {
			started.Done()
			errs <- h(context.Background())
		}()
	}
	started.Wait()
	close(release)
	for range callers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("heal ran %d times under %d concurrent calls, want 1", n, callers)
	}
}

func TestCombinedHealsRetryOnlyWhatFailed(t *testing.T) {
	ctx := context.Background()
	var first, second int
	var hs heals
	hs.add(func(context.Context) error { first++; return nil })
	hs.add(func(context.Context) error {
		second++
		if second == 1 {
			return errors.New("link API down")
		}
		return nil
	})
	all := Once(hs.all())
	if err := all(ctx); err == nil {
		t.Fatal("combined heal hid the failure of a part")
	}
	if err := all(ctx); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if first != 1 || second != 2 {
		t.Fatalf("parts ran %d and %d times, want 1 (succeeded at once) and 2 (retried)", first, second)
	}
}

func noop(context.Context, *cluster.Cluster) (Heal, error) { return nil, nil }

func TestCheckBudgetRefusesAFaultThatDeclaresNoParties(t *testing.T) {
	const th = 1
	undeclared := New("mystery toxic", Network, nil, noop)
	for _, declared := range []bool{false, true} {
		err := CheckBudget(th, declared, undeclared, Kill(2))
		if err == nil {
			t.Fatalf("declared=%v: a fault with no parties plus t=%d parties elsewhere passed the budget", declared, th)
		}
		if !strings.Contains(err.Error(), "mystery toxic") || !strings.Contains(err.Error(), "declare no parties") {
			t.Fatalf("error does not name the undeclared fault: %v", err)
		}
	}
	if err := CheckBudget(th, false, New("empty list", Network, []int{}, noop)); err == nil {
		t.Fatal("an empty (non-nil) party list passed the budget")
	}
}

func TestCheckBudget(t *testing.T) {
	if err := CheckBudget(1, false); err != nil {
		t.Fatalf("no fault: %v", err)
	}
	if err := CheckBudget(1, false, Kill(2), Pause(2)); err != nil {
		t.Fatalf("one party twice is within t=1: %v", err)
	}
	err := CheckBudget(1, false, Kill(2), LinkRefused(3, 4))
	if err == nil || !strings.Contains(err.Error(), "[2 3]") {
		t.Fatalf("two parties with t=1 undeclared: %v, want over budget naming [2 3]", err)
	}
	if err := CheckBudget(1, true, Kill(2), LinkRefused(3, 4)); err != nil {
		t.Fatalf("declared beyond threshold: %v", err)
	}
}

// Every constructor of the catalog names the parties it touches, so none
// can slip past the budget.
func TestEveryConstructorDeclaresItsParties(t *testing.T) {
	for _, f := range []Fault{
		LinkRefused(1, 2), LinkHang(1, 2), ClientRefused(1), ClientHang(1),
		Partition([]int{1}, []int{2, 3, 4}), OneWay([]int{1}, []int{2, 3}), Cut([2]int{1, 2}), Isolate(1),
		Latency([]int{1, 2}, time.Millisecond, 0), Bandwidth(1, 2), Resets(1, 0.5), LimitData(1, 1024),
		Flapping(1, 2, time.Second), DNSLoss(1, 2),
		Kill(1), Stop(1), Pause(1), MemoryLimit(1, 8<<20), CPUQuota(1, 0.1), MemoryPressure(1, 0.75),
		Remove(1, KeyShare), Flip(1, KeyShare), CorruptShare(1), ScramblePRSS(1), ForgePublic(1),
		Chmod(1, "PRIV-p1", "000"), DiskFull(1, 90), BadConfig(1, MalformedTOML), FlipBackup(1, BackupKeyShare), PortHeld(1, 50100), ChmodBackup(1, "000"),
	} {
		if len(f.Parties()) == 0 {
			t.Errorf("%s declares no parties", f.Name())
		}
	}
	if got := Latency([]int{2, 3}, time.Millisecond, 0).Parties(); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("latency on parties [2 3] declares %v", got)
	}
}

func TestKindsTable(t *testing.T) {
	topo := cluster.Topology{N: 4, T: 1}
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.Name] || k.build == nil || k.undo == nil || k.Summary == "" || (k.Target != AtParty && k.Target != AtLink) {
			t.Errorf("kind %q: duplicate or incomplete row", k.Name)
		}
		seen[k.Name] = true
		party, link := 2, [2]int{}
		if k.Target == AtLink {
			party, link = 0, [2]int{1, 3}
		}
		a, err := k.Check(topo, party, link, nil)
		if err != nil {
			t.Errorf("kind %s with its defaults: %v", k.Name, err)
			continue
		}
		for _, p := range k.Params {
			if a.Params[p.Name] != p.Default || p.valid(p.Default) != nil {
				t.Errorf("kind %s: default %s=%q not filled in or invalid", k.Name, p.Name, p.Default)
			}
		}
		f := k.Build(a, "hand-x")
		if want := []int{2}; k.Target == AtLink {
			want = []int{1}
			if !slices.Equal(f.Parties(), want) {
				t.Errorf("kind %s on link 1-3 touches %v, want %v", k.Name, f.Parties(), want)
			}
		} else if !slices.Equal(f.Parties(), want) {
			t.Errorf("kind %s on party 2 touches %v, want %v", k.Name, f.Parties(), want)
		}
	}
}

func TestKindsRefuseBadInput(t *testing.T) {
	topo := cluster.Topology{N: 4, T: 1}
	lat, _ := LookupKind("latency")
	hang, _ := LookupKind("link-hang")
	held, _ := LookupKind("port-held")
	pressure, _ := LookupKind("memory-pressure")
	cases := []struct {
		k     KindSpec
		party int
		link  [2]int
		p     map[string]string
		want  string
	}{
		{lat, 5, [2]int{}, nil, "party 5 is out of range: the cluster has parties 1 to 4"},
		{lat, 0, [2]int{}, nil, "latency needs --party N (1 to 4)"},
		{lat, 0, [2]int{1, 2}, nil, "latency is aimed at a party: use --party N, not --link"},
		{lat, 1, [2]int{}, map[string]string{"latncy": "1s"}, `latency has no parameter "latncy" (it takes: latency, jitter)`},
		{lat, 1, [2]int{}, map[string]string{"latency": "fast"}, "--param latency=fast: not a duration like 300ms"},
		{hang, 0, [2]int{2, 2}, nil, "--link 2-2 is a link to itself"},
		{hang, 0, [2]int{1, 9}, nil, "--link 1-9: party 9 is out of range"},
		{hang, 3, [2]int{}, nil, "link-hang is aimed at a link: use --link I-J, not --party"},
		{held, 1, [2]int{}, map[string]string{"port": "70000"}, "--param port=70000: not a port from 1 to 65535"},
		{pressure, 1, [2]int{}, map[string]string{"ratio": "1.5"}, "--param ratio=1.5: not a fraction in (0, 1]"},
	}
	for _, c := range cases {
		_, err := c.k.Check(topo, c.party, c.link, c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s party=%d link=%v params=%v: %v, want %q", c.k.Name, c.party, c.link, c.p, err, c.want)
		}
	}
	for typo, want := range map[string]string{"latncy": "latency", "kil": "kill", "link-refuse": "link-refused", "paus": "pause"} {
		if got := Closest(typo); got != want {
			t.Errorf("Closest(%q) = %q, want %q", typo, got, want)
		}
	}
	// A word of a long name means a name that says it, not the shortest.
	names := []string{"a peer id greater than n stops the party", "kill one party: the others go on", "a slow disk"}
	if got := Nearest("kill", names); got != names[1] {
		t.Errorf("Nearest(kill) = %q, want %q", got, names[1])
	}
}

// The name is what reports and heals show: it must say -R when recursive.
func TestChmodName(t *testing.T) {
	if got, want := Chmod(2, "PRIV-p2", "500", RestartParty()).Name(), "chmod 500 PRIV-p2 on party 2"; got != want {
		t.Errorf("Chmod name = %q, want %q", got, want)
	}
	if got, want := Chmod(2, "PRIV-p2", "000", Recursive()).Name(), "chmod -R 000 PRIV-p2 on party 2"; got != want {
		t.Errorf("recursive Chmod name = %q, want %q", got, want)
	}
}

// AtOnce injects its faults together: each is in before any returns, so
// no fault waits for another's restart; it reads as their sum and heals
// them all.
func TestAtOnceInjectsTogether(t *testing.T) {
	var mu sync.Mutex
	in, healed := 0, 0
	all := make(chan struct{})
	one := func(i int) Fault {
		return New(fmt.Sprintf("share of party %d", i), Keys, []int{i}, func(ctx context.Context, _ *cluster.Cluster) (Heal, error) {
			mu.Lock()
			in++
			if in == 3 {
				close(all)
			}
			mu.Unlock()
			select { // every injection waits for the others: in a row, this blocks
			case <-all:
			case <-time.After(5 * time.Second):
				return nil, errors.New("injected alone: the others had not begun after 5 s")
			}
			return func(context.Context) error { mu.Lock(); healed++; mu.Unlock(); return nil }, nil
		})
	}
	f := AtOnce(one(1), one(2), one(3))
	if f.Name() != "share of party 1 + share of party 2 + share of party 3" || f.Kind() != Keys || !slices.Equal(f.Parties(), []int{1, 2, 3}) {
		t.Fatalf("AtOnce reads %q, kind %q, parties %v", f.Name(), f.Kind(), f.Parties())
	}
	heal, err := f.Inject(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := heal(context.Background()); err != nil || healed != 3 {
		t.Fatalf("heal: %v, %d of 3 healed", err, healed)
	}
}
