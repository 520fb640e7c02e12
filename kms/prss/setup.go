package prss

import (
	"fmt"
	"io"
)

// Setup is one party's side of agreeing on the PRSS keys of a new epoch.
// Every member of every key set contributes randomness to the set's key, so
// the protocol needs every party: one that never contributes blocks it,
// which is how a PRSS initialisation with a party unreachable fails.
type Setup struct {
	EpochID  string
	N, T     int
	Party    int
	own      map[Set][KeyLen]byte
	received map[int]map[Set][KeyLen]byte
}

// NewSetup draws this party's contributions for every set that holds it.
func NewSetup(rnd io.Reader, epochID string, n, t, party int) (*Setup, error) {
	s := &Setup{EpochID: epochID, N: n, T: t, Party: party, own: map[Set][KeyLen]byte{}, received: map[int]map[Set][KeyLen]byte{}}
	for _, set := range KeySets(n, t) {
		if !set.Has(party) {
			continue
		}
		var c [KeyLen]byte
		if _, err := io.ReadFull(rnd, c[:]); err != nil {
			return nil, err
		}
		s.own[set] = c
	}
	return s, nil
}

// ContributionsFor returns what this party sends to peer: its contributions
// to the sets holding both of them.
func (s *Setup) ContributionsFor(peer int) map[Set][KeyLen]byte {
	out := map[Set][KeyLen]byte{}
	for set, c := range s.own {
		if set.Has(peer) {
			out[set] = c
		}
	}
	return out
}

// Receive records the contributions of a peer after checking that they
// cover exactly the sets holding both parties.
func (s *Setup) Receive(from int, c map[Set][KeyLen]byte) error {
	if from < 1 || from > s.N || from == s.Party {
		return fmt.Errorf("PRSS contribution from invalid party %d", from)
	}
	want := 0
	for set := range s.own {
		if set.Has(from) {
			want++
		}
	}
	for set := range c {
		if !set.Has(from) || !set.Has(s.Party) {
			return fmt.Errorf("party %d contributed to set %v which does not hold both parties", from, set)
		}
	}
	if len(c) != want {
		return fmt.Errorf("party %d contributed to %d sets, want %d", from, len(c), want)
	}
	s.received[from] = c
	return nil
}

// Missing lists the peers whose contributions have not arrived.
func (s *Setup) Missing() []int {
	var out []int
	for p := 1; p <= s.N; p++ {
		if _, ok := s.received[p]; p != s.Party && !ok {
			out = append(out, p)
		}
	}
	return out
}

// Finish derives the keys once every peer has contributed.
func (s *Setup) Finish() (*Keys, error) {
	if m := s.Missing(); len(m) > 0 {
		return nil, fmt.Errorf("no PRSS contribution from parties %v", m)
	}
	keys := make(map[Set][KeyLen]byte, len(s.own))
	for set, c := range s.own {
		contrib := map[int][KeyLen]byte{s.Party: c}
		for _, m := range set.Members() {
			if m != s.Party {
				contrib[m] = s.received[m][set]
			}
		}
		k, err := DeriveKey(s.EpochID, set, contrib)
		if err != nil {
			return nil, err
		}
		keys[set] = k
	}
	return NewKeys(s.EpochID, s.N, s.T, s.Party, keys)
}
