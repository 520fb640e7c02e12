// Package metrics holds the Prometheus metrics of a party, served on
// :9646/metrics. Names follow the real KMS where it has them.
package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics of one party.
type Metrics struct {
	Registry *prometheus.Registry

	Operations     *prometheus.CounterVec   // kms_operations_total{operation}
	Errors         *prometheus.CounterVec   // kms_operation_errors_total{operation,error}
	Duration       *prometheus.HistogramVec // kms_operation_duration_ms{operation}
	ActiveSessions prometheus.Gauge         // kms_active_sessions
	// RateLimiterUsage is the tokens taken from the rate limiter's bucket,
	// an IntGauge without labels of its own in the real party
	// (observability/src/metrics.rs, rate_limiter_gauge).
	RateLimiterUsage prometheus.Gauge       // kms_rate_limiter_usage
	PeersReachable   prometheus.Gauge       // kms_peers_reachable (self included)
	PeerReachable    *prometheus.GaugeVec   // kms_peer_reachable{peer}
	PeerLatency      *prometheus.GaugeVec   // kms_peer_latency_ms{peer}
	PeerErrors       *prometheus.CounterVec // kms_peer_errors_total{peer,call}
	InvalidShares    *prometheus.CounterVec // kms_invalid_shares_received_total{party,reason}
	StorageFree      *prometheus.GaugeVec   // kms_storage_free_bytes{vault}
	StorageUsed      *prometheus.GaugeVec   // kms_storage_used_ratio{vault}
	StorageErrors    *prometheus.CounterVec // kms_storage_errors_total{vault,kind}
	// Unauthenticated counts party-to-party calls refused because the
	// caller is not an authenticated party of the cluster.
	Unauthenticated *prometheus.CounterVec // kms_p2p_unauthenticated_total{reason}
	// BackupErrors counts failed backup-vault updates by the operation that
	// ran them, error always "backup_error", as the real
	// backup_error_counter (observability/src/metrics.rs): a series appears
	// at its first error.
	BackupErrors *prometheus.CounterVec // kms_backup_errors_total{operation,error}
	// The real sys_metrics.rs gauges, the machine's and not the party's
	// (see sys.go): registered whether or not enable_sys_metrics is set, so
	// they read 0 when it is not.
	MemoryUsage prometheus.Gauge // kms_memory_usage, bytes
	TotalMemory prometheus.Gauge // kms_total_memory, bytes
	CPULoad     prometheus.Gauge // kms_cpu_load, 1-minute load average per CPU
}

// New registers every metric on a fresh registry.
func New(party int) *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	constLabels := prometheus.Labels{"party_id": strconv.Itoa(party)}
	m := &Metrics{
		Registry: r,
		Operations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kms_operations_total",
			Help: "Operations started, by operation.", ConstLabels: constLabels}, []string{"operation"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kms_operation_errors_total",
			Help: "Operations that failed, by operation and gRPC code.", ConstLabels: constLabels}, []string{"operation", "error"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kms_operation_duration_ms",
			Help: "Duration of operations in milliseconds.", ConstLabels: constLabels,
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000}}, []string{"operation"}),
		ActiveSessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kms_active_sessions",
			Help: "Threshold sessions in progress.", ConstLabels: constLabels}),
		RateLimiterUsage: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kms_rate_limiter_usage",
			Help: "Rate limiter usage for the KMS", ConstLabels: constLabels}),
		PeersReachable: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kms_peers_reachable",
			Help: "Parties reachable at the last health ping, this one included.", ConstLabels: constLabels}),
		PeerReachable: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kms_peer_reachable",
			Help: "1 when the peer answered the last health ping.", ConstLabels: constLabels}, []string{"peer"}),
		PeerLatency: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kms_peer_latency_ms",
			Help: "Round trip of the last health ping to the peer.", ConstLabels: constLabels}, []string{"peer"}),
		PeerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kms_peer_errors_total",
			Help: "Failed calls to a peer, by peer and call (ping, decrypt_share).", ConstLabels: constLabels}, []string{"peer", "call"}),
		InvalidShares: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kms_invalid_shares_received_total",
			Help: "Shares rejected, by sending party and reason (proof, prss).", ConstLabels: constLabels}, []string{"party", "reason"}),
		StorageFree: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kms_storage_free_bytes",
			Help: "Free bytes on the filesystem of each vault.", ConstLabels: constLabels}, []string{"vault"}),
		StorageUsed: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kms_storage_used_ratio",
			Help: "Fraction of the filesystem of each vault in use.", ConstLabels: constLabels}, []string{"vault"}),
		StorageErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kms_storage_errors_total",
			Help: "Storage errors, by vault and kind (nospace, permission, corrupt, notfound, io).", ConstLabels: constLabels}, []string{"vault", "kind"}),
		Unauthenticated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kms_p2p_unauthenticated_total",
			Help: "Party-to-party connections or calls refused, by reason (no_certificate, unknown_certificate, identity_mismatch, expired, impersonation, handshake, ...).", ConstLabels: constLabels}, []string{"reason"}),
		BackupErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kms_backup_errors_total",
			Help: "Total number of backup errors", ConstLabels: constLabels}, []string{"operation", "error"}),
		MemoryUsage: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kms_memory_usage",
			Help: "Memory used for KMS", ConstLabels: constLabels}),
		TotalMemory: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kms_total_memory",
			Help: "Amount of available memory in the system", ConstLabels: constLabels}),
		CPULoad: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kms_cpu_load",
			Help: "CPU load for KMS (averaged over all CPUs)", ConstLabels: constLabels}),
	}
	for _, c := range []prometheus.Collector{m.BackupErrors, m.MemoryUsage, m.TotalMemory, m.CPULoad, m.Unauthenticated, m.Operations, m.Errors, m.Duration, m.ActiveSessions, m.RateLimiterUsage, m.PeersReachable,
		m.PeerReachable, m.PeerLatency, m.PeerErrors, m.InvalidShares, m.StorageFree, m.StorageUsed, m.StorageErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}
