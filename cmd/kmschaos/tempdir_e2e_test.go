package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// A 'kmschaos images' killed while it builds leaves its build context
// (about 100 MB) in the temp dir; the next 'kmschaos sweep' removes it at
// once, seeing its maker gone, where it used to wait two hours. The
// commands run with a temp dir of their own: what they leave there is
// what they left on the host.
func TestSweepRemovesAKilledBuildsContextAtOnce(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	tmp := t.TempDir()
	exe, err := os.Executable()
	g.Expect(err).NotTo(HaveOccurred())
	env := append(os.Environ(), "KMSCHAOS_TEST_AS_MAIN=1", "TMPDIR="+tmp)

	build := exec.Command(exe, "images")
	build.Dir, build.Env = "../..", env
	// Its own process group: the kill takes its go build children too.
	build.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	g.Expect(build.Start()).To(Succeed())
	kill := func() { _ = syscall.Kill(-build.Process.Pid, syscall.SIGKILL); _ = build.Wait() }
	t.Cleanup(kill)

	// The context is held (its owner file written) before anything is
	// compiled into it.
	var owned []string
	g.Eventually(func() []string {
		owned, _ = filepath.Glob(filepath.Join(tmp, "kmschaos-images-*", cluster.OwnerFile))
		return owned
	}).WithTimeout(2 * time.Minute).WithPolling(10 * time.Millisecond).Should(HaveLen(1))
	dir := filepath.Dir(owned[0])
	kill()
	g.Expect(dir).To(BeADirectory(), "the killed build removed its context: nothing left to sweep")

	sweep := exec.Command(exe, "sweep")
	sweep.Dir, sweep.Env = "../..", env
	out, err := sweep.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s", out)
	g.Expect(string(out)).To(ContainSubstring(", 1 temporary folders"))
	g.Expect(dir).NotTo(BeAnExistingFile(), "the sweep left the killed build's context")
}
