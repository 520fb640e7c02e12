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

// RunLive checks a running party through its API. As the real tool's
// check_live (checks.rs), the overall status starts at Healthy and only
// gets worse: Unhealthy when the party does not answer, Degraded when it
// lists no key. The party's grade of its peers is shown per context, and
// never reaches the overall status or the exit code.
func RunLive(ctx context.Context, endpoint string, o Options) *Result {
	o.defaults()
	r := &Result{OverallHealth: Healthy}
	live(ctx, endpoint, o, r)
	return r
}

// RunFull validates the config and checks the running party, as the real
// tool's full mode does (checks.rs run_full_check): it reads no storage.
func RunFull(ctx context.Context, endpoint, configPath string, o Options) *Result {
	o.defaults()
	r, _ := RunConfig(configPath)
	live(ctx, endpoint, o, r)
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
		r.Recommendations = append(r.Recommendations, "Cannot connect to KMS at "+endpoint)
		return
	}
	r.Connectivity = &Connectivity{Reachable: true, LatencyMs: time.Since(start).Milliseconds()}

	rctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	// The key material comes with the health status; the real tool asks
	// for it alone only when GetHealthStatus fails (its fallback).
	if hs, err := cl.GetHealthStatus(rctx, &kmsv1.Empty{}); err == nil {
		processHealth(hs, r)
	} else if km, err := cl.GetKeyMaterialAvailability(rctx, &kmsv1.Empty{}); err != nil {
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
	r.KeyMaterial = &KeyMaterial{Available: true, FheKeyIDs: hs.GetMyFheKeyIds(), CrsIDs: hs.GetMyCrsIds(),
		Preprocessing: hs.GetMyPreprocessingKeyIds(), StorageBackend: hs.GetMyStorageInfo()}
	judgeMaterial(r)
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
	}
}

func processKeyMaterial(km *kmsv1.KeyMaterialAvailabilityResponse, r *Result) {
	r.KeyMaterial = &KeyMaterial{Available: true, FheKeyIDs: km.GetFheKeyIds(), CrsIDs: km.GetCrsIds(), Preprocessing: km.GetPreprocessingIds(), StorageBackend: km.GetStorageInfo()}
	judgeMaterial(r)
}

// judgeMaterial grades the key material as the real tool does
// (checks.rs): no FHE key and no CRS is Degraded, with its advice. It
// knows only the ids the party listed.
func judgeMaterial(r *Result) {
	if k := r.KeyMaterial; k != nil && len(k.FheKeyIDs)+len(k.CrsIDs) == 0 {
		r.OverallHealth = worse(r.OverallHealth, Degraded)
		r.Recommendations = append(r.Recommendations, "No keys found - run key generation")
	}
}
