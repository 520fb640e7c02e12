package tss

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math/bits"
	"testing"

	"github.com/cloudflare/circl/group"
)

func deal(t *testing.T, n, th int) (*PublicKey, []KeyShare) {
	t.Helper()
	pk, shares, err := Deal(rand.Reader, n, th)
	if err != nil {
		t.Fatal(err)
	}
	return pk, shares
}

func sharesFor(t *testing.T, pk *PublicKey, ks []KeyShare, ct *Ciphertext) []Share {
	t.Helper()
	out := make([]Share, len(ks))
	for i := range ks {
		s, err := ks[i].DecryptionShare(rand.Reader, pk, ct.C1)
		if err != nil {
			t.Fatal(err)
		}
		if err := pk.VerifyShare(ct.C1, s); err != nil {
			t.Fatalf("honest share of party %d rejected: %v", s.Party, err)
		}
		out[i] = s
	}
	return out
}

func TestEveryQualifiedSubsetDecrypts(t *testing.T) {
	const n, th = 13, 4
	pk, ks := deal(t, n, th)
	if err := pk.CheckConsistent(); err != nil {
		t.Fatal(err)
	}
	const value = uint64(0xC0FFEE_1234)
	raw, err := pk.Encrypt(rand.Reader, value)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := ParseCiphertext(raw)
	if err != nil {
		t.Fatal(err)
	}
	all := sharesFor(t, pk, ks, ct)
	subsets := 0
	for mask := uint(0); mask < 1<<n; mask++ {
		if bits.OnesCount(mask) != th+1 {
			continue
		}
		var sel []Share
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				sel = append(sel, all[i])
			}
		}
		got, err := pk.Combine(ct, sel)
		if err != nil || got != value {
			t.Fatalf("subset %013b: got %d, %v; want %d", mask, got, err, value)
		}
		subsets++
	}
	if subsets != 1287 { // C(13,5)
		t.Fatalf("checked %d subsets, want 1287", subsets)
	}
}

func TestFlippedShareIsCaughtAndNamed(t *testing.T) {
	pk, ks := deal(t, 13, 4)
	raw, _ := pk.Encrypt(rand.Reader, 42)
	ct, _ := ParseCiphertext(raw)
	shares := sharesFor(t, pk, ks, ct)

	// A party whose share value was flipped on disk but still loads: its
	// share no longer matches its verification key.
	bad := ks[6]
	bad.X = G.NewScalar().Add(bad.X, G.NewScalar().SetUint64(1))
	forged, err := bad.DecryptionShare(rand.Reader, pk, ct.C1)
	if err != nil {
		t.Fatal(err)
	}
	if err := pk.VerifyShare(ct.C1, forged); !errors.Is(err, ErrInvalidShare) {
		t.Fatalf("forged share of party %d accepted: %v", forged.Party, err)
	}
	if forged.Party != 7 {
		t.Fatalf("share names party %d, want 7", forged.Party)
	}
	// A share changed in transit to another valid group element (so it
	// always decodes) is caught, and still names its party.
	tampered := shares[2]
	tampered.D = G.NewElement().Add(shares[2].D, G.Generator())
	if err := pk.VerifyShare(ct.C1, tampered); !errors.Is(err, ErrInvalidShare) {
		t.Fatalf("tampered share of party %d accepted: %v", tampered.Party, err)
	}
	if tampered.Party != 3 {
		t.Fatalf("tampered share names party %d, want 3", tampered.Party)
	}
	// So is a valid share value under another party's proof.
	swapped := shares[2]
	swapped.Proof = shares[3].Proof
	if err := pk.VerifyShare(ct.C1, swapped); !errors.Is(err, ErrInvalidShare) {
		t.Fatalf("share of party 3 with party 4's proof accepted: %v", err)
	}
	// Combining an unproved wrong share fails closed, never a wrong value.
	sel := append([]Share{forged}, shares[:4]...)
	if v, err := pk.Combine(ct, sel); !errors.Is(err, ErrDecryptionFailed) {
		t.Fatalf("combination with a wrong share gave %d, %v", v, err)
	}
}

// The transmitted form of a share: bytes that do not encode a group
// element never become a share, and a proof that does not decode is
// refused with the reason.
func TestUndecodableShareIsRejected(t *testing.T) {
	pk, ks := deal(t, 4, 1)
	raw, _ := pk.Encrypt(rand.Reader, 42)
	ct, _ := ParseCiphertext(raw)
	honest := sharesFor(t, pk, ks, ct)[1]
	for _, b := range [][]byte{nil, make([]byte, 31), bytes.Repeat([]byte{0xff}, 32)} {
		if err := G.NewElement().UnmarshalBinary(b); err == nil {
			t.Fatalf("%x decoded as a group element", b)
		}
	}
	for _, proof := range [][]byte{nil, honest.Proof[:len(honest.Proof)-1], bytes.Repeat([]byte{0xff}, len(honest.Proof))} {
		bad := honest
		bad.Proof = proof
		err := pk.VerifyShare(ct.C1, bad)
		if !errors.Is(err, ErrInvalidShare) || err.Error() == ErrInvalidShare.Error() {
			t.Fatalf("undecodable proof of %d bytes: %v, want ErrInvalidShare with the decoding error", len(proof), err)
		}
	}
	missing := honest
	missing.D = nil
	if err := pk.VerifyShare(ct.C1, missing); !errors.Is(err, ErrInvalidShare) {
		t.Fatalf("share without a value: %v", err)
	}
	for _, party := range []int{0, -1, 5} {
		bad := honest
		bad.Party = party
		if err := pk.VerifyShare(ct.C1, bad); err == nil || err.Error() != fmt.Sprintf("share from unknown party %d", party) {
			t.Fatalf("share from party %d: %v", party, err)
		}
	}
}

func TestTooFewSharesFailClosed(t *testing.T) {
	pk, ks := deal(t, 4, 1)
	raw, _ := pk.Encrypt(rand.Reader, 7)
	ct, _ := ParseCiphertext(raw)
	shares := sharesFor(t, pk, ks, ct)
	if _, err := pk.Combine(ct, shares[:1]); err == nil {
		t.Fatal("combined with t shares")
	}
	if v, err := pk.Combine(ct, shares[2:4]); err != nil || v != 7 {
		t.Fatalf("got %d, %v", v, err)
	}
}

func TestPublicMaterialMismatch(t *testing.T) {
	pk, ks := deal(t, 13, 4)
	other, _ := deal(t, 13, 4)
	other.KeyID = pk.KeyID
	if err := other.CheckShare(&ks[0]); err == nil {
		t.Fatal("foreign public material accepted for share")
	}
	if err := pk.CheckShare(&ks[0]); err != nil {
		t.Fatal(err)
	}
	mixed := *pk
	mixed.VerificationKeys = append([]group.Element(nil), pk.VerificationKeys...)
	mixed.VerificationKeys[9] = other.VerificationKeys[9]
	if err := mixed.CheckConsistent(); err == nil {
		t.Fatal("inconsistent verification keys accepted")
	}
	// A ciphertext for a different key never opens to a value.
	raw, _ := other.Encrypt(rand.Reader, 5)
	ct, _ := ParseCiphertext(raw)
	if _, err := pk.Combine(ct, sharesFor(t, pk, ks[:5], ct)); !errors.Is(err, ErrDecryptionFailed) {
		t.Fatalf("foreign ciphertext: %v", err)
	}
}

func TestParseCiphertextRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("KCT1"), make([]byte, cipherLen)} {
		if _, err := ParseCiphertext(b); err == nil {
			t.Fatalf("accepted %x", b)
		}
	}
}

func TestValidateTopology(t *testing.T) {
	if err := ValidateTopology(13, 3); err == nil || err.Error() != "3*t+1 must be equal to number of parties. Got t=3 but expected t=4 for n=13 parties" {
		t.Fatalf("got %v", err)
	}
	for _, c := range [][2]int{{4, 1}, {7, 2}, {13, 4}} {
		if err := ValidateTopology(c[0], c[1]); err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkShareAndVerify(b *testing.B) {
	pk, ks, _ := Deal(rand.Reader, 13, 4)
	raw, _ := pk.Encrypt(rand.Reader, 1)
	ct, _ := ParseCiphertext(raw)
	for b.Loop() {
		s, _ := ks[0].DecryptionShare(rand.Reader, pk, ct.C1)
		if pk.VerifyShare(ct.C1, s) != nil {
			b.Fatal("bad")
		}
	}
}
