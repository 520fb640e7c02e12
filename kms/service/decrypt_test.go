package service

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/kms/tss"
	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

// replyFixture is a 4-party key, one ciphertext and party 2's honest
// answer to a share request, from a fixed seed.
type replyFixture struct {
	pk    *tss.PublicKey
	ct    *tss.Ciphertext
	share *tss.Share
	resp  *p2pv1.ShareResponse
}

func newReplyFixture(tb testing.TB) *replyFixture {
	tb.Helper()
	rnd := rand.NewChaCha8([32]byte{'s', 'v', 'c'})
	pk, ks, err := tss.Deal(rnd, 4, 1)
	if err != nil {
		tb.Fatal(err)
	}
	raw, _ := pk.Encrypt(rnd, 7)
	ct, err := tss.ParseCiphertext(raw)
	if err != nil {
		tb.Fatal(err)
	}
	sh, err := ks[1].DecryptionShare(rnd, pk, ct.C1)
	if err != nil {
		tb.Fatal(err)
	}
	d, _ := sh.D.MarshalBinaryCompress()
	rho, _ := tss.G.RandomScalar(rnd).MarshalBinary()
	return &replyFixture{pk: pk, ct: ct, share: &sh,
		resp: &p2pv1.ShareResponse{PartyId: 2, Shares: []*p2pv1.DecryptionShare{{Share: d, Proof: sh.Proof}}, PrssShare: rho}}
}

func (fx *replyFixture) verify(resp *p2pv1.ShareResponse) ([]tss.Share, error) {
	shares, _, err := (&Service{}).verifyReply(fx.pk, []*tss.Ciphertext{fx.ct}, shareReply{party: 2, resp: resp})
	return shares, err
}

func (fx *replyFixture) withShare(d []byte) *p2pv1.ShareResponse {
	return &p2pv1.ShareResponse{PartyId: 2, PrssShare: fx.resp.PrssShare,
		Shares: []*p2pv1.DecryptionShare{{Share: d, Proof: fx.resp.Shares[0].Proof}}}
}

func TestVerifyReplyRejectsABadShareNamingItsParty(t *testing.T) {
	fx := newReplyFixture(t)
	shares, err := fx.verify(fx.resp)
	if err != nil || len(shares) != 1 || !shares[0].D.IsEqual(fx.share.D) {
		t.Fatalf("honest reply: %v", err)
	}

	// Changed in transit to another valid element: decodes, fails its proof.
	other, _ := tss.G.NewElement().Add(fx.share.D, tss.G.Generator()).MarshalBinaryCompress()
	_, err = fx.verify(fx.withShare(other))
	if !errors.Is(err, tss.ErrInvalidShare) || !strings.Contains(err.Error(), "of party 2") {
		t.Fatalf("tampered share: %v, want ErrInvalidShare naming party 2", err)
	}

	// Bytes that are no group element at all.
	for _, d := range [][]byte{nil, []byte{1, 2, 3}, bytes.Repeat([]byte{0xff}, 32)} {
		_, err := fx.verify(fx.withShare(d))
		if err == nil || !strings.Contains(err.Error(), "decryption share 0 of party 2 is not a group element") {
			t.Fatalf("undecodable share %x: %v", d, err)
		}
	}
}

// FuzzVerifyReply: a peer's answer, whatever its bytes, is either party
// 2's honest share or refused with an error; it never panics.
func FuzzVerifyReply(f *testing.F) {
	fx := newReplyFixture(f)
	d := fx.resp.Shares[0].Share
	f.Add(uint32(2), d, fx.resp.Shares[0].Proof, fx.resp.PrssShare)
	f.Add(uint32(3), d, fx.resp.Shares[0].Proof, fx.resp.PrssShare)
	f.Add(uint32(2), bytes.Repeat([]byte{0xff}, 32), fx.resp.Shares[0].Proof, fx.resp.PrssShare)
	f.Add(uint32(2), d, []byte{}, []byte{})
	f.Add(uint32(2), d, fx.resp.Shares[0].Proof, bytes.Repeat([]byte{0xff}, 32))
	f.Fuzz(func(t *testing.T, party uint32, share, proof, rho []byte) {
		shares, err := fx.verify(&p2pv1.ShareResponse{PartyId: party, PrssShare: rho,
			Shares: []*p2pv1.DecryptionShare{{Share: share, Proof: proof}}})
		if err != nil {
			if shares != nil || err.Error() == "" {
				t.Fatalf("error %q with shares", err)
			}
			return
		}
		if party != 2 || !shares[0].D.IsEqual(fx.share.D) {
			t.Fatalf("accepted a share that is not party 2's: signed as %d", party)
		}
	})
}
