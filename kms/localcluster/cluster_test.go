package localcluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
	g.Expect(string(out)).To(ContainSubstring(fmt.Sprintf("initialised on all %d parties", n)))
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
	if ee, ok := err.(*exec.ExitError); ok {
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
	g.Expect(report).To(ContainSubstring("[EXCELLENT] Overall Status: Optimal - All nodes online"))
	g.Expect(report).To(ContainSubstring("12 of 12 peers reachable"))
	g.Expect(report).To(ContainSubstring("[OK] Active epoch: "))

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
	_, code = healthCheck(c, "live", "--endpoint", c.Endpoint(3))
	g.Expect(code).To(Equal(1), "Degraded exits 1")

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

func TestGracefulStopDrainsAndExitsZero(t *testing.T) {
	g := NewWithT(t)
	c := start(t, 4, 1)
	ct, _ := c.Key.Encrypt(rand.Reader, 7)
	// A decryption in flight when SIGTERM arrives still completes.
	done := make(chan error, 1)
	go func() {
		_, err := c.Decrypt(context.Background(), 2, ct)
		done <- err
	}()
	code, err := c.Stop(2, 15*time.Second)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(0))
	g.Eventually(done, 10*time.Second).Should(Receive(Or(BeNil(), WithTransform(status.Code, Equal(codes.Unavailable)))))
	log, _ := os.ReadFile(c.LogFile(2))
	g.Expect(string(log)).To(ContainSubstring("Received shutdown signal, draining in-flight work"))
	g.Expect(string(log)).To(ContainSubstring("KMS server stopped"))
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
	for _, name := range []string{"kms_operations_total", "kms_operation_duration_ms", "kms_active_sessions",
		"kms_peers_reachable", "kms_storage_free_bytes"} {
		g.Expect(families).To(HaveKey(name))
	}
	g.Eventually(func() float64 {
		r, err := http.Get(c.MetricsURL(1))
		if err != nil {
			return 0
		}
		defer r.Body.Close()
		p := expfmt.NewTextParser(model.UTF8Validation)
		f, _ := p.TextToMetricFamilies(r.Body)
		return f["kms_peers_reachable"].GetMetric()[0].GetGauge().GetValue()
	}, 15*time.Second).Should(Equal(4.0))

	// Every log line carries a level word.
	log, _ := os.ReadFile(c.LogFile(1))
	for _, l := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		g.Expect(l).To(MatchRegexp(`^\S+ +(INFO|WARN|ERROR|DEBUG) kms_server: `))
	}
	g.Expect(string(log)).To(ContainSubstring("Starting threshold KMS server..."))
	g.Expect(string(log)).To(ContainSubstring("Parameters: using threshold t=1, knowing n=4 parties in total (myself included)"))

	// A bad config exits 1 with the real message, before binding a port.
	bad := filepath.Join(t.TempDir(), "bad.toml")
	raw, _ := os.ReadFile(c.Configs[0])
	os.WriteFile(bad, []byte(strings.Replace(string(raw), "threshold = 1", "threshold = 2", 1)), 0o644)
	out, err = exec.Command(filepath.Join(c.Bin, "kms-server"), "--config-file", bad).CombinedOutput()
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.(*exec.ExitError).ExitCode()).To(Equal(1))
	g.Expect(string(out)).To(ContainSubstring("3*t+1 must be equal to number of parties. Got t=2 but expected t=1 for n=4 parties"))
	report, code := healthCheck(c, "config", "--file", bad)
	g.Expect(code).To(Equal(1))
	g.Expect(report).To(ContainSubstring("[FAIL] Invalid configuration:"))
}
