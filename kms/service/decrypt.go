package service

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cloudflare/circl/group"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/prss"
	"github.com/kmschaos/kmschaos/kms/ratelimit"
	"github.com/kmschaos/kmschaos/kms/tonic"
	"github.com/kmschaos/kmschaos/kms/tss"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

type decryptResult = *kmsv1.PublicDecryptionResponse

// PublicDecrypt starts a threshold decryption and returns at once. The
// decryption holds its rate limiter tokens until it is done.
func (s *Service) PublicDecrypt(ctx context.Context, req *kmsv1.PublicDecryptionRequest) (*kmsv1.Empty, error) {
	permit, err := s.startPubDecrypt()
	if err != nil {
		return nil, err
	}
	id, err := s.checkDecryptRequest(req)
	if err != nil {
		permit.Release()
		s.observe(opPublicDecrypt, time.Now(), err)
		return nil, err
	}
	j, ok := s.jobs.add(id, nil)
	if !ok {
		permit.Release()
		err := status.Errorf(codes.AlreadyExists, "request id %s already used", id)
		s.observe(opPublicDecrypt, time.Now(), err)
		return nil, err
	}
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		defer permit.Release()
		j.finish(s.decrypt(context.Background(), req))
	}()
	return &kmsv1.Empty{}, nil
}

// defaultRequestID is how the real party prints a MetricedError made
// without a request id (RequestId::default(): 1 in the first byte,
// core/grpc/src/identifiers.rs), as the rate limiter makes them.
var defaultRequestID = "01" + strings.Repeat("00", 31)

// startPubDecrypt takes the tokens of one public decryption without
// waiting, as the real PublicDecryptor does before anything else
// (core/service/src/engine/threshold/service/public_decryptor.rs). A
// refusal is what the real MetricedError makes of it
// (core/service/src/engine/utils.rs): the client gets ResourceExhausted
// and only "Failed on requestID ... with metric ...", the log gets the
// limiter's own message, and the error counter counts it.
func (s *Service) startPubDecrypt() (*ratelimit.Permit, error) {
	permit, err := s.limiter.TryAcquire("pub_decrypt", s.pubDecryptTokens)
	if err == nil {
		return permit, nil
	}
	st := s.metriced(codes.ResourceExhausted, opPublicDecrypt, defaultRequestID, err)
	s.observe(opPublicDecrypt, time.Now(), st)
	return nil, st
}

// metriced is what the real party's MetricedError makes of a refusal
// (core/service/src/engine/utils.rs, From<MetricedError> for Status): the
// log gets the reason, the client only the code, the request id and the
// operation's metric tag.
func (s *Service) metriced(code codes.Code, metric, requestID string, err error) error {
	s.log.Error(fmt.Sprintf("Grpc failure on requestID %s with metric %s and error code %s. Error message: %v",
		requestID, metric, tonic.Description(code), err))
	return status.Errorf(code, "Failed on requestID %s with metric %s", requestID, metric)
}

// GetPublicDecryptionResult answers Unavailable until the decryption is done.
func (s *Service) GetPublicDecryptionResult(ctx context.Context, req *kmsv1.RequestId) (*kmsv1.PublicDecryptionResponse, error) {
	j, ok := s.jobs.get(req.GetRequestId())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no decryption with request id %s", req.GetRequestId())
	}
	if !j.finished() {
		return nil, status.Error(codes.Unavailable, "decryption in progress")
	}
	j.taken()
	return j.res, j.err
}

// PublicDecryptSync runs a decryption and waits for its result.
func (s *Service) PublicDecryptSync(ctx context.Context, req *kmsv1.PublicDecryptionRequest) (*kmsv1.PublicDecryptionResponse, error) {
	permit, err := s.startPubDecrypt()
	if err != nil {
		return nil, err
	}
	defer permit.Release()
	id, err := s.checkDecryptRequest(req)
	if err != nil {
		s.observe(opPublicDecrypt, time.Now(), err)
		return nil, err
	}
	j, ok := s.jobs.add(id, nil)
	if !ok {
		err := status.Errorf(codes.AlreadyExists, "request id %s already used", id)
		s.observe(opPublicDecrypt, time.Now(), err)
		return nil, err
	}
	s.inflight.Add(1)
	defer s.inflight.Done()
	res, err := s.decrypt(ctx, req)
	j.finish(res, err)
	j.taken() // its caller has it: nothing to keep the party up for
	return res, err
}

func (s *Service) checkDecryptRequest(req *kmsv1.PublicDecryptionRequest) (string, error) {
	if s.draining.Load() {
		return "", status.Error(codes.Unavailable, "server is shutting down")
	}
	id := req.GetRequestId().GetRequestId()
	if !tss.ValidID(id) {
		return "", status.Errorf(codes.InvalidArgument, "request id must be 64 hex characters, got %q", id)
	}
	if len(req.GetCiphertexts()) == 0 {
		return "", status.Error(codes.InvalidArgument, "no ciphertext to decrypt")
	}
	return id, nil
}

// decrypt coordinates one threshold decryption session.
func (s *Service) decrypt(ctx context.Context, req *kmsv1.PublicDecryptionRequest) (res *kmsv1.PublicDecryptionResponse, err error) {
	start := time.Now()
	defer func() { s.observe(opPublicDecrypt, start, err) }()
	s.metrics.ActiveSessions.Inc()
	defer s.metrics.ActiveSessions.Dec()

	key, epochID, ep, cts, err := s.sessionInputs(req.GetKeyId().GetRequestId(), req.GetEpochId().GetRequestId(), req.GetCiphertexts())
	if err != nil {
		return nil, err
	}
	if key.coordinate != nil {
		return nil, status.Error(codes.FailedPrecondition, key.coordinate.Error())
	}
	sid := make([]byte, 32)
	if _, err := s.rand.Read(sid); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	shareReq := &p2pv1.ShareRequest{From: uint32(s.me), SessionId: hex.EncodeToString(sid), KeyId: key.pub.KeyID, EpochId: epochID}
	for _, ct := range cts {
		b, _ := ct.C1.MarshalBinaryCompress()
		shareReq.C1 = append(shareReq.C1, b)
	}

	verify := s.verifier(key.pub, cts)
	replies := s.gatherShares(ctx, shareReq, key, ep, func(r []shareReply) bool { return s.canOpen(verify, r) })
	usable, rejected, unreachable, nonce, err := s.checkShares(shareReq.SessionId, verify, replies)
	if err != nil {
		return nil, err
	}
	if len(usable) < s.t+1 {
		return nil, status.Errorf(codes.Unavailable, "not enough valid decryption shares: got %d of the %d needed (unreachable or failing: %s; rejected: %s)",
			len(usable), s.t+1, describeParties(unreachable), fmt.Sprint(rejected))
	}
	payload := &kmsv1.PublicDecryptionResponsePayload{RequestId: req.GetRequestId(), Coordinator: uint32(s.me), SessionNonce: nonce}
	for i := range usable[:s.t+1] {
		payload.ContributingParties = append(payload.ContributingParties, uint32(usable[i].party))
	}
	for _, p := range rejected {
		payload.RejectedParties = append(payload.RejectedParties, uint32(p))
	}
	for ci, ct := range cts {
		shares := make([]tss.Share, 0, s.t+1)
		for _, u := range usable[:s.t+1] {
			shares = append(shares, u.shares[ci])
		}
		v, err := key.pub.Combine(ct, shares)
		if err != nil {
			// Proved shares that do not open the ciphertext: the ciphertext
			// was not made for this key. Refuse; never guess.
			s.log.Error("Decryption failed closed", "session", shareReq.SessionId, "error", err.Error())
			return nil, status.Errorf(codes.InvalidArgument, "ciphertext %d: %v", ci, err)
		}
		if s.lie {
			v++ // Options.LieForTests: a coordinator that lies, for the harness's own tests
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], v)
		payload.Plaintexts = append(payload.Plaintexts, &kmsv1.TypedPlaintext{Bytes: b[:], FheType: req.Ciphertexts[ci].GetFheType()})
	}
	signed, err := proto.MarshalOptions{Deterministic: true}.Marshal(payload)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &kmsv1.PublicDecryptionResponse{Payload: payload, ExternalSignature: ed25519.Sign(s.signer, signed)}, nil
}

// sessionInputs resolves the key, the epoch and the ciphertexts of a
// session, with the real KMS's NotFound answers.
func (s *Service) sessionInputs(keyID, epochID string, raw []*kmsv1.TypedCiphertext) (*thresholdKey, string, *material.Epoch, []*tss.Ciphertext, error) {
	if keyID == "" && len(s.keys) == 1 {
		for id := range s.keys {
			keyID = id
		}
	}
	key, ok := s.keys[keyID]
	if !ok {
		return nil, "", nil, nil, status.Errorf(codes.NotFound, "Key %s not found", keyID)
	}
	var ep *material.Epoch
	if epochID == "" {
		epochID, ep = s.activeEpoch()
	} else {
		ep = s.epoch(epochID)
	}
	if ep == nil {
		return nil, "", nil, nil, status.Errorf(codes.NotFound, "Epoch %s not found", epochID)
	}
	var cts []*tss.Ciphertext
	for i, c := range raw {
		ct, err := tss.ParseCiphertext(c.GetCiphertext())
		if err != nil {
			return nil, "", nil, nil, status.Errorf(codes.InvalidArgument, "ciphertext %d: %v", i, err)
		}
		cts = append(cts, ct)
	}
	return key, epochID, ep, cts, nil
}

type shareReply struct {
	party int
	resp  *p2pv1.ShareResponse
	err   error
}

// gatherShares asks every peer for its shares and adds this party's own.
// It returns when all have answered, when the call deadline passes, or a
// grace period after t+1 answers are in, if the answers then in can be
// opened (enough): a hung peer costs the grace, not the whole timeout.
// If they cannot (a wrong share among too few to correct it), it goes on
// waiting and tries again at every new answer, as the real party's robust
// opening does: it re-attempts the reconstruction on each share received
// and gives up only once every receive job is done
// (try_reconstruct_from_shares, core/threshold-execution/src/sharing/open.rs).
func (s *Service) gatherShares(ctx context.Context, req *p2pv1.ShareRequest, key *thresholdKey, ep *material.Epoch, enough func([]shareReply) bool) []shareReply {
	ctx, cancel := context.WithTimeout(ctx, s.networkTimeout)
	defer cancel()
	ids := s.peers.IDs()
	ch := make(chan shareReply, len(ids))
	for _, id := range ids {
		go func(id int) {
			r, err := s.peers.DecryptShare(ctx, id, req)
			ch <- shareReply{party: id, resp: r, err: err}
		}(id)
	}
	own, err := s.shareFor(req, key, ep)
	replies := []shareReply{{party: s.me, resp: own, err: err}}
	answered := 0
	if err == nil {
		answered++
	}
	var grace <-chan time.Time
	graceOver := false
	for pending := len(ids); pending > 0; {
		select {
		case r := <-ch:
			pending--
			replies = append(replies, r)
			if r.err == nil {
				answered++
			}
			if answered >= s.t+1 && grace == nil && !graceOver {
				grace = time.After(s.grace)
			}
			if graceOver && r.err == nil && enough(replies) {
				pending = 0
			}
		case <-grace:
			grace, graceOver = nil, true
			if enough(replies) {
				pending = 0
			}
		case <-ctx.Done():
			pending = 0
		}
	}
	return replies
}

// verifier checks a reply's shares once per party, however often it is
// asked: canOpen and checkShares share the proofs' cost.
func (s *Service) verifier(pub *tss.PublicKey, cts []*tss.Ciphertext) func(shareReply) ([]tss.Share, group.Scalar, error) {
	type verified struct {
		shares []tss.Share
		rho    group.Scalar
		err    error
	}
	done := map[int]verified{}
	return func(r shareReply) ([]tss.Share, group.Scalar, error) {
		v, ok := done[r.party]
		if !ok {
			v.shares, v.rho, v.err = s.verifyReply(pub, cts, r)
			done[r.party] = v
		}
		return v.shares, v.rho, v.err
	}
}

// canOpen tells, logging nothing, whether the replies in hand give t+1
// proved shares whose PRSS values open, the wrong ones corrected.
func (s *Service) canOpen(verify func(shareReply) ([]tss.Share, group.Scalar, error), replies []shareReply) bool {
	rhos := map[int]group.Scalar{}
	for _, r := range replies {
		if r.err != nil {
			continue
		}
		if _, rho, err := verify(r); err == nil {
			rhos[r.party] = rho
		}
	}
	if len(rhos) < s.t+1 {
		return false
	}
	_, bad, err := prss.Open(s.t, rhos)
	return err == nil && len(rhos)-len(bad) >= s.t+1
}

type usableShare struct {
	party  int
	shares []tss.Share
}

// checkShares verifies every share proof and opens the session's PRSS
// value robustly; parties whose shares fail either check are rejected and
// named in the log (the real KMS has no metric of them).
func (s *Service) checkShares(sid string, verify func(shareReply) ([]tss.Share, group.Scalar, error), replies []shareReply) (usable []usableShare, rejected []int, failed map[int]string, nonce []byte, err error) {
	failed = map[int]string{}
	answered := map[int]bool{}
	prssShares := map[int]group.Scalar{}
	valid := map[int][]tss.Share{}
	for _, r := range replies {
		answered[r.party] = true
		if r.err != nil {
			failed[r.party] = describeErr(r.err)
			s.log.Warn("No decryption share from party", "party", r.party, "session", sid, "error", failed[r.party])
			continue
		}
		shares, rho, err := verify(r)
		if err != nil {
			s.log.Error("Invalid decryption share received: proof verification failed", "party", r.party, "session", sid, "error", err.Error())
			rejected = append(rejected, r.party)
			continue
		}
		valid[r.party] = shares
		prssShares[r.party] = rho
	}
	for _, id := range s.peers.IDs() {
		if !answered[id] {
			failed[id] = "no answer within the session"
		}
	}
	// With fewer than t+1 valid shares nothing can be opened; the caller
	// reports how many there were.
	if len(prssShares) >= s.t+1 {
		value, bad, err := prss.Open(s.t, prssShares)
		if err != nil {
			s.log.Error("PRSS opening failed: the parties' PRSS keys disagree, re-initialise PRSS", "session", sid, "error", err.Error())
			return nil, nil, failed, nil, status.Errorf(codes.Aborted, "%v: PRSS keys of the parties disagree; re-initialise PRSS (kms-init)", err)
		}
		for _, p := range bad {
			who := ""
			if p == s.me {
				who = " (this party)"
			}
			s.log.Error("PRSS share inconsistent with the other parties': its PRSS keys differ, re-initialise PRSS", "party", fmt.Sprintf("%d%s", p, who), "session", sid)
			delete(valid, p)
			rejected = append(rejected, p)
		}
		nonce, _ = value.MarshalBinary()
	}
	sort.Ints(rejected)
	// This party's own share first, then ascending: deterministic sessions.
	order := make([]int, 0, len(valid))
	for p := range valid {
		order = append(order, p)
	}
	sort.Slice(order, func(a, b int) bool {
		if (order[a] == s.me) != (order[b] == s.me) {
			return order[a] == s.me
		}
		return order[a] < order[b]
	})
	for _, p := range order {
		usable = append(usable, usableShare{party: p, shares: valid[p]})
	}
	return usable, rejected, failed, nonce, nil
}

func (s *Service) verifyReply(pub *tss.PublicKey, cts []*tss.Ciphertext, r shareReply) ([]tss.Share, group.Scalar, error) {
	if int(r.resp.GetPartyId()) != r.party {
		return nil, nil, fmt.Errorf("answer signed as party %d", r.resp.GetPartyId())
	}
	if len(r.resp.GetShares()) != len(cts) {
		return nil, nil, fmt.Errorf("%d shares for %d ciphertexts", len(r.resp.GetShares()), len(cts))
	}
	out := make([]tss.Share, len(cts))
	for i, ds := range r.resp.GetShares() {
		d := tss.G.NewElement()
		if err := d.UnmarshalBinary(ds.GetShare()); err != nil {
			return nil, nil, fmt.Errorf("decryption share %d of party %d is not a group element: %w", i, r.party, err)
		}
		sh := tss.Share{Party: r.party, D: d, Proof: ds.GetProof()}
		if err := pub.VerifyShare(cts[i].C1, sh); err != nil {
			return nil, nil, fmt.Errorf("decryption share %d of party %d: %w", i, r.party, err)
		}
		out[i] = sh
	}
	rho := tss.G.NewScalar()
	if err := rho.UnmarshalBinary(r.resp.GetPrssShare()); err != nil {
		return nil, nil, fmt.Errorf("PRSS share: %w", err)
	}
	return out, rho, nil
}

// DecryptShare serves a peer's request for this party's shares.
func (s *Service) DecryptShare(ctx context.Context, req *p2pv1.ShareRequest) (resp *p2pv1.ShareResponse, err error) {
	if err := s.sessionGone(ctx, req); err != nil {
		return nil, err
	}
	key, ok := s.keys[req.GetKeyId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Key %s not found", req.GetKeyId())
	}
	ep := s.epoch(req.GetEpochId())
	if ep == nil {
		return nil, status.Errorf(codes.NotFound, "Epoch %s not found", req.GetEpochId())
	}
	resp, err = s.shareFor(req, key, ep)
	if err == nil {
		if err := s.sessionGone(ctx, req); err != nil {
			return nil, err
		}
	}
	return resp, err
}

// sessionGone stops the work of a share request whose coordinator no
// longer waits: the share could not reach it (see lateSessions, which
// logs it).
func (s *Service) sessionGone(ctx context.Context, req *p2pv1.ShareRequest) error {
	if ctx.Err() == nil {
		return nil
	}
	return status.Errorf(codes.Canceled, "session %s is already completed at party %d", req.GetSessionId(), req.GetFrom())
}

// shareFor computes this party's shares for a session.
func (s *Service) shareFor(req *p2pv1.ShareRequest, key *thresholdKey, ep *material.Epoch) (*p2pv1.ShareResponse, error) {
	if key.share == nil {
		return nil, status.Errorf(codes.NotFound, "Key share for key %s not found on party %d", key.pub.KeyID, s.me)
	}
	sid, err := hex.DecodeString(req.GetSessionId())
	if err != nil || len(sid) != 32 {
		return nil, status.Error(codes.InvalidArgument, "bad session id")
	}
	resp := &p2pv1.ShareResponse{PartyId: uint32(s.me)}
	for _, raw := range req.GetC1() {
		c1 := tss.G.NewElement()
		if err := c1.UnmarshalBinary(raw); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "bad ciphertext point: %v", err)
		}
		sh, err := key.share.DecryptionShare(s.rand, key.pub, c1)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		d, _ := sh.D.MarshalBinaryCompress()
		resp.Shares = append(resp.Shares, &p2pv1.DecryptionShare{Share: d, Proof: sh.Proof})
	}
	rho, _ := ep.Keys.Share(sid).MarshalBinary()
	resp.PrssShare = rho
	return resp, nil
}

func describeErr(err error) string {
	if st, ok := status.FromError(err); ok {
		return st.Code().String() + ": " + st.Message()
	}
	return err.Error()
}

func describeParties(m map[int]string) string {
	if len(m) == 0 {
		return "none"
	}
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("party %d: %s", id, m[id]))
	}
	return strings.Join(parts, "; ")
}
