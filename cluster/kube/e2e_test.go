package kube_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/docker"
	"github.com/kmschaos/kmschaos/cluster/kube"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/kms/material"
)

// onCluster returns the kubeconfig of a cluster to test on: the local one
// (make k8s-up) or KMSCHAOS_KUBECONFIG's. Without one the test is skipped,
// unless KMSCHAOS_K8S=1 (make test-k8s) says a cluster must be there.
func onCluster(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("a Kubernetes cluster test (-short)")
	}
	cfg := os.Getenv("KMSCHAOS_KUBECONFIG")
	if cfg == "" {
		cfg = kube.LocalKubeconfig()
	}
	if _, err := os.Stat(cfg); err != nil {
		if os.Getenv("KMSCHAOS_K8S") == "1" {
			t.Fatalf("KMSCHAOS_K8S=1 but no kubeconfig at %s: run make k8s-up", cfg)
		}
		t.Skipf("no Kubernetes cluster (%s): make k8s-up, then make test-k8s", cfg)
	}
	// A kubeconfig outlives its cluster (a machine restored from an image
	// taken while one ran): without KMSCHAOS_K8S=1 a cluster that does not
	// answer is not there, and the test says so instead of failing.
	if err := answers(cfg); err != nil {
		if os.Getenv("KMSCHAOS_K8S") == "1" {
			t.Fatalf("KMSCHAOS_K8S=1 but %s: %v", cfg, err)
		}
		t.Skipf("%s: %v", cfg, err)
	}
	return cfg
}

// answers is kube.New's check that the cluster answers, alone.
func answers(kubeconfig string) error {
	d, err := kube.New(context.Background(), kube.Config{Kubeconfig: kubeconfig})
	if err != nil {
		return err
	}
	d.Close()
	return nil
}

func images(t testing.TB, ctx context.Context) cluster.Images {
	t.Helper()
	dc, err := docker.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	im, err := docker.BuildImages(ctx, dc, func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// The proof of the backend: a cluster on Kubernetes reports Optimal
// through each party's own health-check, decrypts right through the
// mesh, is found again by a second process (attach), and leaves nothing
// behind: no namespace, no volume, no volume directory on the node.
func TestClusterOnKubernetes(t *testing.T) {
	kubeconfig := onCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	// Through a port-forward, as on a cluster whose Service addresses this
	// machine does not route to; the attached handle below goes direct.
	c, err := kube.Start(ctx, kube.Config{Kubeconfig: kubeconfig, Forward: true, Progress: func(s string) { t.Log(s) }}, images(t, ctx),
		cluster.WithTopology(4, 1), cluster.WithKeptImages())
	if err != nil {
		t.Fatal(err)
	}
	ns := "kmschaos-" + c.RunID
	terminated := false
	defer func() {
		if !terminated {
			_ = c.Terminate(context.Background())
		}
	}()
	t.Logf("bring-up %s: %+v", c.Timings.Total, c.Timings)
	if kubeconfig == kube.LocalKubeconfig() {
		// Key material lives in the volumes: on the local cluster, a tmpfs.
		var fs syscall.Statfs_t
		if err := syscall.Statfs(kube.DefaultVolumeRoot, &fs); err != nil || fs.Type != 0x01021994 {
			t.Errorf("the volumes' root %s is not a tmpfs (type %#x, %v): key material reaches the disk", kube.DefaultVolumeRoot, fs.Type, err)
		}
	}
	if c.Backend() != kube.Name {
		t.Errorf("backend %q", c.Backend())
	}

	// What an operator sees: kubectl lists the parties as the chart names
	// them, and the health-check in each pod says Optimal.
	res, err := c.Operate(ctx, "kubectl", "get", "statefulsets", "-o", "name")
	if err := res.Check(err, "kubectl get statefulsets"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"statefulset.apps/kms-threshold-1", "statefulset.apps/kms-threshold-4"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("kubectl get statefulsets: no %s in\n%s", want, res.Stdout)
		}
	}
	for i := 1; i <= 4; i++ {
		hc, err := c.Party(i).HealthCheck(ctx, "live", "--endpoint", "localhost:50100")
		if err != nil || hc.ExitCode != 0 || !strings.Contains(hc.Stdout, "Optimal") {
			t.Errorf("party %d's health-check: exit %d, %v\n%s", i, hc.ExitCode, err, hc.Output())
		}
	}
	value := uint64(424242)
	r, err := oracle.Decrypt(ctx, c, oracle.Request{Party: 2, By: "e2e", Value: &value, Timeout: 30 * time.Second})
	if err != nil || r.Value != value {
		t.Fatalf("decryption through the mesh: %v, got %d", err, r.Value)
	}

	// client-go ends a whole port-forward when one connection fails (here:
	// a client link the mesh refuses); the backend forwards again, on the
	// same ports, and the cluster is reached as before.
	if err := c.Party(3).ClientLink().Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(ctx, 3); err == nil {
		t.Fatal("party 3's client link is disabled, yet its health answered")
	}
	if err := c.Party(3).ClientLink().Enable(); err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithTimeout(ctx, 30*time.Second)
	defer ocancel()
	if err := c.AwaitOptimal(octx); err != nil {
		t.Fatalf("after a refused connection through the port-forward: %v", err)
	}

	// A second handle, as another kmschaos process gets it.
	d, err := kube.New(ctx, kube.Config{Kubeconfig: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	again, err := d.Attach(ctx, c.RunID)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	if err := again.CheckOptimal(ctx); err != nil {
		t.Errorf("attached handle: %v", err)
	}
	if rep, err := again.Audit(ctx); err != nil || !rep.Clean() {
		t.Errorf("audit from the attached handle: %v %+v", err, rep)
	}

	terminated = true
	if err := c.Terminate(ctx); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	out, _ := exec.CommandContext(ctx, kubectl(), "--kubeconfig", kubeconfig, "get", "namespace", ns, "--ignore-not-found", "-o", "name").CombinedOutput()
	if strings.TrimSpace(string(out)) != "" {
		t.Errorf("namespace left: %s", out)
	}
	out, _ = exec.CommandContext(ctx, kubectl(), "--kubeconfig", kubeconfig, "get", "pv", "-l", "app.kubernetes.io/managed-by=kmschaos", "-o", "name").CombinedOutput()
	if strings.Contains(string(out), ns) {
		t.Errorf("volumes left: %s", out)
	}
	if kubeconfig == kube.LocalKubeconfig() {
		if _, err := os.Stat(kube.DefaultVolumeRoot + "/" + ns); !os.IsNotExist(err) {
			t.Errorf("the run's volume directory is still on the node: %v", err)
		}
	}
}

func kubectl() string {
	if _, err := os.Stat(kube.LocalRoot() + "/bin/kubectl"); err == nil {
		return kube.LocalRoot() + "/bin/kubectl"
	}
	return "kubectl"
}

// The ClusterRole of rbac.yaml is enough: a user bound to it alone brings
// a cluster up to Optimal, runs an operator's kubectl steps, and removes
// it. Without one of its rules, the refusal names what is missing.
func TestRBACRoleIsEnough(t *testing.T) {
	kubeconfig := onCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	kubectlAdmin := func(args ...string) {
		t.Helper()
		out, err := exec.CommandContext(ctx, kubectl(), append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	const user = "kmschaos-rbac-test"
	kubectlAdmin("apply", "-f", "rbac.yaml")
	kubectlAdmin("create", "clusterrolebinding", user, "--clusterrole=kmschaos", "--user="+user)
	defer func() {
		_ = exec.Command(kubectl(), "--kubeconfig", kubeconfig, "delete", "clusterrolebinding", user, "--ignore-not-found").Run()
	}()
	defer func() {
		_ = exec.Command(kubectl(), "--kubeconfig", kubeconfig, "delete", "-f", "rbac.yaml", "--ignore-not-found").Run()
	}()

	im := images(t, ctx)
	cfg := kube.Config{Kubeconfig: kubeconfig, As: user, Progress: func(s string) { t.Log(s) }}
	c, err := kube.Start(ctx, cfg, im, cluster.WithTopology(4, 1), cluster.WithKeptImages())
	if err != nil {
		t.Fatalf("bring-up as a user bound to the ClusterRole only: %v", err)
	}
	res, err := c.Operate(ctx, "kubectl", "scale", "statefulset/kms-threshold-2", "--replicas=1")
	if err := res.Check(err, "kubectl scale as the user"); err != nil {
		t.Error(err)
	}
	// The pages' PRSS init through the chart's hook Job, as the user: helm
	// makes, watches and (before the next) deletes the Job. Every core
	// answers, and holds the default epoch, the only one kms-init knows:
	// it panics on the first refusal, the Job fails, and helm reports its
	// hook failed (at its timeout), not a right it lacks. After each step,
	// the audit names what helm left beside the parties: the Job that did
	// not complete, until deleted; a deployed release whose values turn the hook on (made here
	// with --no-hooks), until kmsInit is off again. A failed upgrade's
	// values are not one: --reuse-values takes the last deployed release's
	// (helm v3.22.0 pkg/action/upgrade.go:223-241).
	const job, release = "job kms-threshold-1-threshold-init left, not complete", "release kms-threshold-1 has kmsInit.enabled=true (its next upgrade runs the init Job again)"
	for _, step := range []struct {
		op   []string
		left string
	}{
		{[]string{"helm", "upgrade", "kms-threshold-1", ".", "--reuse-values", "--set", "kmsInit.enabled=true", "--wait", "--timeout", "20s"}, job},
		{[]string{"kubectl", "logs", "job/kms-threshold-1-threshold-init", "-c", "check-kms-cores"}, job},
		{[]string{"kubectl", "logs", "job/kms-threshold-1-threshold-init", "-c", "threshold-init"}, job},
		{[]string{"kubectl", "delete", "job", "kms-threshold-1-threshold-init", "--wait=true"}, ""},
		{[]string{"helm", "upgrade", "kms-threshold-1", ".", "--reuse-values", "--set", "kmsInit.enabled=true", "--no-hooks"}, release},
		{[]string{"helm", "upgrade", "kms-threshold-1", ".", "--reuse-values", "--set", "kmsInit.enabled=false"}, ""},
	} {
		res, err := c.Operate(ctx, step.op...)
		what := strings.Join(step.op, " ") + " as the user"
		switch {
		case strings.HasSuffix(what, "--wait --timeout 20s as the user"):
			if err != nil || !strings.Contains(res.Output(), "post-upgrade hooks failed") || strings.Contains(res.Output(), "forbidden") {
				t.Errorf("%s: want its hook failed, and no right lacking: %v\n%s", what, err, res.Output())
			}
		case res.Check(err, what) != nil:
			t.Error(res.Check(err, what))
		case strings.HasSuffix(what, "check-kms-cores as the user") && !strings.Contains(res.Stdout, "all kms-core peers have been reached"):
			t.Errorf("the init Job's check-kms-cores did not reach every core:\n%s", res.Output())
		case strings.HasSuffix(what, "threshold-init as the user") && !strings.Contains(res.Output(), `code: InvalidArgument, message: "Failed on requestID `+material.DefaultEpochID+` with metric new_mpc_epoch"`):
			t.Errorf("the init Job's kms-init did not panic on a refusal of the default epoch:\n%s", res.Output())
		}
		rep, err := c.Audit(ctx)
		if left := strings.Join(rep.Leftovers, "; "); err != nil || left != step.left || (left == "" && !rep.Clean()) {
			t.Errorf("audit after %s: leftovers %q (%s), %v; want %q", what, left, rep, err, step.left)
		}
	}
	if err := c.Terminate(ctx); err != nil {
		t.Fatalf("terminate as the user: %v", err)
	}

	// One rule less (statefulsets): the bring-up stops, naming it, and
	// leaves nothing behind.
	out, err := exec.CommandContext(ctx, kubectl(), "--kubeconfig", kubeconfig, "get", "clusterrole", "kmschaos", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	less := strings.Replace(string(out), `"statefulsets"`, `"replicasets"`, 1)
	apply := exec.CommandContext(ctx, kubectl(), "--kubeconfig", kubeconfig, "apply", "-f", "-")
	apply.Stdin = strings.NewReader(less)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("narrowing the role: %v\n%s", err, out)
	}
	_, err = kube.Start(ctx, cfg, im, cluster.WithTopology(4, 1), cluster.WithKeptImages())
	var in *kube.InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), "statefulsets") || !strings.Contains(err.Error(), "rbac.yaml") {
		t.Errorf("bring-up without the statefulsets rule: %v", err)
	}
	runs, _ := exec.CommandContext(ctx, kubectl(), "--kubeconfig", kubeconfig, "get", "ns", "-l", "app.kubernetes.io/managed-by=kmschaos", "-o", "name").Output()
	if strings.TrimSpace(string(runs)) != "" {
		t.Errorf("a refused bring-up left %s", runs)
	}
}

// sweep removes a run whose process is gone, and only that one: a live
// run (this test's own) stays.
func TestSweepRemovesKilledRuns(t *testing.T) {
	kubeconfig := onCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	im := images(t, ctx)
	cfg := kube.Config{Kubeconfig: kubeconfig}
	live, err := kube.Start(ctx, cfg, im, cluster.WithTopology(4, 1), cluster.WithKeptImages())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = live.Terminate(context.Background()) }()
	killed, err := kube.Start(ctx, cfg, im, cluster.WithTopology(4, 1), cluster.WithKeptImages())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = killed.Terminate(context.Background()) }()
	host, _ := os.Hostname()
	// As if its process had been killed: an owner pid that runs no more.
	out, err := exec.CommandContext(ctx, kubectl(), "--kubeconfig", kubeconfig, "annotate", "--overwrite", "namespace",
		"kmschaos-"+killed.RunID, kube.OwnerAnnotation+"="+host+"/999999999").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	d, err := kube.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := d.Sweep(ctx, false)
	if err != nil || !slices.Contains(gone, killed.RunID) || slices.Contains(gone, live.RunID) {
		t.Fatalf("sweep removed %v (%v), want %s and not %s", gone, err, killed.RunID, live.RunID)
	}
	runs, err := d.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := runs[live.RunID]; !ok {
		t.Errorf("the live run %s was swept", live.RunID)
	}
	if _, ok := runs[killed.RunID]; ok {
		t.Errorf("the killed run %s is still there", killed.RunID)
	}
}

// A party's config is deployed from its release's values, as the real
// chart deploys it: the ConfigMap kms-threshold-<i>-config, installed into
// the config volume at every pod start. A config the harness breaks is
// deployed too (the pod crash-loops on it); the guide's Configuration
// Recovery (a copy into the volume) brings the party back but not for
// good: the audit names the deployed config, and the next pod start loops
// again. The guide's "Fix configuration errors in Helm values" (helm
// rollback) is what holds, and leaves the audit clean.
func TestConfigIsDeployedFromTheRelease(t *testing.T) {
	kubeconfig := onCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c := startSmall(t, ctx, kubeconfig)
	const k = 2
	good, err := c.ReadFile(ctx, c.ConfigPath(k))
	if err != nil {
		t.Fatal(err)
	}
	deployed := func() string {
		t.Helper()
		res, err := c.Operate(ctx, "kubectl", "get", "configmap", fmt.Sprintf("kms-threshold-%d-config", k), "-o", `jsonpath={.data.config\.toml}`)
		if err := res.Check(err, "kubectl get configmap"); err != nil {
			t.Fatal(err)
		}
		return res.Stdout
	}
	if got := deployed(); got != string(good) {
		t.Fatalf("the ConfigMap holds %d bytes, not the party's config (%d bytes)", len(got), len(good))
	}
	loops := func(what string) {
		t.Helper()
		awaitState(t, ctx, c.Party(k), time.Minute, what+": party crash-loops", func(st cluster.State) bool {
			return st.Restarting || (st.RestartCount > 0 && !st.Running)
		})
	}
	audit := func() []string { t.Helper(); return auditOf(t, ctx, c, k) }
	const drift = "deployed config differs from the baseline"

	bad := append(slices.Clone(good), []byte("\n[[[ not toml\n")...)
	if err := c.WriteFile(ctx, c.ConfigPath(k), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := deployed(); got != string(bad) {
		t.Fatal("a config written to the party's volume was not deployed to its ConfigMap")
	}
	if err := c.Party(k).Restart(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	loops("a bad config deployed")
	if what := audit(); !slices.Contains(what, drift) {
		t.Fatalf("the audit of a party with a bad deployed config says %q, want %q", what, drift)
	}

	// The guide's Configuration Recovery: cp /backup/config.toml /current/config.toml.
	res, err := c.KeeperExec(ctx, c.Profile.AdminCmd("cp", c.BackupConfigPath(k), c.ConfigPath(k))...)
	if err := res.Check(err, "the guide's cp"); err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithTimeout(ctx, 2*time.Minute)
	defer ocancel()
	if err := c.AwaitOptimal(octx); err != nil {
		t.Fatalf("after the guide's copy into the volume: %v", err)
	}
	if what := audit(); !slices.Contains(what, drift) {
		t.Fatalf("after the guide's copy, the audit says %q, want %q: the ConfigMap still holds the bad config", what, drift)
	}
	if err := c.Party(k).Restart(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	loops("the pod replaced after the guide's copy")

	// Fix configuration errors in Helm values.
	res, err = c.Operate(ctx, "helm", "rollback", fmt.Sprintf("kms-threshold-%d", k))
	if err := res.Check(err, "helm rollback"); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer rcancel()
	if err := c.AwaitOptimal(rctx); err != nil {
		t.Fatalf("after helm rollback: %v", err)
	}
	if got := deployed(); got != string(good) {
		t.Error("after helm rollback the ConfigMap does not hold the good config")
	}
	if what := audit(); len(what) > 0 {
		t.Errorf("after helm rollback the audit still says %q", what)
	}
}

// A party's limits change as on Docker: a running party in place (no
// restart, the kernel's CPU quota changed), a stopped one through its
// StatefulSet's template (the next pod starts with them); the audit names
// limits that are not the baseline's until they are put back.
func TestLimitsChangeInPlaceOrByRollout(t *testing.T) {
	kubeconfig := onCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c := startSmall(t, ctx, kubeconfig)
	const k = 3
	p := c.Party(k)
	base := c.BaselineOf(k)
	before, err := p.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	audit := func() []string { t.Helper(); return auditOf(t, ctx, c, k) }
	quota := func() string {
		t.Helper()
		res, err := p.Exec(ctx, "kms-admin", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
		if err := res.Check(err, "reading the CPU quota"); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(res.Stdout)
	}

	// In place: a fifth of a CPU, then the baseline back.
	if err := p.Update(ctx, cluster.Resources{NanoCPUs: 2e8}); err != nil {
		t.Fatal(err)
	}
	st, err := p.State(ctx)
	if err != nil || st.NanoCPUs != 2e8 || st.Memory != base.Memory || !st.Running || st.RestartCount != before.RestartCount || !st.StartedAt.Equal(before.StartedAt) {
		t.Fatalf("after an in-place resize to 0.2 CPU: %+v, %v; want the same container running with 200m and the baseline memory", st, err)
	}
	if q := quota(); q != "20000" {
		t.Errorf("the container's CPU quota is %s µs per 100 ms, want 20000 (0.2 CPU)", q)
	}
	if what := audit(); !slices.Contains(what, "resources") {
		t.Errorf("the audit of a resized party says %q, want resources", what)
	}
	if err := p.Update(ctx, base); err != nil {
		t.Fatal(err)
	}
	if st, err := p.State(ctx); err != nil || st.RestartCount != before.RestartCount || !st.StartedAt.Equal(before.StartedAt) {
		t.Errorf("resized back, the container restarted: %+v, %v", st, err)
	}
	if what := audit(); len(what) > 0 {
		t.Errorf("resized back to the baseline, the audit says %q", what)
	}

	// By rollout: a stopped party gets 8 MiB and is OOM-killed at start.
	if err := p.Stop(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Update(ctx, cluster.Resources{Memory: 8 << 20}); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	awaitState(t, ctx, p, 2*time.Minute, "a party started under 8 MiB is OOM-killed", func(st cluster.State) bool {
		return st.OOMKilled && st.Memory == 8<<20
	})
	if err := p.Update(ctx, base); err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithTimeout(ctx, 3*time.Minute)
	defer ocancel()
	if err := c.AwaitOptimal(octx); err != nil {
		t.Fatalf("given its baseline back: %v", err)
	}
	if what := audit(); len(what) > 0 {
		t.Errorf("given its baseline back, the audit says %q", what)
	}
}

// startSmall brings a 4-party cluster up on the test's cluster; it is
// removed when the test ends, pass or fail.
func startSmall(t *testing.T, ctx context.Context, kubeconfig string) *cluster.Cluster {
	t.Helper()
	c, err := kube.Start(ctx, kube.Config{Kubeconfig: kubeconfig, Progress: func(s string) { t.Log(s) }}, images(t, ctx),
		cluster.WithTopology(4, 1), cluster.WithKeptImages())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Terminate(context.Background()) })
	return c
}

// awaitState polls party p's state until ok holds, or fails the test
// naming what it waited for and the last state seen.
func awaitState(t *testing.T, ctx context.Context, p *cluster.Party, within time.Duration, what string, ok func(cluster.State) bool) {
	t.Helper()
	var last cluster.State
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, within, true, func(ctx context.Context) (bool, error) {
		last, lastErr = p.State(ctx)
		return lastErr == nil && ok(last), nil
	})
	if err != nil {
		t.Fatalf("%s: not within %s (last state %+v, %v)", what, within, last, lastErr)
	}
}

// auditOf is what the audit finds left behind on party k.
func auditOf(t *testing.T, ctx context.Context, c *cluster.Cluster, k int) []string {
	t.Helper()
	rep, err := c.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rep.Repaired[k]
}
