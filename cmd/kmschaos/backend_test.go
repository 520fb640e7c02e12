package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad input about the backend exits 2 with one line saying what is wrong
// and what to do, and creates nothing.
func TestBackendBadInput(t *testing.T) {
	dir := t.TempDir()
	unreachable := filepath.Join(dir, "unreachable.kubeconfig")
	if err := os.WriteFile(unreachable, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
users: [{name: u, user: {token: x}}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ls", "--backend", "k8s"}, `unknown backend "k8s": docker or kubernetes`},
		{[]string{"up", "--namespace", "x"}, "--kubeconfig, --namespace and --node-faults are for --backend kubernetes"},
		{[]string{"ls", "--node-faults"}, "--kubeconfig, --namespace and --node-faults are for --backend kubernetes"},
		{[]string{"ls", "--backend", "kubernetes", "--kubeconfig", filepath.Join(dir, "none")}, "kubeconfig " + filepath.Join(dir, "none") + ": no such file or directory"},
		{[]string{"ls", "--backend", "kubernetes", "--kubeconfig", "/etc/hostname"}, "no usable kubeconfig"},
		{[]string{"down", "--run", "x", "--backend", "kubernetes", "--kubeconfig", unreachable}, "the cluster at https://127.0.0.1:1 does not answer"},
	} {
		out, code := cliOut(t, c.args...)
		if code != 2 || !strings.Contains(out, c.want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("kmschaos %s: exit %d, %q; want exit 2 and one line with %q", strings.Join(c.args, " "), code, out, c.want)
		}
	}
}
