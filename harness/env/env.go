// Package env holds the one cluster a test run shares, and the run's
// settings from the environment: every scenario works on the same cluster
// and returns it to its baseline with Reset.
package env

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/backends"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/signals"
)

// Settings of a run, read from KMSCHAOS_* variables.
type Settings struct {
	N, T      int    // KMSCHAOS_N, KMSCHAOS_T (13, 4)
	Seed      uint64 // KMSCHAOS_SEED (random, printed)
	ReportDir string // KMSCHAOS_REPORT_DIR (reports)
	// KeepImages keeps the images after the run (KMSCHAOS_KEEP_IMAGES=1):
	// the next run starts 16 s sooner.
	KeepImages bool
	// Backend is where the cluster runs: docker, or kubernetes
	// (KMSCHAOS_BACKEND), on the cluster of KMSCHAOS_KUBECONFIG (default:
	// $KUBECONFIG, ~/.kube/config, the local cluster's).
	Backend, Kubeconfig string
	// NodeFaults allows the evict fault to cordon a node of a cluster
	// other than the local one (KMSCHAOS_K8S_NODE_FAULTS=1).
	NodeFaults bool
}

// FromEnvironment reads the settings, with defaults.
func FromEnvironment() (Settings, error) {
	s := Settings{N: 13, T: 4, ReportDir: DefaultReportDir, Seed: rand.Uint64() % 1_000_000_000}
	for name, dst := range map[string]*int{"KMSCHAOS_N": &s.N, "KMSCHAOS_T": &s.T} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return s, fmt.Errorf("%s=%q is not a number", name, v)
			}
			*dst = n
		}
	}
	if os.Getenv("KMSCHAOS_N") != "" && os.Getenv("KMSCHAOS_T") == "" {
		s.T = (s.N - 1) / 3
	}
	if v := os.Getenv("KMSCHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s, fmt.Errorf("KMSCHAOS_SEED=%q is not a number", v)
		}
		s.Seed = n
	}
	for name, dst := range map[string]*bool{"KMSCHAOS_KEEP_IMAGES": &s.KeepImages, "KMSCHAOS_K8S_NODE_FAULTS": &s.NodeFaults} {
		switch v := os.Getenv(name); v {
		case "", "0", "false":
		case "1", "true":
			*dst = true
		default:
			return s, fmt.Errorf("%s=%q: use 1 or 0", name, v)
		}
	}
	if v := os.Getenv("KMSCHAOS_REPORT_DIR"); v != "" {
		s.ReportDir = v
	}
	s.Backend, s.Kubeconfig = backends.Docker, os.Getenv("KMSCHAOS_KUBECONFIG")
	if v := os.Getenv("KMSCHAOS_BACKEND"); v != "" {
		if !slices.Contains(backends.Names, v) {
			return s, fmt.Errorf("KMSCHAOS_BACKEND=%q: use %s", v, strings.Join(backends.Names, " or "))
		}
		s.Backend = v
	}
	return s, (cluster.Topology{N: s.N, T: s.T}).Validate()
}

var (
	mu       sync.Mutex
	shared   *cluster.Cluster
	settings Settings
	alerts   signals.Alerts // the shared cluster's Prometheus, or why none
)

// Start brings up the shared cluster on the settings' backend; opts come
// after the settings' own. The images are the ones built for the run,
// which the Kubernetes backend imports into the local cluster.
func Start(ctx context.Context, s Settings, progress func(string), images cluster.Images, opts ...cluster.Option) error {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		return nil
	}
	settings = s
	all := []cluster.Option{cluster.WithTopology(s.N, s.T), cluster.WithProgress(progress)}
	if s.KeepImages {
		all = append(all, cluster.WithKeptImages())
	}
	b, err := backends.Open(ctx, backends.Config{Name: s.Backend, Kubeconfig: s.Kubeconfig, NodeFaults: s.NodeFaults})
	if err != nil {
		return err
	}
	// The cluster's Prometheus starts beside the bring-up, which takes
	// longer; it learns its targets once the cluster's links exist.
	prom := make(chan signals.Alerts, 1)
	begun := time.Now()
	var ready time.Duration // written before the send, read after the receive
	go func() { a := startPrometheus(ctx); ready = time.Since(begun); prom <- a }()
	c, err := b.Start(ctx, append(append(all, cluster.WithImages(images)), opts...)...)
	up := time.Now()
	a := <-prom
	if a.Prometheus != nil {
		progress(fmt.Sprintf("the alerts' Prometheus ready in %s; the cluster in %s, which then waited %s for it",
			ready.Round(time.Millisecond), up.Sub(begun).Round(time.Millisecond), time.Since(up).Round(time.Millisecond)))
	} else {
		progress("no alerts' Prometheus: " + a.Missing)
	}
	stopProm := func(err error) error {
		if a.Prometheus != nil {
			err = errors.Join(err, a.Prometheus.Stop())
		}
		return err
	}
	if err != nil {
		return stopProm(err)
	}
	switch {
	case a.Prometheus != nil:
		err = a.Prometheus.SetTargets(signals.ClusterTargets(c))
	case signals.Required():
		err = fmt.Errorf("the alerts' Prometheus is required here (KMSCHAOS_REQUIRE_PROMETHEUS=1): %s", a.Missing)
	}
	if err != nil {
		return stopProm(errors.Join(err, c.Terminate(context.WithoutCancel(ctx))))
	}
	shared, alerts = c, a
	return nil
}

// startPrometheus starts the cluster's Prometheus, or says why there is
// none.
func startPrometheus(ctx context.Context) signals.Alerts {
	p, err := signals.StartPrometheus(ctx)
	switch {
	case errors.Is(err, signals.ErrNoPrometheus):
		return signals.Alerts{Missing: "no prometheus"}
	case err != nil:
		return signals.Alerts{Missing: "prometheus did not start: " + err.Error()}
	}
	return signals.Alerts{Prometheus: p}
}

// Alerts is where the shared cluster's alerts are evaluated: its
// Prometheus, or why it has none.
func Alerts() signals.Alerts {
	mu.Lock()
	defer mu.Unlock()
	return alerts
}

// Cluster is the shared cluster; it panics before Start.
func Cluster() *cluster.Cluster {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		panic("env.Cluster called before env.Start (is the suite's BeforeSuite missing?)")
	}
	return shared
}

// Current returns the settings of the run.
func Current() Settings {
	mu.Lock()
	defer mu.Unlock()
	return settings
}

// DefaultReportDir is where reports go without KMSCHAOS_REPORT_DIR.
const DefaultReportDir = "reports"

// ReportDir is the run's report directory, also before Start (a suite that
// failed early still writes its reports there).
func ReportDir() string {
	if dir := Current().ReportDir; dir != "" {
		return dir
	}
	return DefaultReportDir
}

// Stop removes the shared cluster.
func Stop(ctx context.Context) error {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Env.Teardown)
	defer cancel()
	err := shared.Terminate(ctx)
	if alerts.Prometheus != nil {
		err = errors.Join(err, alerts.Prometheus.Stop())
	}
	shared, alerts = nil, signals.Alerts{}
	return err
}
