// Package server runs one party: it loads and checks everything before it
// binds a port, serves the client API, the party-to-party protocol and the
// metrics/health endpoints, and drains in-flight work on shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/metrics"
	"github.com/kmschaos/kmschaos/kms/p2p"
	"github.com/kmschaos/kmschaos/kms/release"
	"github.com/kmschaos/kmschaos/kms/service"
	kmsservicev1 "github.com/kmschaos/kmschaos/proto/kms_service/v1"
	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

// DrainTimeout bounds how long a stopping party waits for its sessions; it
// stays under the 10 s a container engine grants before SIGKILL.
const DrainTimeout = 8 * time.Second

// MonitorInterval is how often peer reachability and storage metrics are refreshed.
const MonitorInterval = 5 * time.Second

// Option changes how Run serves.
type Option func(*settings)

type settings struct{ lie bool }

// WithTestOnlyLie makes the party a lying coordinator (service.Options.LieForTests).
func WithTestOnlyLie() Option { return func(s *settings) { s.lie = true } }

// Run serves until ctx is cancelled (SIGTERM), then drains and returns nil.
// Errors before serving (storage, binding) are returned at once.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) error {
	var o settings
	for _, f := range opts {
		f(&o)
	}
	// As kms-server.rs logs it: "Starting threshold KMS server v{}...".
	log.Info("Starting threshold KMS server v" + release.Version() + "...")
	log.Info(fmt.Sprintf("Parameters: using threshold t=%d, knowing n=%d parties in total (myself included)", cfg.T(), cfg.N()), "party_id", cfg.Threshold.MyID)
	m := metrics.New(cfg.Threshold.MyID)
	if cfg.Telemetry.EnableSysMetrics {
		// At start, as the real init_telemetry does (observability/src/telemetry.rs);
		// its line has a newline after "collection...", one line here.
		cpus, total, free := m.SampleSystem(ctx, "/proc", cfg.Telemetry.SysInterval())
		log.Info(fmt.Sprintf("Starting system metrics collection... Running on %d CPUs. Total memory: %d bytes, Free memory: %d bytes.", cpus, total, free))
	}
	auth, err := peerAuth(cfg, log)
	if err != nil {
		return err
	}
	if o.lie {
		log.Warn("TEST ONLY: --test-only-lie is set: as coordinator this party returns every plaintext plus one")
	}
	svc, err := service.New(service.Options{Config: cfg, Log: log, Metrics: m, PeerAuth: auth, LieForTests: o.lie})
	if err != nil {
		return err
	}
	defer svc.Close()

	apiAddr := net.JoinHostPort(cfg.Service.ListenAddress, strconv.Itoa(cfg.Service.ListenPort))
	p2pAddr := net.JoinHostPort(cfg.Threshold.ListenAddress, strconv.Itoa(cfg.Threshold.ListenPort))
	apiLis, err := listen("the gRPC service", apiAddr)
	if err != nil {
		return err
	}
	p2pLis, err := listen("the party-to-party service", p2pAddr)
	if err != nil {
		apiLis.Close()
		return err
	}
	var metricsLis net.Listener
	if a := cfg.Telemetry.MetricsBindAddress; a != "" {
		if metricsLis, err = listen("the metrics endpoint", a); err != nil {
			apiLis.Close()
			p2pLis.Close()
			return err
		}
	}

	api := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
	kmsservicev1.RegisterCoreServiceEndpointServer(api, svc)
	// The health service as the real party's tonic-health reporter: the
	// overall status "" is SERVING from the start (tonic-health's
	// HealthReporter::new registers it so; grpc-go's health server does
	// the same), the core service NOT_SERVING until the server serves
	// (kms_impl.rs:733-734, then server.rs:172-173 below). Neither ever
	// says whether the party holds PRSS: a party without it answers
	// SERVING, so the chart's init Job reads it "already initialized".
	hs := health.NewServer()
	hs.SetServingStatus(kmsservicev1.CoreServiceEndpoint_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(api, hs)
	reflection.Register(api)
	peer := grpc.NewServer(append(p2p.ServerOptions(auth), grpc.StatsHandler(svc.LateSessions()))...)
	p2pv1.RegisterPeerServer(peer, svc)

	errs := make(chan error, 3)
	go func() { errs <- serveErr("party-to-party", peer.Serve(p2pLis)) }()
	go func() { errs <- serveErr("gRPC", api.Serve(apiLis)) }()
	var httpSrv *http.Server
	if metricsLis != nil {
		httpSrv = &http.Server{Handler: endpoints(m, uptimeSince(time.Now())), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := httpSrv.Serve(metricsLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("metrics endpoint: %w", err)
			}
		}()
		log.Info("Metrics available at http://" + cfg.Telemetry.MetricsBindAddress + "/metrics")
	}
	log.Info("Starting party-to-party server on " + p2pAddr)
	log.Info("Starting core service gRPC server on " + apiAddr)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(kmsservicev1.CoreServiceEndpoint_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	if err := svc.Ready(); err != nil {
		log.Warn("Party is not ready for threshold operations: " + err.Error())
	}

	monitorCtx, stopMonitor := context.WithCancel(context.Background())
	defer stopMonitor()
	go svc.Monitor(monitorCtx, MonitorInterval)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("Received shutdown signal, draining in-flight work")
	case runErr = <-errs:
		log.Error("Server failed", "error", runErr.Error())
	}
	// As the real party's tonic-health reporter: the core service turns
	// NOT_SERVING while it drains (threshold_kms.rs Shutdown::shutdown,
	// set_not_serving::<CoreServiceEndpointServer>), and the overall
	// status "" a kubelet's gRPC probe asks for stays SERVING (tonic
	// registers it SERVING and no one changes it).
	hs.SetServingStatus(kmsservicev1.CoreServiceEndpoint_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	if !svc.Drain(DrainTimeout) {
		log.Warn("Sessions still running after the drain timeout", "timeout", DrainTimeout.String())
	}
	stopGracefully(api, 5*time.Second)
	stopGracefully(peer, 5*time.Second)
	if httpSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = httpSrv.Shutdown(sctx)
		cancel()
	}
	log.Info("KMS server stopped")
	return runErr
}

// peerAuth loads the party-to-party TLS material and reports every refused
// certificate with a WARN line (the real KMS counts none).
func peerAuth(cfg *config.Config, log *slog.Logger) (*p2p.Auth, error) {
	auth, err := p2p.AuthFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	if auth == nil {
		log.Warn("Party-to-party TLS is not configured (threshold.tls): peer links are not authenticated")
		return nil, nil
	}
	auth.OnRefused(func(inbound bool, reason, remote string, err error) {
		if reason == p2p.ReasonUntrustedRelease {
			// The real verifiers log it at ERROR, calling or called,
			// and count it nowhere.
			log.Error(err.Error(), "remote", remote)
			return
		}
		if inbound {
			log.Warn("Refused party-to-party connection: "+err.Error(), "remote", remote, "reason", reason)
			return
		}
		log.Warn("Refused the certificate of "+remote+": "+err.Error(), "reason", reason)
	})
	// A certificate of its own that its peers will refuse is not told at
	// start: the real party logs nothing of it either; its peers' refusals
	// are what an operator sees.
	return auth, nil
}

func listen(what, addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err
		}
		return nil, fmt.Errorf("failed to bind %s to %s: %v", what, addr, err)
	}
	return l, nil
}

func serveErr(what string, err error) error {
	if err == nil || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return fmt.Errorf("%s server: %w", what, err)
}

func stopGracefully(s *grpc.Server, timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.Stop()
	}
}
