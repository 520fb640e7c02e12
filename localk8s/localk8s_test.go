package localk8s

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The test's workload: three replicas behind a headless Service (stable
// names, DNS only), a ClusterIP Service over the same pods (kube-proxy),
// and a client pod to reach both from.
const (
	testImage = "kmschaos.local/testimage:dev"
	nodeName  = "kmschaos-node"
	workload  = `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-svc}
spec:
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ` + testImage + `
        imagePullPolicy: Never
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - name: client
    image: ` + testImage + `
    imagePullPolicy: Never
`
)

func root() string {
	if r := os.Getenv("KMSCHAOS_K8S_ROOT"); r != "" {
		return r
	}
	return "/var/lib/kmschaos-k8s"
}

// needHost skips unless asked: the test needs root, the Docker engine,
// and 20-30 minutes the first time (the build, README.md).
func needHost(t *testing.T) {
	t.Helper()
	if os.Getenv("KMSCHAOS_K8S_TEST") != "1" {
		t.Skip("brings up a real cluster: set KMSCHAOS_K8S_TEST=1 (root; the first build takes 20-30 min: go test -timeout 60m)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("KMSCHAOS_K8S_TEST=1 needs root")
	}
}

// try runs a command (stdin optional) with a deadline; output is stdout
// and stderr together.
func try(timeout time.Duration, stdin string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: not done after %s", name, timeout)
	}
	return out.String(), err
}

func run(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	out, err := try(timeout, "", name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// eventually polls f every second until it returns nil or the deadline
// passes; the last error fails the test. Each failed try is logged, so
// that a slow phase says why.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	start := time.Now()
	for try := 1; ; try++ {
		err := f()
		if err == nil {
			return
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not after %s: %v", what, timeout, err)
		}
		t.Logf("%s: try %d at %.1f s: %v", what, try, time.Since(start).Seconds(), err)
		time.Sleep(time.Second)
	}
}

// phases times each step and prints them all at the end.
type phases struct {
	t    *testing.T
	rows []string
}

func (p *phases) do(name string, f func()) {
	p.t.Helper()
	start := time.Now()
	f()
	row := fmt.Sprintf("%-34s %7.1f s", name, time.Since(start).Seconds())
	p.rows = append(p.rows, row)
	p.t.Log("phase " + row)
}

func (p *phases) print() { p.t.Log("phases:\n  " + strings.Join(p.rows, "\n  ")) }

// kubectl runs $ROOT/bin/kubectl (the one up.sh puts there) on the
// cluster's admin kubeconfig.
func kubectl(args ...string) (string, error) {
	args = append([]string{"--kubeconfig", filepath.Join(root(), "admin.kubeconfig")}, args...)
	return try(2*time.Minute, "", filepath.Join(root(), "bin", "kubectl"), args...)
}

func mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// buildTestImage builds testimage as a static binary, into a FROM-scratch
// image in the Docker engine, and imports that into the cluster's
// containerd (ctr in $ROOT/bin is bound to it).
func buildTestImage(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "testimage"), "./testimage")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./testimage: %v\n%s", err, out)
	}
	dockerfile := "FROM scratch\nCOPY testimage /testimage\nENTRYPOINT [\"/testimage\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, 2*time.Minute, "docker", "build", "-q", "-t", testImage, dir)
	run(t, 2*time.Minute, "bash", "-c", fmt.Sprintf("docker save %s | %s images import --local --snapshotter native -",
		testImage, filepath.Join(root(), "bin", "ctr")))
}

// inClient runs testimage get URL in the client pod.
func inClient(url string) (string, error) {
	return kubectl("exec", "client", "--", "/testimage", "get", url)
}

func TestCluster(t *testing.T) {
	needHost(t)
	if out, err := try(time.Minute, "", "./leftovers.sh"); err != nil {
		t.Fatalf("something of a local cluster is already here: run make k8s-down first\n%s", out)
	}
	p := &phases{t: t}
	defer p.print()
	downDone := false
	t.Cleanup(func() {
		if !downDone {
			out, err := try(5*time.Minute, "", "./down.sh")
			t.Logf("cleanup: down.sh: %v\n%s", err, out)
		}
	})

	p.do("up.sh", func() { t.Log(run(t, 50*time.Minute, "./up.sh")) })

	p.do("node Ready", func() {
		ready := mustKubectl(t, "get", "node", nodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if ready != "True" {
			t.Fatalf("node %s Ready = %q", nodeName, ready)
		}
	})

	p.do("test image built and imported", func() { buildTestImage(t) })

	p.do("StatefulSet of 3 and client Ready", func() {
		out, err := try(time.Minute, workload, filepath.Join(root(), "bin", "kubectl"),
			"--kubeconfig", filepath.Join(root(), "admin.kubeconfig"), "apply", "-f", "-")
		if err != nil {
			t.Fatalf("kubectl apply: %v\n%s", err, out)
		}
		mustKubectl(t, "rollout", "status", "statefulset/web", "--timeout=100s")
		mustKubectl(t, "wait", "--for=condition=Ready", "pod/client", "--timeout=100s")
	})

	p.do("kubectl logs", func() {
		out := mustKubectl(t, "logs", "web-0")
		if !strings.Contains(out, "testimage: web-0 serving on :8080") {
			t.Fatalf("kubectl logs web-0: want the start line, got %q", out)
		}
	})

	p.do("kubectl exec", func() {
		out := mustKubectl(t, "exec", "web-1", "--", "/testimage", "get", "http://127.0.0.1:8080/")
		if !strings.Contains(out, "hello from web-1") {
			t.Fatalf("kubectl exec web-1: got %q", out)
		}
	})

	// CoreDNS: the headless Service's name has one address per replica,
	// and each replica has its own name.
	p.do("DNS: headless Service", func() {
		eventually(t, time.Minute, "the headless Service by name", func() error {
			out, err := inClient("http://web.default.svc.cluster.local:8080/")
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			first := strings.SplitN(out, "\n", 2)[0]
			if n := len(strings.Split(first, ",")); n != 3 || !strings.Contains(out, "hello from web-") {
				return fmt.Errorf("want 3 addresses and a reply from a replica, got %q", out)
			}
			return nil
		})
		out, err := inClient("http://web-2.web.default.svc.cluster.local:8080/")
		if err != nil || !strings.Contains(out, "hello from web-2") {
			t.Fatalf("web-2 by its own name: %v: %q", err, out)
		}
	})

	// kube-proxy: the ClusterIP Service's name resolves to its virtual IP,
	// which only kube-proxy's rules lead to a replica.
	p.do("kube-proxy: ClusterIP Service", func() {
		ip := mustKubectl(t, "get", "service", "web-svc", "-o", "jsonpath={.spec.clusterIP}")
		eventually(t, time.Minute, "the ClusterIP Service", func() error {
			out, err := inClient("http://web-svc.default.svc.cluster.local:8080/")
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			if !strings.Contains(out, ": "+ip+"\n") || !strings.Contains(out, "hello from web-") {
				return fmt.Errorf("want %s and a reply from a replica, got %q", ip, out)
			}
			return nil
		})
	})

	p.do("down.sh", func() {
		downDone = true
		t.Log(run(t, 5*time.Minute, "./down.sh"))
	})

	p.do("leftovers.sh", func() {
		if out, err := try(time.Minute, "", "./leftovers.sh"); err != nil || out != "" {
			t.Fatalf("leftovers after down.sh (%v):\n%s", err, out)
		}
	})
}

// The red case of leftovers.sh: things named like ours are reported,
// and down.sh removes them.
func TestLeftoversSeesOurs(t *testing.T) {
	needHost(t)
	if out, err := try(time.Minute, "", "./leftovers.sh"); err != nil {
		t.Fatalf("something of a local cluster is already here: run make k8s-down first\n%s", out)
	}
	t.Cleanup(func() {
		_, _ = try(time.Minute, "", "ip", "netns", "delete", "kmschaos-redtest")
		_, _ = try(time.Minute, "", "ip", "link", "delete", "kmschaos-red")
	})
	run(t, time.Minute, "ip", "netns", "add", "kmschaos-redtest")
	run(t, time.Minute, "ip", "link", "add", "kmschaos-red", "type", "bridge")

	out, err := try(time.Minute, "", "./leftovers.sh")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("leftovers.sh: want exit 1, got %v\n%s", err, out)
	}
	for _, want := range []string{"netns /run/netns/kmschaos-redtest", "link kmschaos-red"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("leftovers.sh did not report %q:\n%s", want, out)
		}
	}

	t.Log(run(t, 5*time.Minute, "./down.sh"))
	if out, err := try(time.Minute, "", "./leftovers.sh"); err != nil || out != "" {
		t.Fatalf("leftovers after down.sh (%v):\n%s", err, out)
	}
}
