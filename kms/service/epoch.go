package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/prss"
	"github.com/kmschaos/kmschaos/kms/tss"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

type epochResult = *kmsv1.EpochResultResponse

// NewMpcEpoch starts the PRSS set-up of a new epoch and returns at once.
// Every party must be asked (kms-init does): the set-up needs them all.
func (s *Service) NewMpcEpoch(ctx context.Context, req *kmsv1.NewMpcEpochRequest) (*kmsv1.Empty, error) {
	id := req.GetEpochId().GetRequestId()
	if !tss.ValidID(id) {
		return nil, status.Errorf(codes.InvalidArgument, "epoch id must be 64 hex characters, got %q", id)
	}
	if s.draining.Load() {
		return nil, status.Error(codes.Unavailable, "server is shutting down")
	}
	// The refusals are the real epoch manager's
	// (core/service/src/engine/threshold/service/epoch_manager.rs,
	// new_mpc_epoch): an epoch this party holds is InvalidArgument "Epoch
	// ID … already exists", one whose creation holds the lease
	// FailedPrecondition "Cannot create epoch ID …"; the client sees only
	// the code and the request id.
	if s.epoch(id) != nil {
		err := s.metriced(codes.InvalidArgument, opNewEpoch, id, fmt.Errorf("Epoch ID %s already exists", id))
		s.observe(opNewEpoch, time.Now(), err)
		return nil, err
	}
	// A failed set-up may be retried under the same id; a running or
	// successful one may not.
	j, ok := s.setups.add(id, func(old *job[epochResult]) bool { return old.finished() && old.err != nil })
	if !ok {
		err := s.metriced(codes.FailedPrecondition, opNewEpoch, id, fmt.Errorf("Cannot create epoch ID %s: its PRSS set-up is already running", id))
		s.observe(opNewEpoch, time.Now(), err)
		return nil, err
	}
	s.log.Info("Starting PRSS set-up", "epoch_id", id, "parties", s.n)
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		start := time.Now()
		res, err := s.runSetup(id)
		s.observe(opNewEpoch, start, err)
		if err != nil {
			s.log.Error("PRSS set-up failed", "epoch_id", id, "error", err.Error())
		} else {
			s.log.Info("PRSS set-up complete", "epoch_id", id, "keys", s.epoch(id).Keys.Len(), "took", time.Since(start).Round(time.Millisecond).String())
		}
		j.finish(res, err)
	}()
	return &kmsv1.Empty{}, nil
}

// GetEpochResult answers Unavailable until the set-up is done. Its
// refusals are the real meta store's (core/service/src/util/
// meta_store.rs, retrieve_from_meta_store): NotFound, Unavailable while
// pending, Internal (Aborted if the reason says so) for a failed set-up,
// each with the reason in the log and only the request id for the client.
func (s *Service) GetEpochResult(ctx context.Context, req *kmsv1.RequestId) (*kmsv1.EpochResultResponse, error) {
	id := req.GetRequestId()
	j, ok := s.setups.get(id)
	if !ok {
		if e := s.epoch(id); e != nil {
			return &kmsv1.EpochResultResponse{EpochId: req, Parties: uint32(s.n)}, nil
		}
		return nil, s.metriced(codes.NotFound, opGetEpochResult, id,
			fmt.Errorf("Could not retrieve the result in scope %s with request ID %s. It does not exist", opGetEpochResult, id))
	}
	if !j.finished() {
		// The real one logs this at info, then again as an error.
		msg := fmt.Sprintf("Result in scope %s with request ID %s is not ready yet", opGetEpochResult, id)
		s.log.Info(msg)
		return nil, s.metriced(codes.Unavailable, opGetEpochResult, id, errors.New(msg))
	}
	if j.err != nil {
		msg := fmt.Sprintf("Could not retrieve the result in scope %s with request ID %s since it finished with an error: %s", opGetEpochResult, id, status.Convert(j.err).Message())
		s.log.Warn(msg)
		code := codes.Internal
		if strings.Contains(strings.ToLower(msg), "abort") {
			code = codes.Aborted
		}
		return nil, s.metriced(code, opGetEpochResult, id, errors.New(msg))
	}
	return j.res, nil
}

// DestroyMpcEpoch forgets an epoch and deletes its PRSS data, as the
// real epoch manager does (core/service/src/engine/threshold/service/
// epoch_manager.rs, destroy_epoch_and_purge_cache and destroy_epoch): an
// epoch whose set-up runs is FailedPrecondition (the creation lease), one
// this party does not hold NotFound, the only one left
// FailedPrecondition; its data is deleted before the epoch is forgotten,
// so that a failed deletion can be retried. Decryptions go on with the
// newest epoch left.
func (s *Service) DestroyMpcEpoch(ctx context.Context, req *kmsv1.DestroyMpcEpochRequest) (*kmsv1.Empty, error) {
	start := time.Now()
	id := req.GetEpochId().GetRequestId()
	err := s.destroyEpoch(id)
	s.observe(opDestroyEpoch, start, err)
	if err != nil {
		return nil, err
	}
	s.log.Info(fmt.Sprintf("Epoch %s destroyed successfully", id))
	return &kmsv1.Empty{}, nil
}

func (s *Service) destroyEpoch(id string) error {
	if !tss.ValidID(id) {
		return s.metriced(codes.InvalidArgument, opDestroyEpoch, id, fmt.Errorf("epoch id must be 64 hex characters, got %q", id))
	}
	if j, ok := s.setups.get(id); ok && !j.finished() {
		return s.metriced(codes.FailedPrecondition, opDestroyEpoch, id,
			fmt.Errorf("Cannot destroy epoch ID %s: its creation is in progress. Retry once epoch creation has settled.", id))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epochs[id] == nil {
		return s.metriced(codes.NotFound, opDestroyEpoch, id, fmt.Errorf("Epoch ID %s does not exist", id))
	}
	if len(s.epochs) < 2 {
		return s.metriced(codes.FailedPrecondition, opDestroyEpoch, id,
			fmt.Errorf("Cannot destroy epoch ID %s because it is the only epoch remaining", id))
	}
	if err := s.vaults.Private.Delete(material.EpochData, id); err != nil {
		return s.metriced(codes.Internal, opDestroyEpoch, id, err)
	}
	delete(s.epochs, id)
	return nil
}

// runSetup runs this party's side of the PRSS agreement: send its
// contributions to every peer, wait for theirs, derive the keys, confirm
// them pairwise, store them.
func (s *Service) runSetup(id string) (*kmsv1.EpochResultResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.setupTimeout)
	defer cancel()
	setup, err := prss.NewSetup(s.rand, id, s.n, s.t, s.me)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	box := s.inbox.open(id)
	defer s.inbox.close(id)

	unsent := s.broadcast(ctx, func(ctx context.Context, peer int) error {
		m := &p2pv1.PrssContribution{From: uint32(s.me), EpochId: id}
		for set, c := range setup.ContributionsFor(peer) {
			m.Contributions = append(m.Contributions, &p2pv1.SubsetContribution{Subset: uint64(set), Contribution: c[:]})
		}
		return s.peers.PrssContribute(ctx, peer, m)
	})
	if err := box.wait(ctx, func() []int {
		for from, c := range box.takeContributions() {
			if err := setup.Receive(from, c); err != nil {
				box.fail(fmt.Errorf("invalid PRSS contribution from party %d: %w", from, err))
			}
		}
		return setup.Missing()
	}); err != nil {
		return nil, s.setupError(id, "no PRSS contribution from", err, setup.Missing(), unsent)
	}
	keys, err := setup.Finish()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	unsent = s.broadcast(ctx, func(ctx context.Context, peer int) error {
		return s.peers.PrssConfirm(ctx, peer, &p2pv1.PrssConfirmation{From: uint32(s.me), EpochId: id, Digest: keys.PairDigest(peer)})
	})
	var mismatched []int
	if err := box.wait(ctx, func() []int {
		var missing []int
		confirms := box.confirmations()
		for _, p := range s.peers.IDs() {
			d, ok := confirms[p]
			switch {
			case !ok:
				missing = append(missing, p)
			case !bytes.Equal(d, keys.PairDigest(p)):
				mismatched = appendOnce(mismatched, p)
			}
		}
		return missing
	}); err != nil {
		return nil, s.setupError(id, "no PRSS confirmation from", err, nil, unsent)
	}
	if len(mismatched) > 0 {
		return nil, status.Errorf(codes.Aborted, "PRSS set-up of epoch %s failed: parties %v derived different keys", id, mismatched)
	}
	e := &material.Epoch{Keys: keys, CreatedAt: time.Now()}
	if err := s.vaults.PutEpoch(e); err != nil {
		return nil, status.Errorf(codes.Internal, "PRSS set-up of epoch %s: %v", id, err)
	}
	s.mu.Lock()
	s.epochs[id] = e
	s.mu.Unlock()
	return &kmsv1.EpochResultResponse{EpochId: &kmsv1.RequestId{RequestId: id}, Parties: uint32(s.n), Confirmation: fmt.Sprintf("%x", keys.PairDigest(s.me))[:16]}, nil
}

func (s *Service) setupError(id, what string, err error, missing []int, unsent map[int]error) error {
	if len(missing) == 0 {
		for p := range unsent {
			missing = append(missing, p)
		}
		sort.Ints(missing)
	}
	msg := fmt.Sprintf("PRSS set-up of epoch %s failed: %s parties %v within %s", id, what, missing, s.setupTimeout)
	if len(unsent) > 0 {
		var ps []int
		for p := range unsent {
			ps = append(ps, p)
		}
		sort.Ints(ps)
		msg += fmt.Sprintf("; could not reach parties %v (party %d: %v)", ps, ps[0], unsent[ps[0]])
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		msg += ": " + err.Error()
	}
	return status.Error(codes.DeadlineExceeded, msg)
}

// broadcast calls send for every peer, retrying each until it succeeds or
// ctx ends; it returns the last error of the peers never reached. It does
// not wait for the slow ones beyond ctx.
func (s *Service) broadcast(ctx context.Context, send func(ctx context.Context, peer int) error) map[int]error {
	var mu sync.Mutex
	failed := map[int]error{}
	var wg sync.WaitGroup
	for _, p := range s.peers.IDs() {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for {
				cctx, cancel := context.WithTimeout(ctx, s.networkTimeout)
				err := send(cctx, p)
				cancel()
				if err == nil || status.Code(err) == codes.AlreadyExists {
					return
				}
				select {
				case <-ctx.Done():
					mu.Lock()
					failed[p] = err
					mu.Unlock()
					return
				case <-time.After(500 * time.Millisecond):
				}
			}
		}(p)
	}
	wg.Wait()
	return failed
}

// PrssContribute receives a peer's contributions, before or during this
// party's own set-up of the epoch.
func (s *Service) PrssContribute(ctx context.Context, m *p2pv1.PrssContribution) (*p2pv1.Ack, error) {
	if s.epoch(m.GetEpochId()) != nil {
		return nil, status.Errorf(codes.AlreadyExists, "Epoch %s already exists", m.GetEpochId())
	}
	c := make(map[prss.Set][prss.KeyLen]byte, len(m.GetContributions()))
	for _, sc := range m.GetContributions() {
		if len(sc.GetContribution()) != prss.KeyLen {
			return nil, status.Error(codes.InvalidArgument, "bad contribution length")
		}
		var a [prss.KeyLen]byte
		copy(a[:], sc.GetContribution())
		c[prss.Set(sc.GetSubset())] = a
	}
	s.inbox.addContribution(m.GetEpochId(), int(m.GetFrom()), c)
	return &p2pv1.Ack{}, nil
}

// PrssConfirm receives a peer's confirmation digest.
func (s *Service) PrssConfirm(ctx context.Context, m *p2pv1.PrssConfirmation) (*p2pv1.Ack, error) {
	s.inbox.addConfirmation(m.GetEpochId(), int(m.GetFrom()), m.GetDigest())
	return &p2pv1.Ack{}, nil
}

func appendOnce(xs []int, x int) []int {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}
