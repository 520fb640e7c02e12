package healthcheck

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/health"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// Options bound the calls of a check.
type Options struct {
	ConnectionTimeout time.Duration // default 5 s
	RequestTimeout    time.Duration // default 10 s
}

func (o *Options) defaults() {
	if o.ConnectionTimeout <= 0 {
		o.ConnectionTimeout = 5 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 10 * time.Second
	}
}

// RunConfig validates a config file.
func RunConfig(path string) (*Result, *config.Config) {
	r := &Result{OverallHealth: Optimal}
	c, err := config.Load(path, nil)
	if err != nil {
		r.ConfigValid = &ConfigValidation{Valid: false, ConfigType: "unknown", StorageType: "unknown", Errors: []string{err.Error()}}
		r.OverallHealth = Unhealthy
		r.Recommendations = append(r.Recommendations, "Fix configuration errors before deployment")
		return r, nil
	}
	r.ConfigValid = &ConfigValidation{Valid: true, ConfigType: "threshold", StorageType: storageDescription(c.PrivateVault)}
	info := &ConfigInfo{ListenAddress: fmt.Sprintf("%s:%d", c.Service.ListenAddress, c.Service.ListenPort), Threshold: c.T(), Parties: c.N()}
	for _, p := range c.Threshold.Peers {
		info.Peers = append(info.Peers, Peer{PartyID: p.PartyID, Address: fmt.Sprintf("%s:%d", p.Address, p.Port)})
	}
	r.ConfigInfo = info
	r.Recommendations = append(r.Recommendations,
		fmt.Sprintf("Config defines %d peers for threshold KMS at %s:%d", c.N(), c.Threshold.ListenAddress, c.Threshold.ListenPort),
		fmt.Sprintf("OPERATIONAL: Monitor that all %d nodes remain online. While %d nodes provide healthy status, having all nodes online ensures optimal performance and fault tolerance", c.N(), health.MinHealthy(c.N())))
	return r, c
}

func storageDescription(v *config.Vault) string {
	return fmt.Sprintf("File(FileStorage { path: %q, prefix: %q })", v.Storage.File.Path, v.Storage.File.Prefix)
}

// RunLive checks a running party through its API.
func RunLive(ctx context.Context, endpoint string, o Options) *Result {
	o.defaults()
	r := &Result{OverallHealth: Optimal}
	live(ctx, endpoint, o, r)
	return r
}

// RunFull validates the config, checks the running party and reads the
// party's storage directly, so that it reports storage and PRSS even when
// the party is down (crash-looping on a corrupt object, say).
func RunFull(ctx context.Context, endpoint, configPath string, o Options) *Result {
	o.defaults()
	r, c := RunConfig(configPath)
	live(ctx, endpoint, o, r)
	if c != nil && (r.Connectivity == nil || !r.Connectivity.Reachable) {
		local(c, r)
	}
	return r
}

func live(ctx context.Context, endpoint string, o Options, r *Result) {
	cl, err := client.Dial(endpoint)
	if err != nil {
		r.Connectivity = &Connectivity{Error: err.Error()}
		r.OverallHealth = Unhealthy
		return
	}
	defer cl.Close()
	hc := healthpb.NewHealthClient(cl.Conn())
	cctx, cancel := context.WithTimeout(ctx, o.ConnectionTimeout)
	start := time.Now()
	_, err = hc.Check(cctx, &healthpb.HealthCheckRequest{})
	cancel()
	if err != nil {
		r.Connectivity = &Connectivity{Error: fmt.Sprintf("Failed to connect to %s: %s", client.HostPort(endpoint), callError(err, o.ConnectionTimeout))}
		r.OverallHealth = Unhealthy
		r.Recommendations = append(r.Recommendations, "The party's API does not answer: check that the service is running and listening, then the network path to it")
		return
	}
	r.Connectivity = &Connectivity{Reachable: true, LatencyMs: time.Since(start).Milliseconds()}

	rctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	if hs, err := cl.GetHealthStatus(rctx, &kmsv1.Empty{}); err != nil {
		r.OverallHealth = worse(r.OverallHealth, Degraded)
		r.Recommendations = append(r.Recommendations, "Health status unavailable: "+callError(err, o.RequestTimeout))
	} else {
		processHealth(hs, r)
	}
	if km, err := cl.GetKeyMaterialAvailability(rctx, &kmsv1.Empty{}); err != nil {
		r.KeyMaterial = &KeyMaterial{Error: callError(err, o.RequestTimeout)}
		r.OverallHealth = worse(r.OverallHealth, Degraded)
		r.Recommendations = append(r.Recommendations, "Key material check failed: "+callError(err, o.RequestTimeout))
	} else {
		processKeyMaterial(km, r)
	}
	if k, err := cl.GetOperatorPublicKey(rctx, &kmsv1.Empty{}); err != nil {
		r.OperatorKey = &OperatorKey{Error: callError(err, o.RequestTimeout)}
	} else {
		r.OperatorKey = &OperatorKey{Available: true, PublicKeyLen: len(k.GetPublicKey()), PublicKeyHex: hex.EncodeToString(k.GetPublicKey())}
	}
}

func callError(err error, timeout time.Duration) string {
	st := status.Convert(err)
	if st.Code() == codes.DeadlineExceeded {
		return fmt.Sprintf("Timeout after %s", timeout)
	}
	return fmt.Sprintf("status: %s, message: %q", st.Code(), st.Message())
}

func processHealth(hs *kmsv1.HealthStatusResponse, r *Result) {
	for _, pc := range hs.GetPeersFromAllContexts() {
		total := len(pc.GetPeers())
		up := int(pc.GetNodesReachable()) - 1
		c := Context{
			ContextID: pc.GetContextId().GetRequestId(), NodeType: "threshold",
			MyPartyID: pc.GetMyPartyId(), ThresholdRequired: pc.GetThresholdRequired(), NodesReachable: pc.GetNodesReachable(),
			Health: Status(health.Name(pc.GetStatus())),
		}
		switch pc.GetStatus() {
		case kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL:
			c.Recommendation = fmt.Sprintf("Optimal: All %d peers online and reachable", total)
		case kmsv1.HealthStatus_HEALTH_STATUS_HEALTHY:
			c.Recommendation = fmt.Sprintf("Healthy but not optimal: %d/%d peers reachable (sufficient majority but %d peers offline)", up, total, total-up)
		case kmsv1.HealthStatus_HEALTH_STATUS_DEGRADED:
			c.Recommendation = fmt.Sprintf("(!!!)  INVESTIGATE: Even with healthy status, explore why %d peers are offline. Check peer connectivity, network issues, or node failures to restore optimal fault tolerance.", total-up)
		default:
			c.Recommendation = fmt.Sprintf("Critical: Only %d peers reachable, but %d required nodes for threshold operations", up, pc.GetThresholdRequired())
		}
		for _, p := range pc.GetPeers() {
			c.Peers = append(c.Peers, PeerStatus{PeerID: p.GetPeerId(), Endpoint: p.GetEndpoint(), Reachable: p.GetReachable(), LatencyMs: p.GetLatencyMs(), Error: p.GetError()})
		}
		r.ContextInfo = append(r.ContextInfo, c)
		// Peer health counts in the overall status (the real tool's live
		// mode ignores it; an operator reading "Optimal" would be misled).
		r.OverallHealth = worse(r.OverallHealth, c.Health)
	}
}

func processKeyMaterial(km *kmsv1.KeyMaterialAvailabilityResponse, r *Result) {
	k := &KeyMaterial{Available: true, FheKeyIDs: km.GetFheKeyIds(), CrsIDs: km.GetCrsIds(), Preprocessing: km.GetPreprocessingIds(), StorageBackend: km.GetStorageInfo()}
	for _, p := range km.GetProblems() {
		k.Problems = append(k.Problems, Problem{Object: p.GetObject(), Kind: p.GetKind(), Detail: p.GetDetail()})
	}
	r.KeyMaterial = k
	p := &PRSS{}
	for _, e := range km.GetEpochs() {
		p.Epochs = append(p.Epochs, Epoch{ID: e.GetEpochId(), Active: e.GetActive(), Intact: e.GetIntact(), Error: e.GetError()})
		if e.GetActive() {
			p.ActiveEpoch = e.GetEpochId()
		}
	}
	r.PRSS = p
	for _, v := range km.GetVaults() {
		r.Storage = append(r.Storage, Vault{Name: v.GetName(), Path: v.GetPath(), Readable: v.GetReadable(), Writable: v.GetWritable(),
			TotalBytes: v.GetTotalBytes(), FreeBytes: v.GetFreeBytes(), UsedRatio: usedRatio(v.GetTotalBytes(), v.GetFreeBytes()), Error: v.GetError()})
	}
	judgeMaterial(r)
}

// local reads the party's storage straight from disk, as configured.
func local(c *config.Config, r *Result) {
	v := material.Vaults{
		Public:  &storage.Vault{Name: "public", Path: c.PublicVault.Storage.File.Path, Prefix: c.PublicVault.Storage.File.Prefix},
		Private: &storage.Vault{Name: "private", Path: c.PrivateVault.Storage.File.Path, Prefix: c.PrivateVault.Storage.File.Prefix},
	}
	if c.BackupVault != nil {
		v.Backup = &storage.Vault{Name: "backup", Path: c.BackupVault.Storage.File.Path, Prefix: c.BackupVault.Storage.File.Prefix}
	}
	scan := v.Scan()
	k := &KeyMaterial{Available: true, FheKeyIDs: scan.KeyIDs, StorageBackend: "read from disk: " + v.Private.Dir()}
	for _, p := range scan.Problems {
		k.Problems = append(k.Problems, Problem{Object: p.Object, Kind: p.Kind, Detail: p.Detail})
	}
	r.KeyMaterial = k
	p := &PRSS{}
	var newest *material.Epoch
	for _, e := range scan.Epochs {
		ep := Epoch{ID: e.ID, Intact: e.Err == nil}
		if e.Err != nil {
			ep.Error = e.Err.Error()
		} else if newest == nil || e.Epoch.CreatedAt.After(newest.CreatedAt) {
			newest, p.ActiveEpoch = e.Epoch, e.ID
		}
		p.Epochs = append(p.Epochs, ep)
	}
	for i := range p.Epochs {
		p.Epochs[i].Active = p.Epochs[i].ID == p.ActiveEpoch
	}
	r.PRSS = p
	r.Storage = nil
	for _, vault := range v.All() {
		st := vault.Probe()
		out := Vault{Name: st.Name, Path: st.Path, Readable: st.Readable, Writable: st.Writable, TotalBytes: st.TotalBytes, FreeBytes: st.FreeBytes, UsedRatio: st.UsedRatio()}
		if st.Err != nil {
			out.Error = st.Err.Error()
		}
		r.Storage = append(r.Storage, out)
	}
	judgeMaterial(r)
}

func usedRatio(total, free uint64) float64 {
	if total == 0 {
		return 0
	}
	return 1 - float64(free)/float64(total)
}

// judgeMaterial lowers the overall status for key material, PRSS and
// storage findings and says what to do about them.
func judgeMaterial(r *Result) {
	if k := r.KeyMaterial; k != nil {
		if len(k.FheKeyIDs) == 0 {
			r.OverallHealth = worse(r.OverallHealth, Degraded)
			r.Recommendations = append(r.Recommendations, "No keys found - run key generation")
		}
		for _, p := range k.Problems {
			if p.Kind == "backup" {
				r.OverallHealth = worse(r.OverallHealth, Healthy)
				r.Recommendations = append(r.Recommendations, fmt.Sprintf("Backup of %s is not usable: refresh the backup vault", p.Object))
				continue
			}
			r.OverallHealth = worse(r.OverallHealth, Degraded)
			r.Recommendations = append(r.Recommendations, fmt.Sprintf("Key material %s is %s: restore it from backup (see Key Material Recovery)", p.Object, p.Kind))
		}
	}
	if p := r.PRSS; p != nil {
		if p.ActiveEpoch == "" {
			r.OverallHealth = worse(r.OverallHealth, Degraded)
			r.Recommendations = append(r.Recommendations, "No PRSS epoch data: run kms-init on all parties (PRSS Re-initialization)")
		}
		for _, e := range p.Epochs {
			if !e.Intact {
				r.OverallHealth = worse(r.OverallHealth, Degraded)
				r.Recommendations = append(r.Recommendations, fmt.Sprintf("PRSS epoch %s is unreadable: remove it and re-initialise PRSS", e.ID))
			}
		}
	}
	for _, v := range r.Storage {
		switch {
		case !v.Readable || !v.Writable:
			r.OverallHealth = worse(r.OverallHealth, Degraded)
			r.Recommendations = append(r.Recommendations, fmt.Sprintf("Storage vault %s at %s is not usable: %s", v.Name, v.Path, v.Error))
		case v.UsedRatio > storage.UsageWarnRatio:
			r.OverallHealth = worse(r.OverallHealth, Healthy)
			r.Recommendations = append(r.Recommendations, fmt.Sprintf("WARNING: storage vault %s is %.0f%% full: free space before writes fail", v.Name, 100*v.UsedRatio))
		}
	}
}
