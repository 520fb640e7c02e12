// Package client is the client side of a party's API, used by kms-client,
// kms-init, kms-health-check and the harness alike, so that the harness
// exercises the same path an operator's runbook does.
package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
	kmsservicev1 "github.com/kmschaos/kmschaos/proto/kms_service/v1"
)

// Client talks to one party.
type Client struct {
	Endpoint string
	conn     *grpc.ClientConn
	kmsservicev1.CoreServiceEndpointClient
	public *PublicMaterial // set by DialVerified: results are verified
}

// Verifies tells whether this client verifies every decryption result.
func (c *Client) Verifies() bool { return c.public != nil }

// check verifies a result when the client holds the public material.
func (c *Client) check(requestID string, res *kmsv1.PublicDecryptionResponse) error {
	if c.public == nil {
		return nil
	}
	return c.public.Verify(requestID, res)
}

// HostPort accepts host:port or http://host:port.
func HostPort(endpoint string) string {
	e := strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://")
	return strings.TrimSuffix(e, "/")
}

// Dial prepares a client; the connection is made on first use.
func Dial(endpoint string) (*Client, error) {
	hp := HostPort(endpoint)
	conn, err := grpc.NewClient("passthrough:///"+hp,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 2 * time.Second,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	return &Client{Endpoint: hp, conn: conn, CoreServiceEndpointClient: kmsservicev1.NewCoreServiceEndpointClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// NewRequestID returns a random 64 hex character id.
func NewRequestID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Retryable tells whether a call may succeed if tried again (NotFound,
// Unavailable and ResourceExhausted, as in the real KMS).
func Retryable(err error) bool {
	switch status.Code(err) {
	case codes.NotFound, codes.Unavailable, codes.ResourceExhausted:
		return true
	}
	return false
}

// Decryption is the outcome of a public decryption.
type Decryption struct {
	Value    uint64
	Response *kmsv1.PublicDecryptionResponse
	Verified bool // checked against the client's public material
}

// publicDecryptionRequest asks for the decryption of one ciphertext, under
// a fresh request id (returned), with the party's default key when keyID
// is "".
func publicDecryptionRequest(ciphertext []byte, keyID string) (string, *kmsv1.PublicDecryptionRequest) {
	id := NewRequestID()
	req := &kmsv1.PublicDecryptionRequest{
		RequestId:   &kmsv1.RequestId{RequestId: id},
		Ciphertexts: []*kmsv1.TypedCiphertext{{Ciphertext: ciphertext, FheType: 5}},
	}
	if keyID != "" {
		req.KeyId = &kmsv1.RequestId{RequestId: keyID}
	}
	return id, req
}

// PublicDecrypt starts a decryption and polls its result every poll until
// ctx ends, the way the real clients do.
func (c *Client) PublicDecrypt(ctx context.Context, ciphertext []byte, keyID string, poll time.Duration) (*Decryption, error) {
	id, req := publicDecryptionRequest(ciphertext, keyID)
	if _, err := c.CoreServiceEndpointClient.PublicDecrypt(ctx, req); err != nil {
		return nil, err
	}
	for {
		res, err := c.GetPublicDecryptionResult(ctx, &kmsv1.RequestId{RequestId: id})
		if err == nil {
			return c.decoded(id, res)
		}
		if status.Code(err) != codes.Unavailable || status.Convert(err).Message() != "decryption in progress" {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-time.After(poll):
		}
	}
}

// PublicDecryptSync decrypts with the one-call variant.
func (c *Client) PublicDecryptSync(ctx context.Context, ciphertext []byte, keyID string) (*Decryption, error) {
	id, req := publicDecryptionRequest(ciphertext, keyID)
	res, err := c.CoreServiceEndpointClient.PublicDecryptSync(ctx, req)
	if err != nil {
		return nil, err
	}
	return c.decoded(id, res)
}

func (c *Client) decoded(requestID string, res *kmsv1.PublicDecryptionResponse) (*Decryption, error) {
	if err := c.check(requestID, res); err != nil {
		return nil, err
	}
	pts := res.GetPayload().GetPlaintexts()
	if len(pts) != 1 || len(pts[0].GetBytes()) != 8 {
		return nil, fmt.Errorf("unexpected decryption result: %d plaintexts", len(pts))
	}
	return &Decryption{Value: binary.BigEndian.Uint64(pts[0].GetBytes()), Response: res, Verified: c.public != nil}, nil
}

// Conn exposes the connection for other services on the same endpoint
// (grpc.health.v1).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// PublicDecryptMany decrypts several ciphertexts in one request (one-call
// variant): a large request, for bandwidth tests.
func (c *Client) PublicDecryptMany(ctx context.Context, ciphertexts [][]byte) ([]uint64, error) {
	id := NewRequestID()
	req := &kmsv1.PublicDecryptionRequest{RequestId: &kmsv1.RequestId{RequestId: id}}
	for _, ct := range ciphertexts {
		req.Ciphertexts = append(req.Ciphertexts, &kmsv1.TypedCiphertext{Ciphertext: ct, FheType: 5})
	}
	res, err := c.CoreServiceEndpointClient.PublicDecryptSync(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := c.check(id, res); err != nil {
		return nil, err
	}
	var out []uint64
	for _, pt := range res.GetPayload().GetPlaintexts() {
		if len(pt.GetBytes()) != 8 {
			return nil, fmt.Errorf("unexpected plaintext of %d bytes", len(pt.GetBytes()))
		}
		out = append(out, binary.BigEndian.Uint64(pt.GetBytes()))
	}
	if len(out) != len(ciphertexts) {
		return nil, fmt.Errorf("%d plaintexts for %d ciphertexts", len(out), len(ciphertexts))
	}
	return out, nil
}
