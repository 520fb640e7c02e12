package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
	kmsservicev1 "github.com/kmschaos/kmschaos/proto/kms_service/v1"
)

func TestLoadConfAsTheRealClient(t *testing.T) {
	cores := ""
	for i := 1; i <= 13; i++ {
		cores += fmt.Sprintf("[[cores]]\nparty_id = %d\naddress = \"p%d:50100\"\ns3_endpoint = \"/s3\"\nobject_folder = \"PUB-p%d\"\n", i, i, i)
	}
	for _, tc := range []struct{ head, want string }{
		{"kms_type = \"threshold\"\nnum_majority = 5\nnum_reconstruct = 9\n", ""},
		{"kms_type = \"threshold\"\nnum_majority = 5\n", "missing field `num_reconstruct`"},
		{"kms_type = \"threshold\"\nnum_majority = 5\nnum_reconstruct = 14\n", "Number for reconstruction shares (14) must be smaller than or equal to num_parties (13)."},
		{"kms_type = \"threshold\"\nnum_majority = 5\nnum_reconstruct = 4\n", "Number for reconstruction shares (4) must be greater than or equal to the number of majority votes (5)."},
		{"kms_type = \"centralized\"\nnum_majority = 5\nnum_reconstruct = 9\n", "KMS mode must be 'threshold' when num_parties > 1 (num_parties = 13)."},
	} {
		path := filepath.Join(t.TempDir(), "client.toml")
		if err := os.WriteFile(path, []byte(tc.head+cores), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConf(path)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("the chart's settings refused: %v", err)
		case tc.want == "" && (c.NumParties != 13 || c.NumReconstruct != 9 || c.NumMajority != 5):
			t.Errorf("read %+v", c)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

// fakeCore answers PublicDecrypt and then its result: value, signed with
// key, or err from GetPublicDecryptionResult.
type fakeCore struct {
	kmsservicev1.UnimplementedCoreServiceEndpointServer
	id    int
	key   ed25519.PrivateKey
	value uint64
	err   error
}

func (f *fakeCore) PublicDecrypt(context.Context, *kmsv1.PublicDecryptionRequest) (*kmsv1.Empty, error) {
	return &kmsv1.Empty{}, nil
}

func (f *fakeCore) GetPublicDecryptionResult(_ context.Context, id *kmsv1.RequestId) (*kmsv1.PublicDecryptionResponse, error) {
	if f.err != nil {
		return nil, f.err
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], f.value)
	pl := &kmsv1.PublicDecryptionResponsePayload{RequestId: id, Coordinator: uint32(f.id), Plaintexts: []*kmsv1.TypedPlaintext{{Bytes: b[:]}}}
	return signedPayload(pl, f.key), nil
}

func signedPayload(pl *kmsv1.PublicDecryptionResponsePayload, k ed25519.PrivateKey) *kmsv1.PublicDecryptionResponse {
	r := &kmsv1.PublicDecryptionResponse{Payload: pl}
	if b, err := (proto.MarshalOptions{Deterministic: true}).Marshal(pl); err == nil {
		r.ExternalSignature = ed25519.Sign(k, b)
	}
	return r
}

// serveCores starts the fake cores and returns the config and material a
// client of them holds.
func serveCores(t *testing.T, cores []*fakeCore) (*Conf, *PublicMaterial) {
	t.Helper()
	conf := &Conf{KmsType: "threshold", NumParties: len(cores)}
	pm := &PublicMaterial{VerfKeys: map[int]ed25519.PublicKey{}}
	for _, f := range cores {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		f.key = priv
		pm.VerfKeys[f.id] = pub
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := grpc.NewServer()
		kmsservicev1.RegisterCoreServiceEndpointServer(s, f)
		go func() { _ = s.Serve(lis) }()
		t.Cleanup(s.Stop)
		conf.Cores = append(conf.Cores, CoreConf{PartyID: f.id, Address: lis.Addr().String()})
	}
	return conf, pm
}

func TestQuorumWaitsForTheMajority(t *testing.T) {
	failing := status.Error(codes.Internal, "decryption failed")
	conf, pm := serveCores(t, []*fakeCore{{id: 1, value: 7}, {id: 2, value: 7}, {id: 3, value: 7}, {id: 4, err: failing}})
	ctx := context.Background()
	q, err := ConnectQuorum(ctx, conf, pm)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if d, err := q.PublicDecrypt(ctx, []byte("ct"), "", 3, DefaultMaxIter); err != nil || d.Value != 7 || !d.Verified {
		t.Fatalf("3 of 4 agreeing, 3 needed: %v %+v", err, d)
	}
	_, err = q.PublicDecrypt(ctx, []byte("ct"), "", 4, DefaultMaxIter)
	if err == nil || err.Error() != "Only got 3/4 public decrypt responses, need at least 4" {
		t.Fatalf("3 of 4 answering, 4 needed: %v", err)
	}
}

func TestQuorumNeedsAgreement(t *testing.T) {
	conf, pm := serveCores(t, []*fakeCore{{id: 1, value: 7}, {id: 2, value: 7}, {id: 3, value: 8}})
	q, err := ConnectQuorum(context.Background(), conf, pm)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	_, err = q.PublicDecrypt(context.Background(), []byte("ct"), "", 3, DefaultMaxIter)
	if !errors.Is(err, ErrUnverified) || !strings.Contains(err.Error(), "Not enough agreeing public decryption responses: 2 < 3") {
		t.Fatalf("two values among three answers: %v", err)
	}
}

// One core the client cannot reach ends the command before anything is
// sent, after the real client's 7 tries 100 ms apart, whatever the
// majority needed.
func TestQuorumStopsAtAnUnreachableCore(t *testing.T) {
	conf, pm := serveCores(t, []*fakeCore{{id: 1, value: 7}, {id: 2, value: 7}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := lis.Addr().String()
	lis.Close()
	conf.Cores = append(conf.Cores, CoreConf{PartyID: 3, Address: dead})
	conf.NumParties = 3
	start := time.Now()
	_, err = ConnectQuorum(context.Background(), conf, pm)
	took := time.Since(start)
	if err == nil || !strings.HasPrefix(err.Error(), `tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", `+dead) {
		t.Fatalf("a closed port among the cores: %v", err)
	}
	if took < 6*connectPause {
		t.Fatalf("gave up after %s, before the real client's 7 tries", took)
	}
}
