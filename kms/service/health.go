package service

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/health"
	"github.com/kmschaos/kmschaos/kms/material"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

// Ping answers a peer's health probe.
func (s *Service) Ping(ctx context.Context, req *p2pv1.PingRequest) (*p2pv1.PingResponse, error) {
	return &p2pv1.PingResponse{PartyId: uint32(s.me)}, nil
}

// pingTimeout bounds each health ping: a silent peer costs this much, once,
// whatever the number of silent peers.
func (s *Service) pingTimeout() time.Duration { return min(s.networkTimeout, 3*time.Second) }

// pingAll pings every peer in parallel.
func (s *Service) pingAll(ctx context.Context) []*kmsv1.PeerHealth {
	ids := s.peers.IDs()
	out := make([]*kmsv1.PeerHealth, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func(i, id int) {
			defer wg.Done()
			ph := &kmsv1.PeerHealth{PeerId: uint32(id), Endpoint: s.peers.Endpoint(id)}
			rtt, err := s.peers.Ping(ctx, id, s.pingTimeout())
			if err != nil {
				ph.Error = err.Error()
			} else {
				ph.Reachable = true
				ph.LatencyMs = uint32(rtt.Milliseconds())
			}
			out[i] = ph
		}(i, id)
	}
	wg.Wait()
	return out
}

// GetHealthStatus pings every peer and grades this party's view.
func (s *Service) GetHealthStatus(ctx context.Context, _ *kmsv1.Empty) (resp *kmsv1.HealthStatusResponse, err error) {
	// The party's own key material, listed from storage as the real
	// endpoint does (backup_operator.get_key_material_availability).
	keyIDs, err := s.storedKeyIDs()
	if err != nil {
		return nil, err
	}
	peers := s.pingAll(ctx)
	reachable := 1
	for _, p := range peers {
		if p.Reachable {
			reachable++
		}
	}
	resp = &kmsv1.HealthStatusResponse{
		NodeType:      kmsv1.NodeType_NODE_TYPE_THRESHOLD,
		MyStorageInfo: s.storageInfo(),
		PeersFromAllContexts: []*kmsv1.PeersFromContext{{
			ContextId:          &kmsv1.RequestId{RequestId: material.DefaultContextID},
			MyPartyId:          uint32(s.me),
			ThresholdRequired:  uint32(health.ThresholdRequired(s.n)),
			MinNodesForHealthy: uint32(health.MinHealthy(s.n)),
			NodesReachable:     uint32(reachable),
			Status:             health.Grade(s.n, reachable),
			Peers:              peers,
		}},
	}
	resp.MyFheKeyIds = keyIDs
	return resp, nil
}

func (s *Service) storageInfo() string {
	return fmt.Sprintf("Threshold KMS - file storage with root_path '%s'", s.vaults.Private.Dir())
}

// GetKeyMaterialAvailability lists the key shares in private storage, as
// the real party's query_key_material_availability does
// (core/service/src/engine/utils.rs): ids only. It reads no object and
// checks nothing: a share that is corrupt, unreadable or mismatched is
// listed like a good one, and the threshold party has no CRS or
// preprocessing here.
func (s *Service) GetKeyMaterialAvailability(ctx context.Context, _ *kmsv1.Empty) (resp *kmsv1.KeyMaterialAvailabilityResponse, err error) {
	start := time.Now()
	defer func() { s.observe(opKeyMaterial, start, err) }()
	ids, err := s.storedKeyIDs()
	if err != nil {
		return nil, err
	}
	return &kmsv1.KeyMaterialAvailabilityResponse{FheKeyIds: ids, StorageInfo: s.storageInfo()}, nil
}

// storedKeyIDs lists the FheKeyInfo ids of private storage, with the real
// party's error when the listing fails.
func (s *Service) storedKeyIDs() ([]string, error) {
	ids, err := s.vaults.Private.List(material.FheKeyInfo)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "Failed to query threshold FHE keys: %v", err)
	}
	sort.Strings(ids)
	return ids, nil
}

// GetOperatorPublicKey returns this party's signature verification key.
func (s *Service) GetOperatorPublicKey(ctx context.Context, _ *kmsv1.Empty) (*kmsv1.OperatorPublicKey, error) {
	return &kmsv1.OperatorPublicKey{PublicKey: []byte(s.signer.Public().(ed25519.PublicKey)), KeyId: s.signerID}, nil
}

// Monitor refreshes the sampled metrics every interval until ctx ends. It
// also pings every peer: nothing an operator sees (no metric, no log), but
// every party-to-party connection stays dialled between sessions.
func (s *Service) Monitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.pingAll(ctx)
		// Sampled, not live: the real party sets the gauge in its system
		// metrics loop every refresh_interval (5 s by default,
		// observability/src/conf.rs; update_threshold_kms_system_metrics in
		// core/service/src/engine/threshold/service/kms_impl.rs).
		s.metrics.RateLimiterUsage.Set(float64(s.limiter.TokensUsed()))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
