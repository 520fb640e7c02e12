package service

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/kms/health"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
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
	start := time.Now()
	defer func() { s.observe(opHealth, start, err) }()
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
	for id := range s.keys {
		resp.MyFheKeyIds = append(resp.MyFheKeyIds, id)
	}
	sort.Strings(resp.MyFheKeyIds)
	return resp, nil
}

func (s *Service) storageInfo() string {
	return fmt.Sprintf("Threshold KMS - file storage with root_path '%s'", s.vaults.Private.Dir())
}

// GetKeyMaterialAvailability scans storage live: what is there, what is
// missing or corrupt, the PRSS epochs, and a read/write probe of every vault.
func (s *Service) GetKeyMaterialAvailability(ctx context.Context, _ *kmsv1.Empty) (resp *kmsv1.KeyMaterialAvailabilityResponse, err error) {
	start := time.Now()
	defer func() { s.observe(opKeyMaterial, start, err) }()
	r := s.vaults.Scan()
	resp = &kmsv1.KeyMaterialAvailabilityResponse{StorageInfo: s.storageInfo()}
	resp.FheKeyIds = append(resp.FheKeyIds, r.KeyIDs...)
	for _, p := range r.Problems {
		resp.Problems = append(resp.Problems, &kmsv1.MaterialProblem{Object: p.Object, Kind: p.Kind, Detail: p.Detail})
	}
	active, loaded := s.activeEpoch()
	for _, e := range r.Epochs {
		info := &kmsv1.EpochInfo{EpochId: e.ID, Intact: e.Err == nil, Active: loaded != nil && e.ID == active}
		if e.Err != nil {
			info.Error = e.Err.Error()
		}
		resp.Epochs = append(resp.Epochs, info)
		resp.PreprocessingIds = append(resp.PreprocessingIds, e.ID)
	}
	// An epoch in use whose file has gone is a problem too.
	if loaded != nil {
		found := false
		for _, e := range r.Epochs {
			found = found || e.ID == active
		}
		if !found {
			resp.Problems = append(resp.Problems, &kmsv1.MaterialProblem{Object: s.vaults.Private.Object(material.EpochData, active), Kind: "missing",
				Detail: "the PRSS epoch in use is no longer in storage: the party will not find it after a restart"})
		}
	}
	for _, st := range s.probeVaults() {
		vs := &kmsv1.VaultStatus{Name: st.Name, Path: st.Path, Readable: st.Readable, Writable: st.Writable, TotalBytes: st.TotalBytes, FreeBytes: st.FreeBytes}
		if st.Err != nil {
			vs.Error = st.Err.Error()
		}
		resp.Vaults = append(resp.Vaults, vs)
	}
	return resp, nil
}

// GetOperatorPublicKey returns this party's signature verification key.
func (s *Service) GetOperatorPublicKey(ctx context.Context, _ *kmsv1.Empty) (*kmsv1.OperatorPublicKey, error) {
	return &kmsv1.OperatorPublicKey{PublicKey: []byte(s.signer.Public().(ed25519.PublicKey)), KeyId: s.signerID}, nil
}

// probeVaults probes every vault.
func (s *Service) probeVaults() []storage.Status {
	var out []storage.Status
	for _, v := range s.vaults.All() {
		out = append(out, v.Probe())
	}
	return out
}

// Monitor refreshes the sampled metrics every interval until ctx ends.
// Like the real party it pings no peer and probes no vault in the
// background: peers are pinged when a health check asks, and the real
// KMS exports no peer or storage metric (observability/src/metrics.rs).
func (s *Service) Monitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
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
