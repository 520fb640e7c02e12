package tss

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// fixture is a dealt 4-party key with one ciphertext and every party's
// decryption share of it, from a fixed seed so a failing input replays.
type fixture struct {
	pk     *PublicKey
	ks     []KeyShare
	raw    []byte
	ct     *Ciphertext
	shares []Share
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	rnd := rand.NewChaCha8([32]byte{'k', 'm', 's', 'c', 'h', 'a', 'o', 's'})
	pk, ks, err := Deal(rnd, 4, 1)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := pk.Encrypt(rnd, 42)
	if err != nil {
		tb.Fatal(err)
	}
	ct, err := ParseCiphertext(raw)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{pk: pk, ks: ks, raw: raw, ct: ct}
	for i := range ks {
		s, err := ks[i].DecryptionShare(rnd, pk, ct.C1)
		if err != nil {
			tb.Fatal(err)
		}
		f.shares = append(f.shares, s)
	}
	return f
}

// FuzzParseCiphertext: any bytes either fail to parse with an error, or
// parse canonically and then open to a value or fail closed, never panic.
func FuzzParseCiphertext(f *testing.F) {
	fx := newFixture(f)
	f.Add(fx.raw)
	f.Add(fx.raw[:len(fx.raw)-1])
	f.Add(append(append([]byte{}, fx.raw...), 0))
	f.Add([]byte(ctMagic))
	f.Add(make([]byte, cipherLen))
	flipped := append([]byte{}, fx.raw...)
	flipped[len(ctMagic)+3] ^= 0x10
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, b []byte) {
		ct, err := ParseCiphertext(b)
		if err != nil {
			if ct != nil || err.Error() == "" {
				t.Fatalf("error %q with a ciphertext %v", err, ct)
			}
			return
		}
		if len(b) != cipherLen {
			t.Fatalf("parsed %d bytes, want exactly %d", len(b), cipherLen)
		}
		c1, _ := ct.C1.MarshalBinaryCompress()
		if !bytes.Equal(c1, b[len(ctMagic):len(ctMagic)+elementLen]) {
			t.Fatal("ephemeral point decoded from a non-canonical encoding")
		}
		var shares []Share
		for i := range fx.ks[:fx.pk.T+1] {
			s, err := fx.ks[i].DecryptionShare(rand.NewChaCha8([32]byte{}), fx.pk, ct.C1)
			if err != nil {
				t.Fatal(err)
			}
			if err := fx.pk.VerifyShare(ct.C1, s); err != nil {
				t.Fatalf("honest share of party %d for a parsed ciphertext rejected: %v", s.Party, err)
			}
			shares = append(shares, s)
		}
		v, err := fx.pk.Combine(ct, shares)
		if err != nil && !errors.Is(err, ErrDecryptionFailed) {
			t.Fatalf("combination failed other than closed: %v", err)
		}
		if err == nil && !bytes.Equal(b, fx.raw) {
			t.Fatalf("a ciphertext the key never made opened to %d", v)
		}
	})
}

// FuzzVerifyShare: a share as it arrives (party, value bytes, proof bytes)
// is accepted only when it is that party's honest share value; anything
// else is refused with an error, never a panic.
func FuzzVerifyShare(f *testing.F) {
	fx := newFixture(f)
	for _, s := range fx.shares[:2] {
		d, _ := s.D.MarshalBinaryCompress()
		f.Add(s.Party, d, s.Proof)
		other, _ := G.NewElement().Add(s.D, G.Generator()).MarshalBinaryCompress()
		f.Add(s.Party, other, s.Proof)
		f.Add(s.Party+1, d, s.Proof)
	}
	f.Add(0, make([]byte, elementLen), []byte{})
	f.Add(5, bytes.Repeat([]byte{0xff}, elementLen), bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, party int, d, proof []byte) {
		e := G.NewElement()
		if err := e.UnmarshalBinary(d); err != nil {
			return // not a group element: it never becomes a share
		}
		err := fx.pk.VerifyShare(fx.ct.C1, Share{Party: party, D: e, Proof: proof})
		if err == nil && !e.IsEqual(fx.shares[party-1].D) {
			t.Fatalf("share of party %d accepted with a value that is not its own", party)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("rejected without a reason")
		}
	})
}
