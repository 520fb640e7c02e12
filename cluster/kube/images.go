package kube

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// LocalRoot is the local cluster's state root (localk8s: make k8s-up).
func LocalRoot() string {
	if r := os.Getenv("KMSCHAOS_K8S_ROOT"); r != "" {
		return r
	}
	return "/var/lib/kmschaos-k8s"
}

// LocalKubeconfig is the local cluster's admin kubeconfig.
func LocalKubeconfig() string { return filepath.Join(LocalRoot(), "admin.kubeconfig") }

// ImportLocal copies images from the Docker engine into the local
// cluster's containerd (docker save | ctr images import), the way a
// cluster with no registry gets them. It says so when there is no local
// cluster: a user's own cluster pulls from a registry instead.
func ImportLocal(ctx context.Context, refs ...string) error {
	ctr := filepath.Join(LocalRoot(), "bin", "ctr")
	sock := filepath.Join(LocalRoot(), "containerd", "containerd.sock")
	for _, f := range []string{ctr, sock} {
		if _, err := os.Stat(f); err != nil {
			return &InputError{fmt.Sprintf("no local cluster to import images into (%s missing): start one with make k8s-up, or push the images to your cluster's registry", f)}
		}
	}
	save := exec.CommandContext(ctx, "docker", append([]string{"save"}, refs...)...)
	imp := exec.CommandContext(ctx, ctr, "-a", sock, "-n", "k8s.io", "images", "import", "--local", "-")
	pr, pw := io.Pipe()
	save.Stdout = pw
	imp.Stdin = pr
	var saveErr, impErr strings.Builder
	save.Stderr, imp.Stderr = &saveErr, &impErr
	if err := imp.Start(); err != nil {
		return err
	}
	err := save.Run()
	pw.CloseWithError(err)
	if werr := imp.Wait(); werr != nil || err != nil {
		return fmt.Errorf("importing %s into the local cluster: %s %s", strings.Join(refs, " "), strings.TrimSpace(saveErr.String()), strings.TrimSpace(impErr.String()))
	}
	return nil
}
