package prss

import (
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/group"

	"github.com/kmschaos/kmschaos/internal/benchsize"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// agree runs the set-up protocol among n parties in memory.
func agree(t testing.TB, epoch string, n, th int) []*Keys {
	t.Helper()
	setups := make([]*Setup, n)
	for i := range setups {
		s, err := NewSetup(rand.Reader, epoch, n, th, i+1)
		if err != nil {
			t.Fatal(err)
		}
		setups[i] = s
	}
	for i, s := range setups {
		for j, peer := range setups {
			if i != j {
				if err := peer.Receive(i+1, s.ContributionsFor(j+1)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	keys := make([]*Keys, n)
	for i, s := range setups {
		k, err := s.Finish()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	return keys
}

func TestKeySetCounts(t *testing.T) {
	sets := KeySets(13, 4)
	if len(sets) != 715 {
		t.Fatalf("%d key sets, want C(13,4)=715", len(sets))
	}
	holding := 0
	for _, s := range sets {
		if len(s.Members()) != 9 {
			t.Fatalf("set %v has %d members", s, len(s.Members()))
		}
		if s.Has(5) {
			holding++
		}
	}
	if holding != 495 {
		t.Fatalf("party 5 holds %d keys, want C(12,8)=495", holding)
	}
	if got := len(KeySets(4, 1)); got != 4 {
		t.Fatalf("n=4: %d sets", got)
	}
}

func TestSetupAgreesAndSharesLieOnOnePolynomial(t *testing.T) {
	const n, th = 13, 4
	keys := agree(t, "epoch-a", n, th)
	for i := range keys {
		if keys[i].Len() != 495 {
			t.Fatalf("party %d holds %d keys", i+1, keys[i].Len())
		}
		for j := range keys {
			if i != j && !slices.Equal(keys[i].PairDigest(j+1), keys[j].PairDigest(i+1)) {
				t.Fatalf("parties %d and %d disagree on their common keys", i+1, j+1)
			}
		}
	}
	sid := []byte("session-1")
	shares := map[int]group.Scalar{}
	for _, k := range keys {
		shares[k.Party] = k.Share(sid)
	}
	v, bad, err := Open(th, shares)
	if err != nil || len(bad) != 0 {
		t.Fatalf("open: %v bad=%v", err, bad)
	}
	// Every qualified subset opens to the same value.
	for _, sub := range [][]int{{1, 2, 3, 4, 5}, {9, 10, 11, 12, 13}, {2, 4, 6, 8, 10}} {
		part := map[int]group.Scalar{}
		for _, p := range sub {
			part[p] = shares[p]
		}
		w, _, err := Open(th, part)
		if err != nil || !w.IsEqual(v) {
			t.Fatalf("subset %v opens differently: %v", sub, err)
		}
	}
	// A different session gives a different value.
	other := map[int]group.Scalar{}
	for _, k := range keys {
		other[k.Party] = k.Share([]byte("session-2"))
	}
	w, _, _ := Open(th, other)
	if w.IsEqual(v) {
		t.Fatal("two sessions gave the same value")
	}
}

func TestWrongKeysAreCaughtAndNamed(t *testing.T) {
	const n, th = 13, 4
	keys := agree(t, "epoch-b", n, th)
	// Party 6 holds a valid-looking but foreign set of keys: a PRSS file
	// that loads fine and is silently wrong.
	foreign := agree(t, "epoch-b", n, th)[5]
	sid := []byte("s")
	shares := map[int]group.Scalar{}
	for _, k := range keys {
		shares[k.Party] = k.Share(sid)
	}
	want, _, _ := Open(th, shares)
	shares[6] = foreign.Share(sid)
	got, bad, err := Open(th, shares)
	if err != nil || !slices.Equal(bad, []int{6}) || !got.IsEqual(want) {
		t.Fatalf("got bad=%v err=%v equal=%v, want party 6 named and the value kept", bad, err, got.IsEqual(want))
	}
	if slices.Equal(foreign.PairDigest(1), keys[0].PairDigest(6)) {
		t.Fatal("confirmation digest does not catch foreign keys")
	}
	// Up to (m-t-1)/2 = 4 wrong shares among 13 are corrected and named.
	for _, p := range []int{2, 9, 13} {
		shares[p] = tss.G.RandomScalar(rand.Reader)
	}
	got, bad, err = Open(th, shares)
	if err != nil || !slices.Equal(bad, []int{2, 6, 9, 13}) || !got.IsEqual(want) {
		t.Fatalf("4 wrong: bad=%v err=%v", bad, err)
	}
	// Five are too many: refuse rather than guess.
	shares[1] = tss.G.RandomScalar(rand.Reader)
	if _, _, err := Open(th, shares); err == nil {
		t.Fatal("opened with 5 wrong shares of 13")
	}
	// Six shares with one wrong: detected as inconsistent, nothing returned.
	few := map[int]group.Scalar{}
	for _, p := range []int{3, 4, 5, 6, 7, 8} {
		few[p] = keys[p-1].Share(sid)
	}
	few[6] = foreign.Share(sid)
	if _, _, err := Open(th, few); err == nil {
		t.Fatal("6 shares with a wrong one opened")
	}
}

func TestSetupNeedsEveryParty(t *testing.T) {
	s, _ := NewSetup(rand.Reader, "e", 4, 1, 1)
	for p := 2; p <= 3; p++ {
		peer, _ := NewSetup(rand.Reader, "e", 4, 1, p)
		if err := s.Receive(p, peer.ContributionsFor(1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Finish(); err == nil || !slices.Equal(s.Missing(), []int{4}) {
		t.Fatalf("finished without party 4: %v missing=%v", err, s.Missing())
	}
	peer, _ := NewSetup(rand.Reader, "e", 4, 1, 4)
	bad := peer.ContributionsFor(1)
	for set := range bad {
		delete(bad, set)
		break
	}
	if err := s.Receive(4, bad); err == nil {
		t.Fatal("accepted an incomplete contribution")
	}
}

// The PRSS cost as the cluster grows (BENCH_N selects the sizes): Share is
// what every party computes for every decryption, one PRF per key it holds,
// C(n-1, t); Setup is the whole in-memory agreement on C(n, t) keys, every
// party's side of it on one core.
func BenchmarkShare(b *testing.B) {
	for _, sz := range benchSizes(b) {
		b.Run(sz.Name(), func(b *testing.B) {
			k := agree(b, "bench", sz.N, sz.T)[0]
			for b.Loop() {
				k.Share([]byte("0123456789abcdef0123456789abcdef"))
			}
			b.ReportMetric(float64(k.Len()), "keys-held")
		})
	}
}

func BenchmarkSetup(b *testing.B) {
	for _, sz := range benchSizes(b) {
		b.Run(sz.Name(), func(b *testing.B) {
			for b.Loop() {
				agree(b, "bench", sz.N, sz.T)
			}
			b.ReportMetric(float64(len(KeySets(sz.N, sz.T))), "keys")
		})
	}
}

func benchSizes(b *testing.B) []benchsize.Size {
	b.Helper()
	sizes, err := benchsize.Sizes()
	if err != nil {
		b.Fatal(err)
	}
	return sizes
}

func TestHeldKeys(t *testing.T) {
	for _, c := range []struct {
		n, t int
		want uint64
	}{{4, 1, 3}, {7, 2, 15}, {13, 4, 495}, {64, 21, 27619435402363035}} {
		if got := heldKeys(c.n, c.t); got != c.want {
			t.Fatalf("heldKeys(%d, %d) = %d, want C(%d,%d) = %d", c.n, c.t, got, c.n-1, c.t, c.want)
		}
	}
	// Matches the enumeration where it is cheap.
	for _, nt := range [][2]int{{4, 1}, {7, 2}, {10, 3}, {13, 4}} {
		held := 0
		for _, s := range KeySets(nt[0], nt[1]) {
			if s.Has(1) {
				held++
			}
		}
		if uint64(held) != heldKeys(nt[0], nt[1]) {
			t.Fatalf("n=%d t=%d: %d sets hold party 1, heldKeys says %d", nt[0], nt[1], held, heldKeys(nt[0], nt[1]))
		}
	}
}

// A stored epoch claiming a large cluster is refused at once: listing its
// key sets would not end (n=64 overflows the enumeration).
func TestNewKeysRefusesAHugeTopologyWithoutEnumerating(t *testing.T) {
	for _, nt := range [][2]int{{40, 13}, {64, 21}} {
		done := make(chan error, 1)
		go func() { _, err := NewKeys("e", nt[0], nt[1], 1, nil); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "PRSS data holds 0 keys, party 1 must hold") {
				t.Fatalf("n=%d: %v", nt[0], err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("NewKeys for n=%d still running after 10 s", nt[0])
		}
	}
	// A small cluster missing a key still names the set.
	if _, err := NewKeys("e", 4, 1, 1, nil); err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Fatalf("n=4 without keys: %v", err)
	}
}
