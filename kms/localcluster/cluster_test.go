package localcluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/metrics"
	"github.com/kmschaos/kmschaos/kms/release"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kms-bin-")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	if err := Build(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cancel()
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// start brings up an n-party cluster on loopback with PRSS initialised.
func start(t *testing.T, n, th int) *Cluster {
	t.Helper()
	g := NewWithT(t)
	c, err := New(t.TempDir(), binDir, n, th)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			for i := 1; i <= n; i++ {
				b, _ := os.ReadFile(c.LogFile(i))
				t.Logf("party %d log:\n%s", i, b)
			}
		}
	})
	g.Expect(c.StartAll()).To(Succeed())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := c.Init(ctx)
	g.Expect(err).NotTo(HaveOccurred(), "kms-init: %s", out)
	g.Expect(strings.Count(string(out), " INFO kms_init: Epoch initialization completed on http://")).To(Equal(n), string(out))
	for i := 1; i <= n; i++ {
		awaitHealth(t, c, i, kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL)
	}
	return c
}

func awaitHealth(t *testing.T, c *Cluster, i int, want kmsv1.HealthStatus) {
	t.Helper()
	NewWithT(t).Eventually(func() (kmsv1.HealthStatus, error) {
		s, _, err := c.Health(context.Background(), i)
		return s, err
	}, 30*time.Second, 200*time.Millisecond).Should(Equal(want), "party %d health", i)
}

func healthCheck(c *Cluster, args ...string) (string, int) {
	out, err := exec.Command(filepath.Join(c.Bin, "kms-health-check"), args...).CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	return string(out), code
}

// The loopback proof: 13 parties, t=4. Any t+1 = 5 parties decrypt,
// so the cluster stays correct and live down to 5 parties and fails closed
// below that; restarted parties bring it back to Optimal.
func TestThirteenPartiesOnLoopback(t *testing.T) {
	g := NewWithT(t)
	c := start(t, 13, 4)
	ctx := context.Background()

	report, code := healthCheck(c, "live", "--endpoint", c.Endpoint(1))
	g.Expect(code).To(Equal(0), report)
	// As the real tool: a live check's overall status is Healthy at best,
	// the party's grade is the context's line.
	g.Expect(report).To(ContainSubstring("[OK] Overall Status: Healthy - Sufficient majority"))
	g.Expect(report).To(ContainSubstring("Optimal: All 12 peers online and reachable"))
	g.Expect(report).To(ContainSubstring("12 of 12 peers reachable"))
	g.Expect(report).To(ContainSubstring("[OK] FHE Keys: 1\n       - " + c.Key.KeyID))

	const secret = uint64(0x5EC2E7_0000_0042)
	ct, err := c.Key.Encrypt(rand.Reader, secret)
	g.Expect(err).NotTo(HaveOccurred())
	for i := 1; i <= 13; i++ {
		g.Expect(c.Decrypt(ctx, i, ct)).To(Equal(secret), "decrypt through party %d", i)
	}

	// t = 4 parties killed: still right, and the survivors see Healthy.
	for _, i := range []int{10, 11, 12, 13} {
		g.Expect(c.Kill(i)).To(Succeed())
	}
	g.Expect(c.Decrypt(ctx, 1, ct)).To(Equal(secret))
	awaitHealth(t, c, 1, kmsv1.HealthStatus_HEALTH_STATUS_HEALTHY)
	report, code = healthCheck(c, "live", "--endpoint", c.Endpoint(2))
	g.Expect(code).To(Equal(0), report)
	g.Expect(report).To(ContainSubstring("8 of 12 peers reachable"))
	g.Expect(report).To(MatchRegexp(`\[FAIL\] Party 13 @ 127\.0\.0\.1:\d+\n\s+Error: .*connection refused`))

	// A fifth: 8 parties left, still at least t+1, still right; Degraded.
	g.Expect(c.Kill(9)).To(Succeed())
	g.Expect(c.Decrypt(ctx, 3, ct)).To(Equal(secret))
	awaitHealth(t, c, 3, kmsv1.HealthStatus_HEALTH_STATUS_DEGRADED)
	report, code = healthCheck(c, "live", "--endpoint", c.Endpoint(3))
	g.Expect(code).To(Equal(0), "the real tool exits 0 for every report")
	g.Expect(report).To(ContainSubstring("[OK] Overall Status: Healthy"))
	g.Expect(report).To(ContainSubstring("(!!!)  INVESTIGATE: Even with healthy status, explore why 5 peers are offline."))

	// Down to exactly t+1 = 5: the minimum that decrypts.
	for _, i := range []int{6, 7, 8} {
		g.Expect(c.Kill(i)).To(Succeed())
	}
	g.Expect(c.Decrypt(ctx, 5, ct)).To(Equal(secret))

	// One more: only t = 4 parties can cooperate. Fail closed, clearly.
	g.Expect(c.Kill(5)).To(Succeed())
	_, err = c.Decrypt(ctx, 1, ct)
	g.Expect(status.Code(err)).To(Equal(codes.Unavailable))
	g.Expect(status.Convert(err).Message()).To(ContainSubstring("not enough valid decryption shares: got 4 of the 5 needed"))

	// Restart everyone: Optimal again everywhere, and right.
	g.Expect(c.StartAll()).To(Succeed())
	for i := 1; i <= 13; i++ {
		awaitHealth(t, c, i, kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL)
	}
	g.Expect(c.Decrypt(ctx, 13, ct)).To(Equal(secret))
}

// A decryption in flight when SIGTERM arrives completes with the right
// value, a request after the stop began is refused, and the party then
// exits 0. The session is held in flight by freezing every peer (party 2's
// own share is one of the t+1 = 2 it needs), so it is provably under way
// when the stop begins, whatever the machine's speed.
func TestGracefulStopDrainsAndExitsZero(t *testing.T) {
	t.Run("one-call decryption", func(t *testing.T) { testGracefulStop(t, false) })
	// The real clients' way: start, then poll for the result, which must
	// still be served after the decryption ends during the drain.
	t.Run("started, then polled", func(t *testing.T) { testGracefulStop(t, true) })
}

func testGracefulStop(t *testing.T, poll bool) {
	t.Helper()
	g := NewWithT(t)
	c := start(t, 4, 1)
	ctx := context.Background()

	// Party 2 waits for its peers' shares longer than the test needs (the
	// loopback cluster's 3 s would end the session on its own).
	code, err := c.Stop(2, 15*time.Second)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(0))
	cfg, err := config.Load(c.Configs[1], []string{})
	g.Expect(err).NotTo(HaveOccurred())
	cfg.Threshold.CoreToCoreNet.NetworkTimeout = 60
	raw, err := cfg.Marshal()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(c.Configs[1], raw, 0o644)).To(Succeed())
	g.Expect(c.Start(2)).To(Succeed())
	awaitHealth(t, c, 2, kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL)

	const secret = uint64(0xD2A1)
	ct, err := c.Key.Encrypt(rand.Reader, secret)
	g.Expect(err).NotTo(HaveOccurred())
	peers := []int{1, 3, 4}
	frozen := false
	thaw := func() error {
		var errs []error
		if frozen {
			for _, i := range peers {
				errs = append(errs, c.sendSignal(i, syscall.SIGCONT))
			}
			frozen = false
		}
		return errors.Join(errs...)
	}
	defer func() {
		if err := thaw(); err != nil {
			t.Errorf("thawing the peers: %v", err)
		}
	}()
	frozen = true
	for _, i := range peers {
		g.Expect(c.sendSignal(i, syscall.SIGSTOP)).To(Succeed())
	}

	type result struct {
		value uint64
		err   error
	}
	inFlight := make(chan result, 1)
	go func() {
		cl, err := client.Dial(c.Endpoint(2))
		if err != nil {
			inFlight <- result{err: err}
			return
		}
		defer cl.Close()
		var d *client.Decryption
		if poll {
			d, err = cl.PublicDecrypt(ctx, ct, "", 20*time.Millisecond)
		} else {
			d, err = cl.PublicDecryptSync(ctx, ct, "")
		}
		if err != nil {
			inFlight <- result{err: err}
			return
		}
		inFlight <- result{value: d.Value}
	}()
	g.Eventually(func() (float64, error) { return gauge(c, 2, "kms_active_sessions") }, 10*time.Second, 50*time.Millisecond).
		Should(Equal(1.0), "the decryption is under way on party 2")

	logBefore, _ := os.ReadFile(c.LogFile(2))
	type exit struct {
		code int
		err  error
	}
	stopped := make(chan exit, 1)
	reaped := false
	go func() {
		code, err := c.Stop(2, 30*time.Second)
		stopped <- exit{code, err}
	}()
	// On a failure, let the stop finish (it kills party 2 after its 30 s)
	// before the cleanup's Kill waits for the same exit.
	defer func() {
		if !reaped {
			<-stopped
		}
	}()
	newLog := func() string {
		b, _ := os.ReadFile(c.LogFile(2))
		return string(b[len(logBefore):])
	}
	g.Eventually(newLog, 5*time.Second, 20*time.Millisecond).Should(ContainSubstring("Received shutdown signal, draining in-flight work"))

	// The stop has begun: a new request is refused, the old one still runs.
	refusedCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = c.Decrypt(refusedCtx, 2, ct)
	g.Expect(status.Code(err)).To(Equal(codes.Unavailable), "a request after the stop began: %v", err)
	g.Expect(status.Convert(err).Message()).To(Equal("server is shutting down"))
	g.Expect(inFlight).NotTo(Receive(), "the in-flight decryption ended before its peers answered")
	g.Expect(stopped).NotTo(Receive(), "party 2 exited with a decryption in flight")

	g.Expect(thaw()).To(Succeed())
	var got result
	g.Eventually(inFlight, 10*time.Second).Should(Receive(&got))
	g.Expect(got.err).NotTo(HaveOccurred(), "the in-flight decryption")
	g.Expect(got.value).To(Equal(secret))
	var ex exit
	g.Eventually(stopped, 20*time.Second).Should(Receive(&ex))
	reaped = true
	g.Expect(ex.err).NotTo(HaveOccurred())
	g.Expect(ex.code).To(Equal(0), "exit status of the drained party")
	g.Expect(newLog()).To(ContainSubstring("KMS server stopped"))
	g.Expect(newLog()).NotTo(ContainSubstring("Sessions still running after the drain timeout"))
}

// sendSignal sends sig to party i without waiting (SIGSTOP, SIGCONT).
func (c *Cluster) sendSignal(i int, sig syscall.Signal) error {
	c.mu.Lock()
	cmd := c.procs[i-1]
	c.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("party %d is not running", i)
	}
	return cmd.Process.Signal(sig)
}

// gauge reads one unlabelled gauge from party i's /metrics.
func gauge(c *Cluster, i int, name string) (float64, error) {
	resp, err := http.Get(c.MetricsURL(i))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, err
	}
	ms := fams[name].GetMetric()
	if len(ms) != 1 {
		return 0, fmt.Errorf("%s has %d samples", name, len(ms))
	}
	return ms[0].GetGauge().GetValue(), nil
}

func TestOperatorSurfaces(t *testing.T) {
	g := NewWithT(t)
	c := start(t, 4, 1)

	// grpcurl sees the service through reflection.
	root, err := ModuleRoot()
	g.Expect(err).NotTo(HaveOccurred())
	cmd := exec.Command("go", "tool", "grpcurl", "-plaintext", c.Endpoint(1), "list")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(ContainSubstring("kms_service.v1.CoreServiceEndpoint"))
	g.Expect(string(out)).To(ContainSubstring("grpc.health.v1.Health"))

	// /metrics parses as Prometheus text and carries the party's metrics.
	ct, _ := c.Key.Encrypt(rand.Reader, 9)
	g.Expect(c.Decrypt(context.Background(), 1, ct)).To(Equal(uint64(9)))
	resp, err := http.Get(c.MetricsURL(1))
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	for _, name := range []string{"kms_operations_total", "kms_operation_duration_ms", "kms_active_sessions", "kms_rate_limiter_usage",
		"kms_memory_usage", "kms_total_memory", "kms_cpu_load"} {
		g.Expect(families).To(HaveKey(name))
	}
	// No family the real KMS does not register (observability/src/metrics.rs):
	// the party shows an operator no more than the real one.
	for name := range families {
		g.Expect(metrics.RealFamilies).To(ContainElement(name), "a family the real KMS does not have")
	}
	// The machine's memory, set at start (enable_sys_metrics is on).
	g.Expect(families["kms_total_memory"].GetMetric()[0].GetGauge().GetValue()).To(BeNumerically(">", 0))
	// A boot that synced its backup vault counted no backup error: no series.
	g.Expect(families).NotTo(HaveKey("kms_backup_errors_total"))

	// Every log line carries a level word.
	log, _ := os.ReadFile(c.LogFile(1))
	for _, l := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		g.Expect(l).To(MatchRegexp(`^\S+ +(INFO|WARN|ERROR|DEBUG) kms_server: `))
	}
	g.Expect(string(log)).To(ContainSubstring("Starting threshold KMS server v" + release.Baseline + "..."))
	g.Expect(string(log)).To(ContainSubstring("Parameters: using threshold t=1, knowing n=4 parties in total (myself included)"))

	// A bad config exits 1 with the real message, before binding a port.
	bad := filepath.Join(t.TempDir(), "bad.toml")
	raw, _ := os.ReadFile(c.Configs[0])
	_ = os.WriteFile(bad, []byte(strings.Replace(string(raw), "threshold = 1", "threshold = 2", 1)), 0o644)
	out, err = exec.Command(filepath.Join(c.Bin, "kms-server"), "--config-file", bad).CombinedOutput()
	g.Expect(err).To(HaveOccurred())
	var ee *exec.ExitError
	g.Expect(errors.As(err, &ee)).To(BeTrue(), "%v", err)
	g.Expect(ee.ExitCode()).To(Equal(1))
	g.Expect(string(out)).To(ContainSubstring("3*t+1 must be equal to number of parties. Got t=2 but expected t=1 for n=4 parties"))
	report, code := healthCheck(c, "config", "--file", bad)
	g.Expect(code).To(Equal(0), "a report, as the real tool's")
	g.Expect(report).To(ContainSubstring("[FAIL] Invalid configuration:"))
}

// The real grpc_health_probe (the chart's init Job's) against parties
// that hold no PRSS yet: the overall status "" and the core service are
// both SERVING, as the real party's tonic-health reporter says them
// (HealthReporter::new registers "" SERVING; server.rs:172-173 sets the
// core service SERVING once it serves), whatever the PRSS: exit 0, which
// the chart's Job prints as "already initialized".
func TestHealthProbeSaysServingWithoutPRSS(t *testing.T) {
	g := NewWithT(t)
	c, err := New(t.TempDir(), binDir, 4, 1)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(c.Close)
	g.Expect(c.StartAll()).To(Succeed())
	root, err := ModuleRoot()
	g.Expect(err).NotTo(HaveOccurred())
	for _, svc := range []string{"", "kms_service.v1.CoreServiceEndpoint"} {
		g.Eventually(func() (string, error) {
			cmd := exec.Command("go", "tool", "grpc-health-probe", "-addr="+c.Endpoint(2), "-service="+svc)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			return string(out), err
		}, 30*time.Second, 200*time.Millisecond).Should(ContainSubstring("status: SERVING"), "service %q", svc)
	}
}
