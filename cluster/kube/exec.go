package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	osexec "os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/kmschaos/kmschaos/cluster"
)

// podShell is a container of a pod as a place to run commands: what
// `kubectl exec` reaches. Exec cannot choose the user (the API runs a
// command as the container's own), so a shell that runs as root (the
// keeper) becomes the user with kms-admin run-as, and one that does not
// refuses.
type podShell struct {
	d         *Driver
	pod       string
	container string
	root      bool // runs as root, with busybox: can become any user
	user      string
}

func (s *podShell) ID() string { return s.pod }

func (s *podShell) Exec(ctx context.Context, user string, cmd ...string) (cluster.ExecResult, error) {
	// Root too is another user for a party's container, which runs as
	// the party's: a command that needs root (editing /etc/hosts) is
	// refused, never run as the party's user where it would fail for
	// want of the right, not of the fault.
	if user != "" && user != s.user && !(s.root && user == "0:0") {
		if !s.root {
			return cluster.ExecResult{}, &cluster.Unsupported{Backend: Name, Verb: "exec as " + user,
				Why: "kubectl exec runs a command as the container's user (" + s.user + ")"}
		}
		cmd = append([]string{"kms-admin", "run-as", user, "--"}, cmd...)
	}
	return s.run(ctx, nil, cmd...)
}

func (s *podShell) run(ctx context.Context, stdin io.Reader, cmd ...string) (cluster.ExecResult, error) {
	start := time.Now()
	req := s.d.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(s.d.ns).Name(s.pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: s.container, Command: cmd, Stdin: stdin != nil, Stdout: true, Stderr: true},
			scheme.ParameterCodec)
	exec, err := s.d.executor(req.URL())
	if err != nil {
		return cluster.ExecResult{}, err
	}
	var out, errb bytes.Buffer
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: &out, Stderr: &errb})
	res := cluster.ExecResult{Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}
	var code utilexec.CodeExitError
	if errors.As(err, &code) {
		res.ExitCode = code.Code
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("exec in pod %s: %w", s.pod, err)
	}
	return res, nil
}

// executor speaks WebSocket to the API server and falls back to SPDY, as
// kubectl does.
func (d *Driver) executor(u *url.URL) (remotecommand.Executor, error) {
	ws, err := remotecommand.NewWebSocketExecutor(d.rc, http.MethodGet, u.String())
	if err != nil {
		return nil, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(d.rc, http.MethodPost, u)
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// CopyIn writes a file with busybox sh and cat (the keeper and the
// toolbox have them; a party's image does not).
func (s *podShell) CopyIn(ctx context.Context, content []byte, p string, mode int64) error {
	if !s.root {
		return &cluster.Unsupported{Backend: Name, Verb: "copying a file into a party", Why: "the party's image has no shell; write through the keeper"}
	}
	res, err := s.run(ctx, bytes.NewReader(content), "sh", "-c", `mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"`,
		"sh", p, strconv.FormatInt(mode, 8))
	return res.Check(err, "writing "+p+" in pod "+s.pod)
}

// CopyOut reads a file with cat, which the party's image lacks: there,
// kms-admin cat.
func (s *podShell) CopyOut(ctx context.Context, p string) ([]byte, error) {
	cmd := []string{"cat", p}
	if !s.root {
		cmd = []string{"kms-admin", "cat", p}
	}
	res, err := s.run(ctx, nil, cmd...)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		if strings.Contains(res.Stderr, "No such file") || strings.Contains(res.Stderr, "no such file") {
			return nil, fmt.Errorf("reading %s in pod %s: %w", path.Clean(p), s.pod, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("reading %s in pod %s: %s", p, s.pod, strings.TrimSpace(res.Output()))
	}
	return []byte(res.Stdout), nil
}

// Operate runs kubectl or helm on this machine against the run: the
// driver's kubeconfig and the run's namespace go before the operator's
// own arguments, which run as written; helm runs in a copy of the
// chart's folder.
func (d *Driver) Operate(ctx context.Context, cmd []string) (cluster.ExecResult, error) {
	if len(cmd) == 0 || (cmd[0] != "kubectl" && cmd[0] != "helm") {
		return cluster.ExecResult{}, fmt.Errorf("an operator's step runs kubectl or helm, not %q", strings.Join(cmd, " "))
	}
	bin, err := tool(cmd[0], d.local())
	if err != nil {
		return cluster.ExecResult{}, err
	}
	args := []string{"--namespace", d.ns}
	if d.cfg.Kubeconfig != "" {
		args = append(args, "--kubeconfig", d.cfg.Kubeconfig)
	}
	if d.cfg.As != "" {
		as := "--as" // kubectl's impersonation flag; helm's has another name
		if cmd[0] == "helm" {
			as = "--kube-as-user"
		}
		args = append(args, as, d.cfg.As)
	}
	start := time.Now()
	c := osexec.CommandContext(ctx, bin, append(args, cmd[1:]...)...)
	if cmd[0] == "helm" {
		// An operator runs helm from the chart's folder, as the
		// operations pages do (helm upgrade kms-party-1 . ...): "."
		// is a copy of our chart, written for the call.
		dir, owned, err := writeChart()
		if err != nil {
			return cluster.ExecResult{}, fmt.Errorf("writing the chart: %w", err)
		}
		defer func() { _ = owned.Remove() }()
		c.Dir = dir
	}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err = c.Run()
	res := cluster.ExecResult{Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}
	var exit *osexec.ExitError
	if errors.As(err, &exit) {
		res.ExitCode = exit.ExitCode()
		return res, nil
	}
	return res, err
}

// tool finds kubectl or helm: the local cluster's own build (the server's
// version) for the local cluster, else the one on PATH, else the local
// build.
func tool(name string, local bool) (string, error) {
	built := filepath.Join(LocalRoot(), "bin", name)
	if _, err := os.Stat(built); err == nil && local {
		return built, nil
	}
	if p, err := osexec.LookPath(name); err == nil {
		return p, nil
	}
	if _, err := os.Stat(built); err == nil {
		return built, nil
	}
	return "", fmt.Errorf("%s is not on PATH nor in %s: install it (make k8s-up builds it)", name, filepath.Dir(built))
}
