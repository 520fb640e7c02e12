// Package metrics holds the Prometheus metrics of a party, served on
// :9646/metrics. Only families the real KMS registers
// (observability/src/metrics.rs): an operator's dashboards and alerts read
// the same series here, and no more than the real party shows.
package metrics

import (
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
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
	RateLimiterUsage prometheus.Gauge // kms_rate_limiter_usage
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
		BackupErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kms_backup_errors_total",
			Help: "Total number of backup errors", ConstLabels: constLabels}, []string{"operation", "error"}),
		MemoryUsage: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kms_memory_usage",
			Help: "Memory used for KMS", ConstLabels: constLabels}),
		TotalMemory: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kms_total_memory",
			Help: "Amount of available memory in the system", ConstLabels: constLabels}),
		CPULoad: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kms_cpu_load",
			Help: "CPU load for KMS (averaged over all CPUs)", ConstLabels: constLabels}),
	}
	for _, c := range []prometheus.Collector{m.Operations, m.Errors, m.Duration, m.ActiveSessions, m.RateLimiterUsage,
		m.BackupErrors, m.MemoryUsage, m.TotalMemory, m.CPULoad, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// Gatherer is what /metrics serves: the registry's families the real party
// also has. Go's process collector adds families the Rust one lacks
// (process_network_*, process_virtual_memory_max_bytes); they are left out.
func (m *Metrics) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		fams, err := m.Registry.Gather()
		return slices.DeleteFunc(fams, func(f *dto.MetricFamily) bool { return !slices.Contains(RealFamilies, f.GetName()) }), err
	})
}

// RealFamilies is every family the real party registers: the allowlist of
// observability/src/metrics.rs's test (kms_*), and the process_* families
// of the prometheus crate's process feature on Linux. A family of ours
// must be one of these; not all of these are ours yet.
var RealFamilies = []string{
	"kms_active_sessions", "kms_backup_errors_total", "kms_cpu_load", "kms_fhe_key_cache_size",
	"kms_file_descriptors", "kms_inactive_sessions", "kms_memory_usage",
	"kms_meta_storage_pub_decryptions", "kms_meta_storage_pub_decryptions_in_store",
	"kms_meta_storage_user_decryptions", "kms_meta_storage_user_decryptions_in_store",
	"kms_network_rx_bytes_total", "kms_network_tx_bytes_total", "kms_operation_duration_ms",
	"kms_operation_errors_total", "kms_operations_total", "kms_payload_size_bytes",
	"kms_process_cpu_usage", "kms_process_memory_usage", "kms_rate_limiter_usage",
	"kms_socat_file_descriptors", "kms_socat_tasks", "kms_tasks", "kms_total_cpus",
	"kms_total_memory", "kms_version",
	"process_cpu_seconds_total", "process_max_fds", "process_open_fds", "process_resident_memory_bytes",
	"process_start_time_seconds", "process_threads", "process_virtual_memory_bytes",
}
