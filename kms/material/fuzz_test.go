package material

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/kms/prss"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// seedMaterial encodes a real 4-party key and party 1's PRSS keys, from a
// fixed seed.
func seedMaterial(tb testing.TB) (pub, share, epoch []byte) {
	tb.Helper()
	rnd := rand.NewChaCha8([32]byte{'m', 'a', 't'})
	pk, ks, err := tss.Deal(rnd, 4, 1)
	if err != nil {
		tb.Fatal(err)
	}
	if pub, err = EncodePublicKey(pk); err != nil {
		tb.Fatal(err)
	}
	if share, err = EncodeKeyShare(&ks[0]); err != nil {
		tb.Fatal(err)
	}
	keys := map[prss.Set][prss.KeyLen]byte{}
	for _, s := range prss.KeySets(4, 1) {
		if s.Has(1) {
			var k [prss.KeyLen]byte
			_, _ = rnd.Read(k[:])
			keys[s] = k
		}
	}
	pk1, err := prss.NewKeys(DefaultEpochID, 4, 1, 1, keys)
	if err != nil {
		tb.Fatal(err)
	}
	if epoch, err = EncodeEpoch(&Epoch{Keys: pk1, CreatedAt: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)}); err != nil {
		tb.Fatal(err)
	}
	return pub, share, epoch
}

// The decoders read files from a party's vaults: whatever the bytes, they
// return material or an error, never panic, and what they accept encodes
// back to something they accept identically.

func FuzzDecodePublicKey(f *testing.F) {
	pub, _, _ := seedMaterial(f)
	f.Add(pub)
	f.Add([]byte(`{"n":4,"t":1,"public_key":"00","verification_keys":[]}`))
	f.Add([]byte(`{"n":7,"t":2,"verification_keys":["zz"]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := DecodePublicKey(b)
		if err != nil {
			return
		}
		again, err := EncodePublicKey(pk)
		if err != nil {
			t.Fatal(err)
		}
		pk2, err := DecodePublicKey(again)
		if err != nil {
			t.Fatalf("re-encoded public material refused: %v", err)
		}
		if pk2.KeyID != pk.KeyID || pk2.N != pk.N || pk2.T != pk.T || !pk2.Y.IsEqual(pk.Y) {
			t.Fatal("public material changed in a round trip")
		}
	})
}

func FuzzDecodeKeyShare(f *testing.F) {
	_, share, _ := seedMaterial(f)
	f.Add(share)
	f.Add([]byte(`{"key_id":"x","party":-3,"share":"ff"}`))
	f.Add([]byte(`{"share":"` + string(bytes.Repeat([]byte("ff"), 32)) + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ks, err := DecodeKeyShare(b)
		if err != nil {
			return
		}
		again, err := EncodeKeyShare(ks)
		if err != nil {
			t.Fatal(err)
		}
		ks2, err := DecodeKeyShare(again)
		if err != nil || ks2.Party != ks.Party || ks2.KeyID != ks.KeyID || !ks2.X.IsEqual(ks.X) {
			t.Fatalf("key share changed in a round trip: %v", err)
		}
	})
}

func FuzzDecodeEpoch(f *testing.F) {
	_, _, epoch := seedMaterial(f)
	f.Add(epoch)
	f.Add([]byte(`{"n":4,"t":1,"party":9,"keys":[]}`))
	f.Add([]byte(`{"n":4,"t":1,"party":1,"keys":[{"set":7,"key":"00"}]}`))
	f.Add([]byte(`{"n":40,"t":13,"party":1,"keys":[]}`)) // listed C(40,27) key sets: never returned
	f.Add([]byte(`{"n":64,"t":21,"party":1,"keys":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEpoch(b)
		if err != nil {
			return
		}
		again, err := EncodeEpoch(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := DecodeEpoch(again)
		if err != nil || e2.Keys.Len() != e.Keys.Len() || e2.Keys.Party != e.Keys.Party {
			t.Fatalf("PRSS keys changed in a round trip: %v", err)
		}
	})
}
