package kmschaos_test

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
	"github.com/kmschaos/kmschaos/cluster/docker"
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
	It("sweeps everything a bring-up killed half-way left behind", priority(true), func(ctx SpecContext) {
		root, err := localcluster.ModuleRoot()
		Expect(err).NotTo(HaveOccurred())
		bin := filepath.Join(GinkgoT().TempDir(), "kmschaos")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/kmschaos")
		build.Dir = root
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))

		// The run gets a temp dir of its own: what it leaves there is what
		// it left on the host, whatever other runs on the machine do.
		tmp := GinkgoT().TempDir()
		plantOldLeftover(tmp, "kmschaos-golden-1")
		runEnv := append(os.Environ(), "TMPDIR="+tmp)

		// The Docker engine's sweep, whatever backend the suite runs on.
		up := exec.Command(bin, "up", "--backend", "docker", "--parties", "4", "--threshold", "1")
		up.Dir = root
		up.Env = runEnv
		up.Stdout, up.Stderr = GinkgoWriter, GinkgoWriter
		Expect(up.Start()).To(Succeed())
		DeferCleanup(func() { _ = up.Process.Kill(); _ = up.Wait() })
		host, _ := os.Hostname()
		owner := fmt.Sprintf("%s/%d", host, up.Process.Pid)

		dc, err := docker.Client(ctx)
		Expect(err).NotTo(HaveOccurred())
		By("killing the bring-up once its first parties exist")
		Eventually(func() (int, error) {
			f := client.Filters{}.Add("label", cluster.LabelOwner+"="+owner).Add("label", cluster.LabelRole+"=party")
			cs, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
			return len(cs.Items), err
		}).WithTimeout(timings.Cleanup.PartiesWithin).WithPolling(timings.Cleanup.PartiesPoll).Should(BeNumerically(">=", 1))
		By("finding no key folder or build context on the host once keys are dealt")
		Expect(ourTempEntries(tmp)).To(BeEmpty(), "the run keeps something on the host, or did not sweep what an older version left")
		Expect(up.Process.Signal(syscall.SIGKILL)).To(Succeed())
		_ = up.Wait()
		Expect(leftovers(ctx, dc, owner)).To(BeNumerically(">", 0), "the killed run left something to sweep")
		Expect(ourTempEntries(tmp)).To(BeEmpty(), "the killed run left a folder on the host")

		By("sweeping with kmschaos sweep, which also removes the key folders older versions left")
		plantOldLeftover(tmp, "kmschaos-golden-2")
		plantOldLeftover(tmp, "kmschaos-images-3")
		sweep := exec.CommandContext(ctx, bin, "sweep", "--backend", "docker")
		sweep.Dir, sweep.Env = root, runEnv
		out, err = sweep.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(leftovers(ctx, dc, owner)).To(Equal(0))
		Expect(ourTempEntries(tmp)).To(BeEmpty())
	})
})

// plantOldLeftover makes a key folder as an older version left it, hours
// ago (a sweep leaves younger ones to the live runs that may own them).
func plantOldLeftover(dir, name string) {
	GinkgoHelper()
	p := filepath.Join(dir, name, "PRIV-p1", "FheKeyInfo")
	Expect(os.MkdirAll(p, 0o700)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(p, "planted"), []byte("not a real share"), 0o600)).To(Succeed())
	old := time.Now().Add(-timings.Cleanup.PlantedAge)
	Expect(os.Chtimes(filepath.Join(dir, name), old, old)).To(Succeed())
}

// ourTempEntries lists the kmschaos-* entries of a temp dir.
func ourTempEntries(dir string) ([]string, error) {
	return filepath.Glob(filepath.Join(dir, "kmschaos-*"))
}
