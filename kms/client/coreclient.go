package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pelletier/go-toml/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// Conf is the real core-client's configuration file, the keys that decide
// how it decrypts (CoreClientConfig, core-client/src/lib.rs:97): every
// core it talks to, and how many answers it needs. The Helm chart writes
// it with every party in [[cores]], num_majority = 5 and
// num_reconstruct = 9 (charts/kms-core/values.yaml:257,
// templates/kms-core-client-configmap.yaml).
type Conf struct {
	KmsType    string `toml:"kms_type"`
	NumParties int    `toml:"num_parties"` // 0 in the file: the number of cores
	// NumMajority is how many matching public decryption responses the
	// client waits for (lib.rs:1987); NumReconstruct how many user
	// decryption responses (lib.rs:2100), which this cluster does not
	// serve: it is only validated. Both have no default (lib.rs:399).
	NumMajority    int        `toml:"num_majority"`
	NumReconstruct int        `toml:"num_reconstruct"`
	Cores          []CoreConf `toml:"cores"`
}

// CoreConf is one [[cores]] entry. S3Endpoint is where the core's public
// material is, here a directory holding ObjectFolder (PUB-p<i>/).
type CoreConf struct {
	PartyID      int    `toml:"party_id"`
	Address      string `toml:"address"`
	S3Endpoint   string `toml:"s3_endpoint"`
	ObjectFolder string `toml:"object_folder"`
}

// LoadConf reads and validates a core-client config file, with the real
// client's messages (lib.rs:223-330).
func LoadConf(path string) (*Conf, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var present map[string]any
	if err := toml.Unmarshal(raw, &present); err != nil {
		return nil, err
	}
	// serde's words for a required key that is missing.
	for _, k := range []string{"kms_type", "cores", "num_majority", "num_reconstruct"} {
		if _, ok := present[k]; !ok {
			return nil, fmt.Errorf("missing field `%s`", k)
		}
	}
	var c Conf
	if err := toml.NewDecoder(bytes.NewReader(raw)).Decode(&c); err != nil {
		return nil, err
	}
	if c.NumParties == 0 {
		c.NumParties = len(c.Cores)
	}
	return &c, c.validate()
}

func (c *Conf) validate() error {
	n := c.NumParties
	if len(c.Cores) == 0 {
		return errors.New("cores: must have at least 1 item")
	}
	if c.NumMajority < 1 || c.NumReconstruct < 1 {
		return errors.New("num_majority and num_reconstruct must be at least 1")
	}
	ids, addrs := map[int]bool{}, map[string]bool{}
	for _, core := range c.Cores {
		switch {
		case core.PartyID < 1 || core.PartyID > n:
			return fmt.Errorf("Party ID must be between 1 and the number of parties (%d), but was %d.", n, core.PartyID)
		case ids[core.PartyID]:
			return fmt.Errorf("Party ID %d is duplicated in the configuration.", core.PartyID)
		case addrs[core.Address]:
			return fmt.Errorf("Address %s is duplicated in the configuration.", core.Address)
		}
		ids[core.PartyID], addrs[core.Address] = true, true
	}
	switch {
	case c.NumMajority > n:
		return fmt.Errorf("Number for majority votes (%d) must be smaller than or equal to num_parties (%d).", c.NumMajority, n)
	case c.NumReconstruct > n:
		return fmt.Errorf("Number for reconstruction shares (%d) must be smaller than or equal to num_parties (%d).", c.NumReconstruct, n)
	case c.NumReconstruct < c.NumMajority:
		return fmt.Errorf("Number for reconstruction shares (%d) must be greater than or equal to the number of majority votes (%d).", c.NumReconstruct, c.NumMajority)
	case n > 1 && c.KmsType != "threshold":
		return fmt.Errorf("KMS mode must be 'threshold' when num_parties > 1 (num_parties = %d).", n)
	}
	return nil
}

// PublicMaterial reads every core's verification key (and the threshold
// key) from its S3Endpoint/ObjectFolder, as the real client downloads
// every core's VerfKey before it connects (lib.rs:1850).
func (c *Conf) PublicMaterial(keyID string) (*PublicMaterial, error) {
	pm := &PublicMaterial{VerfKeys: map[int]ed25519.PublicKey{}}
	for _, core := range c.Cores {
		one, err := LoadPublicMaterial(core.S3Endpoint, keyID)
		if err != nil {
			return nil, fmt.Errorf("party %d: %w", core.PartyID, err)
		}
		k, ok := one.VerfKeys[core.PartyID]
		if !ok {
			return nil, fmt.Errorf("party %d: no verification key in %s", core.PartyID, filepath.Join(core.S3Endpoint, core.ObjectFolder))
		}
		pm.VerfKeys[core.PartyID] = k
		pm.Key = one.Key
	}
	return pm, nil
}

// The real client's pacing: connect tries (retry!(…, 5, 100), lib.rs:75,
// 1933), the poll interval (SLEEP_TIME_BETWEEN_REQUESTS_MS, lib.rs:71),
// and --max-iter's default (lib.rs:1201).
const (
	connectTries   = 7
	connectPause   = 100 * time.Millisecond
	resultPoll     = 500 * time.Millisecond
	DefaultMaxIter = 30
)

// Quorum is the real core-client's public decryption: one client per
// core of the file, each result verified against pm.
type Quorum struct {
	conf    *Conf
	clients []*Client
}

// ConnectQuorum connects to every core in the file's order before anything
// is sent, as the real client does (CoreServiceEndpointClient::connect
// under retry!, then `?`, lib.rs:1933): one core it cannot reach after
// its tries ends the command, whatever num_majority says.
func ConnectQuorum(ctx context.Context, conf *Conf, pm *PublicMaterial) (*Quorum, error) {
	q := &Quorum{conf: conf}
	for _, core := range conf.Cores {
		cl, err := connect(ctx, core.Address, pm)
		if err != nil {
			q.Close()
			return nil, err
		}
		q.clients = append(q.clients, cl)
	}
	return q, nil
}

// Close closes every connection.
func (q *Quorum) Close() {
	for _, cl := range q.clients {
		cl.Close()
	}
}

// connect makes one core's connection ready, or fails as tonic's eager
// connect does. The message has the shape of tonic 0.14's Debug of a
// transport error around hyper-util's ConnectError (what the real
// binary's main prints after "Error: "); the cause is Go's words.
func connect(ctx context.Context, address string, pm *PublicMaterial) (*Client, error) {
	var last error
	for try := 0; try < connectTries; try++ {
		if try > 0 {
			if !sleep(ctx, connectPause) {
				return nil, status.FromContextError(ctx.Err()).Err()
			}
		}
		cl, err := DialVerified(address, pm)
		if err != nil {
			return nil, err
		}
		if last = ready(ctx, cl); last == nil {
			return cl, nil
		}
		cl.Close()
	}
	return nil, fmt.Errorf(`tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", %s, %s)))`, HostPort(address), last)
}

// ready waits for the connection's first attempt to end: nil when it is
// up, else why it failed (gRPC's own account of the last dial).
func ready(ctx context.Context, cl *Client) error {
	cl.conn.Connect()
	for {
		switch s := cl.conn.GetState(); s {
		case connectivity.Ready:
			return nil
		case connectivity.TransientFailure, connectivity.Shutdown:
			// The channel is not ready, so this fails at once with the
			// connection's error: nothing reaches the core.
			_, err := cl.GetHealthStatus(ctx, &kmsv1.Empty{})
			if err == nil {
				return nil
			}
			return errors.New(status.Convert(err).Message())
		default:
			if !cl.conn.WaitForStateChange(ctx, s) {
				return ctx.Err()
			}
		}
	}
}

// PublicDecrypt fans the request out to every core (PublicDecrypt), needs
// `need` of them to accept it, polls each for its result every 500 ms
// while it answers Unavailable, at most maxIter times, stops as soon as
// `need` results are in, and accepts the value when `need` verified
// results agree on it (core-client/src/decrypt.rs:407-520;
// validate_public_decrypt_responses,
// core/service/src/engine/validation_non_wasm.rs:777). need is
// num_majority, or every party with --expect-all-responses.
func (q *Quorum) PublicDecrypt(ctx context.Context, ciphertext []byte, keyID string, need, maxIter int) (*Decryption, error) {
	id, req := publicDecryptionRequest(ciphertext, keyID)
	n := q.conf.NumParties
	accepted := fanOut(q.clients, func(cl *Client) error {
		_, err := cl.CoreServiceEndpointClient.PublicDecrypt(ctx, req)
		return err
	})
	if accepted < need {
		return nil, fmt.Errorf("Only %d/%d public decrypt requests succeeded, need at least %d", accepted, n, need)
	}

	type answer struct {
		d   *Decryption
		err error
	}
	ctx, cancel := context.WithCancel(ctx) // the rest are dropped once enough are in
	defer cancel()
	answers := make(chan answer, len(q.clients))
	for _, cl := range q.clients {
		go func() {
			d, err := cl.pollResult(ctx, id, maxIter)
			answers <- answer{d, err}
		}()
	}
	var got []*Decryption
	for range q.clients {
		if a := <-answers; a.err == nil {
			got = append(got, a.d)
		}
		if len(got) >= need {
			break
		}
	}
	if len(got) < need {
		return nil, fmt.Errorf("Only got %d/%d public decrypt responses, need at least %d", len(got), n, need)
	}
	votes := map[uint64]int{}
	for _, d := range got {
		votes[d.Value]++
	}
	for _, d := range got {
		if votes[d.Value] >= need {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: Not enough agreeing public decryption responses: %d < %d", ErrUnverified, maxVotes(votes), need)
}

// pollResult asks one core for the result of request id until it stops
// answering Unavailable, at most maxIter more times; a result that does
// not verify is an error like any other (it cannot count).
func (c *Client) pollResult(ctx context.Context, id string, maxIter int) (*Decryption, error) {
	for try := 0; ; try++ {
		res, err := c.GetPublicDecryptionResult(ctx, &kmsv1.RequestId{RequestId: id})
		if err == nil {
			return c.decoded(id, res)
		}
		if status.Code(err) != codes.Unavailable {
			return nil, fmt.Errorf("public decryption response failed: %w", err)
		}
		if !sleep(ctx, resultPoll) {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		if try >= maxIter {
			return nil, fmt.Errorf("timeout while waiting for public decryption after %d retries.", maxIter)
		}
	}
}

// fanOut calls every client at once and counts those that answered.
func fanOut(clients []*Client, call func(*Client) error) int {
	oks := make(chan bool, len(clients))
	for _, cl := range clients {
		go func() { oks <- call(cl) == nil }()
	}
	n := 0
	for range clients {
		if <-oks {
			n++
		}
	}
	return n
}

func maxVotes(votes map[uint64]int) int {
	m := 0
	for _, v := range votes {
		m = max(m, v)
	}
	return m
}
