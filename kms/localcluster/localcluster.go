// Package localcluster runs a whole simulated cluster as local processes on
// loopback, no containers: the fastest way to exercise the party end to end,
// and the baseline for the party's benchmarks.
package localcluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/keygen"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/tss"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// Binaries are the commands a cluster needs.
var Binaries = []string{"kms-server", "kms-init", "kms-health-check", "kms-client", "kms-admin", "kms-gen-keys"}

// BuildFlags are the flags of Build: -trimpath and no VCS stamp, so the
// same sources give the same binaries in any checkout and at any commit,
// and the images' tags (keys of the sources) are reused across checkouts.
var BuildFlags = []string{"-trimpath", "-buildvcs=false"}

// Build compiles the party's commands into dir (static, as in the image).
func Build(ctx context.Context, dir string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	args := append(append([]string{"build"}, BuildFlags...), "-o", dir+string(os.PathSeparator))
	for _, b := range Binaries {
		args = append(args, "./cmd/"+b)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// ModuleRoot finds the directory of go.mod above the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Cluster is n kms-server processes on loopback.
type Cluster struct {
	N, T    int
	Dir     string
	Bin     string
	Key     *tss.PublicKey
	Configs []string

	api, p2p, metrics []int
	mu                sync.Mutex
	procs             []*exec.Cmd
	exited            []chan error
}

// New generates keys and configs for n parties in dir, with free loopback
// ports, and starts nothing.
func New(dir, bin string, n, t int) (*Cluster, error) {
	ports, err := freePorts(3 * n)
	if err != nil {
		return nil, err
	}
	c := &Cluster{N: n, T: t, Dir: dir, Bin: bin, api: ports[:n], p2p: ports[n : 2*n], metrics: ports[2*n:],
		procs: make([]*exec.Cmd, n), exited: make([]chan error, n)}
	res, err := keygen.Generate(rand.Reader, keygen.Options{N: n, T: t, Out: dir, PeerAddress: "127.0.0.1", ListenAddress: "127.0.0.1",
		NetworkTimeout: 3, StragglerGraceMs: 100})
	if err != nil {
		return nil, err
	}
	c.Key, c.Configs = res.Public, res.Configs
	for i := 1; i <= n; i++ {
		cfg, err := config.Load(c.Configs[i-1], []string{})
		if err != nil {
			return nil, err
		}
		cfg.Service.ListenPort = c.api[i-1]
		cfg.Threshold.ListenPort = c.p2p[i-1]
		cfg.Telemetry.MetricsBindAddress = fmt.Sprintf("127.0.0.1:%d", c.metrics[i-1])
		for j := range cfg.Threshold.Peers {
			cfg.Threshold.Peers[j].Port = c.p2p[cfg.Threshold.Peers[j].PartyID-1]
		}
		raw, err := cfg.Marshal()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(c.Configs[i-1], raw, 0o644); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func freePorts(k int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range k {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// Endpoint is party i's API address.
func (c *Cluster) Endpoint(i int) string { return fmt.Sprintf("127.0.0.1:%d", c.api[i-1]) }

// MetricsURL is party i's metrics endpoint.
func (c *Cluster) MetricsURL(i int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", c.metrics[i-1])
}

// LogFile is where party i writes its output.
func (c *Cluster) LogFile(i int) string { return filepath.Join(c.Dir, fmt.Sprintf("party-%d.log", i)) }

// Endpoints lists every party's API address as kms-init wants it.
func (c *Cluster) Endpoints() []string {
	var out []string
	for i := 1; i <= c.N; i++ {
		out = append(out, "http://"+c.Endpoint(i))
	}
	return out
}

// Start starts party i; its output is appended to LogFile(i).
func (c *Cluster) Start(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.procs[i-1] != nil {
		return fmt.Errorf("party %d is already running", i)
	}
	log, err := os.OpenFile(c.LogFile(i), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(c.Bin, "kms-server"), "--config-file", c.Configs[i-1])
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); log.Close() }()
	c.procs[i-1], c.exited[i-1] = cmd, done
	return nil
}

// StartAll starts every party that is not running.
func (c *Cluster) StartAll() error {
	for i := 1; i <= c.N; i++ {
		if c.Running(i) {
			continue
		}
		if err := c.Start(i); err != nil {
			return err
		}
	}
	return nil
}

// Running tells whether party i's process is up.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[i-1] != nil
}

// Kill sends SIGKILL to party i and waits for it to die.
func (c *Cluster) Kill(i int) error {
	_, err := c.signal(i, syscall.SIGKILL, 5*time.Second)
	return err
}

// Stop sends SIGTERM and returns the exit code.
func (c *Cluster) Stop(i int, timeout time.Duration) (int, error) {
	return c.signal(i, syscall.SIGTERM, timeout)
}

func (c *Cluster) signal(i int, sig syscall.Signal, timeout time.Duration) (int, error) {
	c.mu.Lock()
	cmd, done := c.procs[i-1], c.exited[i-1]
	c.mu.Unlock()
	if cmd == nil {
		return 0, fmt.Errorf("party %d is not running", i)
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done: //nolint:errcheck // Wait's error is a non-zero exit: the exit code is read from ProcessState below
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done //nolint:errcheck // only awaits the killed process
		return -1, fmt.Errorf("party %d did not exit within %s of %v", i, timeout, sig)
	}
	c.mu.Lock()
	c.procs[i-1] = nil
	c.mu.Unlock()
	return cmd.ProcessState.ExitCode(), nil
}

// Close kills every party.
func (c *Cluster) Close() {
	for i := 1; i <= c.N; i++ {
		if c.Running(i) {
			_ = c.Kill(i)
		}
	}
}

// Init runs kms-init over every party (the default epoch) once every
// party listens, as the chart's init Job waits for them: the real
// kms-init gives up at the first core it cannot connect to.
func (c *Cluster) Init(ctx context.Context) ([]byte, error) {
	for _, e := range c.Endpoints() {
		for {
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", client.HostPort(e))
			if err == nil {
				conn.Close()
				break
			}
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("before kms-init: %w", err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return exec.CommandContext(ctx, filepath.Join(c.Bin, "kms-init"), append([]string{"--addresses"}, c.Endpoints()...)...).CombinedOutput()
}

// NewEpoch sets up epochID on every party with kms-client new-epoch.
func (c *Cluster) NewEpoch(ctx context.Context, epochID string) ([]byte, error) {
	args := []string{"new-epoch", "--new-epoch-id", epochID, "--new-context-id", material.DefaultContextID, "--addresses"}
	return exec.CommandContext(ctx, filepath.Join(c.Bin, "kms-client"), append(args, c.Endpoints()...)...).CombinedOutput()
}

// DestroyEpoch destroys epochID on the given parties with kms-client
// destroy-mpc-epoch.
func (c *Cluster) DestroyEpoch(ctx context.Context, epochID string, parties ...int) ([]byte, error) {
	args := []string{"destroy-mpc-epoch", "--epoch-id", epochID, "--addresses"}
	for _, i := range parties {
		args = append(args, c.Endpoints()[i-1])
	}
	return exec.CommandContext(ctx, filepath.Join(c.Bin, "kms-client"), args...).CombinedOutput()
}

// Health returns party i's health grade and reachable node count.
func (c *Cluster) Health(ctx context.Context, i int) (kmsv1.HealthStatus, int, error) {
	cl, err := client.Dial(c.Endpoint(i))
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hs, err := cl.GetHealthStatus(ctx, &kmsv1.Empty{})
	if err != nil {
		return 0, 0, err
	}
	pc := hs.GetPeersFromAllContexts()[0]
	return pc.GetStatus(), int(pc.GetNodesReachable()), nil
}

// Decrypt asks party i to decrypt ct.
func (c *Cluster) Decrypt(ctx context.Context, i int, ct []byte) (uint64, error) {
	cl, err := client.Dial(c.Endpoint(i))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	d, err := cl.PublicDecrypt(ctx, ct, "", 20*time.Millisecond)
	if err != nil {
		return 0, err
	}
	return d.Value, nil
}

// PeakRSS reads party i's peak resident memory (VmHWM) in bytes.
func (c *Cluster) PeakRSS(i int) (int64, error) {
	c.mu.Lock()
	cmd := c.procs[i-1]
	c.mu.Unlock()
	if cmd == nil {
		return 0, fmt.Errorf("party %d is not running", i)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int64
			_, _ = fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kb)
			return kb << 10, nil
		}
	}
	return 0, errors.New("VmHWM not found")
}
