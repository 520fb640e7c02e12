package scenarios

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// leftovers counts the containers, networks and volumes of one owner.
func leftovers(ctx context.Context, dc client.APIClient, owner string) (int, error) {
	f := client.Filters{}.Add("label", cluster.LabelOwner+"="+owner)
	cs, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, err
	}
	ns, err := dc.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return 0, err
	}
	vs, err := dc.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return 0, err
	}
	return len(cs.Items) + len(ns.Items) + len(vs.Items), nil
}

var _ = Describe("Cleaning up", Label("cleanup"), func() {
	It("sweeps everything a bring-up killed half-way left behind", func(ctx SpecContext) {
		root, err := localcluster.ModuleRoot()
		Expect(err).NotTo(HaveOccurred())
		bin := filepath.Join(GinkgoT().TempDir(), "kmschaos")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/kmschaos")
		build.Dir = root
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))

		up := exec.Command(bin, "up", "--parties", "4", "--threshold", "1")
		up.Dir = root
		up.Stdout, up.Stderr = GinkgoWriter, GinkgoWriter
		Expect(up.Start()).To(Succeed())
		DeferCleanup(func() { up.Process.Kill(); up.Wait() })
		host, _ := os.Hostname()
		owner := fmt.Sprintf("%s/%d", host, up.Process.Pid)

		dc, err := cluster.DockerClient(ctx)
		Expect(err).NotTo(HaveOccurred())
		By("killing the bring-up once its first parties exist")
		Eventually(func() (int, error) {
			f := client.Filters{}.Add("label", cluster.LabelOwner+"="+owner).Add("label", cluster.LabelRole+"=party")
			cs, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
			return len(cs.Items), err
		}).WithTimeout(3 * time.Minute).WithPolling(50 * time.Millisecond).Should(BeNumerically(">=", 1))
		Expect(up.Process.Signal(syscall.SIGKILL)).To(Succeed())
		up.Wait()
		Expect(leftovers(ctx, dc, owner)).To(BeNumerically(">", 0), "the killed run left something to sweep")

		By("sweeping, as the next run does at start")
		_, err = cluster.Sweep(ctx, dc, cluster.SweepOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(leftovers(ctx, dc, owner)).To(Equal(0))
	})
})
