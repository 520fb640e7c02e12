package client

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/kmschaos/kmschaos/kms/tss"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

func signed(t *testing.T, k ed25519.PrivateKey, pl *kmsv1.PublicDecryptionResponsePayload) *kmsv1.PublicDecryptionResponse {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(pl)
	if err != nil {
		t.Fatal(err)
	}
	return &kmsv1.PublicDecryptionResponse{Payload: pl, ExternalSignature: ed25519.Sign(k, b)}
}

func TestVerify(t *testing.T) {
	pub1, priv1, _ := ed25519.GenerateKey(rand.Reader)
	pub2, priv2, _ := ed25519.GenerateKey(rand.Reader)
	pk, _, err := tss.Deal(rand.Reader, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	pm := &PublicMaterial{Key: pk, VerfKeys: map[int]ed25519.PublicKey{1: pub1, 2: pub2}}
	payload := func() *kmsv1.PublicDecryptionResponsePayload {
		return &kmsv1.PublicDecryptionResponsePayload{RequestId: &kmsv1.RequestId{RequestId: "r1"}, Coordinator: 1,
			ContributingParties: []uint32{1, 3}, Plaintexts: []*kmsv1.TypedPlaintext{{Bytes: []byte{0, 0, 0, 0, 0, 0, 0, 7}}}}
	}
	if err := pm.Verify("r1", signed(t, priv1, payload())); err != nil {
		t.Fatalf("a genuine result did not verify: %v", err)
	}
	tampered := signed(t, priv1, payload())
	tampered.Payload.Plaintexts[0].Bytes[7] = 8
	forged := payload()
	forged.Coordinator = 2 // signed by 1, claims 2
	unknown := payload()
	unknown.Coordinator = 4
	few := payload()
	few.ContributingParties = []uint32{1}
	for _, tc := range []struct {
		name, req string
		res       *kmsv1.PublicDecryptionResponse
		want      string
	}{
		{"tampered plaintext", "r1", tampered, "does not verify with the verification key of party 1"},
		{"signed by another party", "r1", signed(t, priv1, forged), "does not verify with the verification key of party 2"},
		{"coordinator without a key", "r1", signed(t, priv2, unknown), "no verification key for party 4"},
		{"answer to another request", "r2", signed(t, priv1, payload()), "answers request r1, not r2"},
		{"too few contributors", "r1", signed(t, priv1, few), "1 contributing parties, the key needs 2"},
	} {
		err := pm.Verify(tc.req, tc.res)
		if !errors.Is(err, ErrUnverified) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrUnverified with %q", tc.name, err, tc.want)
		}
	}
}
