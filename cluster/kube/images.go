package kube

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kmschaos/kmschaos/cluster"
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

func localCtr() (ctr, sock string) {
	return filepath.Join(LocalRoot(), "bin", "ctr"), filepath.Join(LocalRoot(), "containerd", "containerd.sock")
}

// CheckLocal says, as an *InputError, when there is no local cluster to
// import images into: what 'kmschaos images --backend kubernetes' checks
// before it builds anything.
func CheckLocal() error {
	ctr, sock := localCtr()
	for _, f := range []string{ctr, sock} {
		if _, err := os.Stat(f); err != nil {
			return &InputError{Msg: fmt.Sprintf("no local cluster to import images into (%s missing): start one with make k8s-up, or push the images to your cluster's registry", f)}
		}
	}
	return nil
}

// ImportLocal copies images from the Docker engine into the local
// cluster's containerd (docker save | ctr images import), the way a
// cluster with no registry gets them. It says so when there is no local
// cluster: a user's own cluster pulls from a registry instead.
func ImportLocal(ctx context.Context, refs ...string) error {
	if err := CheckLocal(); err != nil {
		return err
	}
	ctr, sock := localCtr()
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

// Start brings up a cluster on the Kubernetes cluster cfg names, with
// images built on the Docker engine (cluster/docker): imported into
// the local cluster's containerd when cfg names the local cluster, else
// expected on the nodes (pushed to the registry they pull from).
func Start(ctx context.Context, cfg Config, im cluster.Images, opts ...cluster.Option) (*cluster.Cluster, error) {
	d, err := New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return d.Start(ctx, im, opts...)
}

// Start is Start on the cluster d is connected to: a caller that builds
// the images connects first, so that a wrong kubeconfig is told before
// minutes of building.
func (d *Driver) Start(ctx context.Context, im cluster.Images, opts ...cluster.Option) (*cluster.Cluster, error) {
	if d.local() {
		d.cfg.Progress("importing the images into the local cluster's containerd")
		if err := ImportLocal(ctx, im.Party, im.Toxiproxy, im.Toolbox); err != nil {
			return nil, err
		}
	}
	return cluster.StartOn(ctx, d, append(opts, cluster.WithImages(im))...)
}

// hasDefaultKubeconfig tells whether client-go finds a kubeconfig of its
// own ($KUBECONFIG or ~/.kube/config); without one, kmschaos uses the
// local cluster's.
func hasDefaultKubeconfig() bool {
	if os.Getenv("KUBECONFIG") != "" {
		return true
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(home, ".kube", "config"))
	return err == nil
}
