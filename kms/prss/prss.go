// Package prss implements pseudo-random secret sharing (Cramer, Damgård,
// Ishai): parties that share one key per maximal unqualified set derive,
// without talking, a Shamir sharing of degree t of a fresh random value for
// every session.
//
// For each set T of t parties (a maximal set that learns nothing) the n-t
// parties outside T hold a key r_T. With f_T the polynomial of degree t with
// f_T(0) = 1 and f_T(j) = 0 for j in T, party i's share for session s is
// sum over T not holding i of PRF(r_T, s) * f_T(i). For n=13, t=4 there are
// C(13,4) = 715 keys and each party holds the C(12,8) = 495 it belongs to.
//
// A party whose keys differ from its peers' produces a share off the common
// polynomial; Open finds it by decoding with the shares of every party.
package prss

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"

	"github.com/cloudflare/circl/group"

	"github.com/kmschaos/kmschaos/kms/tss"
)

// KeyLen is the size of one PRSS key and of one set-up contribution.
const KeyLen = 32

var prfDST = []byte("kmschaos-prss-prf-v1")

// Set is a set of parties as a bit mask: bit i-1 stands for party i.
type Set uint64

// Has tells whether party p is in the set.
func (s Set) Has(p int) bool { return s&(1<<(p-1)) != 0 }

// Members lists the parties of the set in ascending order.
func (s Set) Members() []int {
	var out []int
	for v := uint64(s); v != 0; v &= v - 1 {
		out = append(out, bits.TrailingZeros64(v)+1)
	}
	return out
}

func (s Set) String() string { return fmt.Sprint(s.Members()) }

// KeySets lists the key holder sets: every set of n-t parties, that is the
// complement of every maximal unqualified set, in ascending mask order.
func KeySets(n, t int) []Set {
	var out []Set
	full := uint64(1)<<n - 1
	// Enumerate subsets of size n-t with Gosper's hack.
	k := n - t
	for v := uint64(1)<<k - 1; v <= full; {
		out = append(out, Set(v))
		c := v & -v
		r := v + c
		v = (((r ^ v) >> 2) / c) | r
	}
	return out
}

// Keys are one party's PRSS keys for one epoch.
type Keys struct {
	EpochID string
	N, T    int
	Party   int
	keys    map[Set][KeyLen]byte
	coeff   map[Set]group.Scalar // f_T(Party), fixed per set
}

// NewKeys checks and wraps a party's keys: exactly one key for every holder
// set that contains the party.
func NewKeys(epochID string, n, t, party int, keys map[Set][KeyLen]byte) (*Keys, error) {
	if err := tss.ValidateTopology(n, t); err != nil {
		return nil, err
	}
	if party < 1 || party > n {
		return nil, fmt.Errorf("party %d out of range 1..%d", party, n)
	}
	// Count before enumerating: a stored file claiming n=40 would make
	// KeySets list C(40,27) sets and never return (n=64 overflows it). A
	// count that is merely off falls through, so the missing set is named.
	if want := heldKeys(n, t); want != uint64(len(keys)) && want > maxEnumeratedKeys {
		return nil, fmt.Errorf("PRSS data holds %d keys, party %d must hold %d", len(keys), party, want)
	}
	k := &Keys{EpochID: epochID, N: n, T: t, Party: party, keys: make(map[Set][KeyLen]byte), coeff: make(map[Set]group.Scalar)}
	for _, s := range KeySets(n, t) {
		if !s.Has(party) {
			continue
		}
		key, ok := keys[s]
		if !ok {
			return nil, fmt.Errorf("PRSS key for set %v is missing", s)
		}
		k.keys[s] = key
		k.coeff[s] = holderCoefficient(n, s, party)
	}
	if len(k.keys) != len(keys) {
		return nil, fmt.Errorf("PRSS data holds %d keys, party %d must hold %d", len(keys), party, len(k.keys))
	}
	return k, nil
}

// maxEnumeratedKeys bounds the key sets NewKeys lists to name a missing
// one: far above n=13's 495, far below what would stall a party's start.
const maxEnumeratedKeys = 1 << 16

// heldKeys is how many key sets hold one party: C(n-1, t), the sets of
// n-t parties that contain it; math.MaxUint64 when that overflows.
func heldKeys(n, t int) uint64 {
	c := uint64(1)
	for i := 1; i <= t; i++ {
		// c*(n-t-1+i)/i stays an integer at every step: C(n-t-1+i, i).
		hi, lo := bits.Mul64(c, uint64(n-t-1+i))
		if hi != 0 {
			return math.MaxUint64
		}
		c = lo / uint64(i)
	}
	return c
}

// holderCoefficient is f_T(i) for T the complement of s: the product over
// j in T of (j - i) / j, which is 1 at zero and 0 on T.
func holderCoefficient(n int, s Set, i int) group.Scalar {
	g := tss.G
	num := g.NewScalar().SetUint64(1)
	den := g.NewScalar().SetUint64(1)
	for j := 1; j <= n; j++ {
		if s.Has(j) {
			continue
		}
		num.Mul(num, g.NewScalar().Sub(g.NewScalar().SetUint64(uint64(j)), g.NewScalar().SetUint64(uint64(i))))
		den.Mul(den, g.NewScalar().SetUint64(uint64(j)))
	}
	return num.Mul(num, g.NewScalar().Inv(den))
}

// Len is the number of keys this party holds.
func (k *Keys) Len() int { return len(k.keys) }

// Export returns a copy of the keys, for storage.
func (k *Keys) Export() map[Set][KeyLen]byte {
	out := make(map[Set][KeyLen]byte, len(k.keys))
	for s, v := range k.keys {
		out[s] = v
	}
	return out
}

// Share returns this party's share of the random value of session sid.
func (k *Keys) Share(sid []byte) group.Scalar {
	g := tss.G
	sum := g.NewScalar()
	msg := make([]byte, KeyLen+len(sid))
	copy(msg[KeyLen:], sid)
	for s, key := range k.keys {
		copy(msg, key[:])
		psi := g.HashToScalar(msg, prfDST)
		sum.Add(sum, psi.Mul(psi, k.coeff[s]))
	}
	return sum
}

// PairDigest is a digest of the keys this party shares with party other. Two
// parties that derived the same keys compute the same digest; it reveals
// nothing about the keys.
func (k *Keys) PairDigest(other int) []byte {
	sets := make([]Set, 0, len(k.keys))
	for s := range k.keys {
		if s.Has(other) {
			sets = append(sets, s)
		}
	}
	sort.Slice(sets, func(a, b int) bool { return sets[a] < sets[b] })
	h := sha256.New()
	h.Write([]byte("kmschaos-prss-confirm-v1"))
	h.Write([]byte(k.EpochID))
	lo, hi := min(k.Party, other), max(k.Party, other)
	_ = binary.Write(h, binary.BigEndian, [2]uint32{uint32(lo), uint32(hi)})
	for _, s := range sets {
		_ = binary.Write(h, binary.BigEndian, uint64(s))
		key := k.keys[s]
		h.Write(key[:])
	}
	return h.Sum(nil)
}

// DeriveKey combines the contributions of every member of s (in member
// order) into the set's key: no single member chooses it.
func DeriveKey(epochID string, s Set, contributions map[int][KeyLen]byte) ([KeyLen]byte, error) {
	h := sha256.New()
	h.Write([]byte("kmschaos-prss-key-v1"))
	h.Write([]byte(epochID))
	_ = binary.Write(h, binary.BigEndian, uint64(s))
	for _, m := range s.Members() {
		c, ok := contributions[m]
		if !ok {
			return [KeyLen]byte{}, fmt.Errorf("no contribution of party %d for set %v", m, s)
		}
		h.Write(c[:])
	}
	var out [KeyLen]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

// ErrCannotOpen means the shares do not determine a value: too few, or too
// many of them disagree.
var ErrCannotOpen = errors.New("PRSS opening failed")

// Open reconstructs the shared value from shares given by party id, with
// error correction: with m shares it corrects up to (m-t-1)/2 wrong ones and
// returns their parties as bad. With exactly t+1 shares nothing can be
// checked. It fails rather than return a value it cannot vouch for.
func Open(t int, shares map[int]group.Scalar) (group.Scalar, []int, error) {
	parties := make([]int, 0, len(shares))
	for p := range shares {
		parties = append(parties, p)
	}
	sort.Ints(parties)
	m := len(parties)
	if m < t+1 {
		return nil, nil, fmt.Errorf("%w: %d shares, need %d", ErrCannotOpen, m, t+1)
	}
	maxErr := (m - t - 1) / 2
	var best []int
	// Fast path first: the first t+1 parties, usually all honest.
	try := func(base []int) bool {
		var off []int
		for _, p := range parties {
			if !evalAt(p, base, shares).IsEqual(shares[p]) {
				off = append(off, p)
				if len(off) > maxErr {
					return false
				}
			}
		}
		best = off
		return true
	}
	base := make([]int, t+1)
	idx := make([]int, t+1)
	for i := range idx {
		idx[i] = i
	}
	for {
		for i, j := range idx {
			base[i] = parties[j]
		}
		if try(base) {
			return evalAt(0, base, shares), best, nil
		}
		// Next combination of t+1 indices out of m.
		i := t
		for i >= 0 && idx[i] == m-t-1+i {
			i--
		}
		if i < 0 {
			return nil, nil, fmt.Errorf("%w: more than %d of %d shares are inconsistent", ErrCannotOpen, maxErr, m)
		}
		idx[i]++
		for j := i + 1; j <= t; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
}

func evalAt(x int, base []int, shares map[int]group.Scalar) group.Scalar {
	v := tss.G.NewScalar()
	for i, p := range base {
		v.Add(v, tss.G.NewScalar().Mul(shares[p], tss.LagrangeAt(x, base, i)))
	}
	return v
}
