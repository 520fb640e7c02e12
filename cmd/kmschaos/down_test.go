package main

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// down refuses a run id the engine has nothing of, and removes nothing:
// not the images other runs keep (the bug: it removed every image of the
// harness). For a run it has, it removes the run's containers and the
// images they ran, and still no other run's image. The images and the
// container are dummies made here (FROM scratch, labelled as the
// harness labels its own) and removed at the end, pass or fail.
func TestDownRemovesOnlyItsRun(t *testing.T) {
	dockertest.Require(t)
	b := make([]byte, 4)
	rand.Read(b)
	tag := hex.EncodeToString(b)
	run, other, mine := "down-"+tag, "kmschaos-test/others-cache:"+tag, "kmschaos-test/the-runs:"+tag
	docker := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	exists := func(ref string) bool {
		return exec.Command("docker", "image", "inspect", ref).Run() == nil
	}
	t.Cleanup(func() {
		_ = exec.Command("docker", "rm", "-f", "kmschaos-test-"+run).Run()
		_ = exec.Command("docker", "rmi", other, mine).Run()
	})
	for _, ref := range []string{other, mine} {
		docker("FROM scratch\nLABEL org.kmschaos.test=down\n", "build", "-q", "--label", "org.kmschaos=true", "--label", "org.kmschaos.role=image", "-t", ref, "-")
	}
	// The run: one container (never started) of its image, its owner
	// "detached" so that no one's sweep takes it meanwhile.
	docker("", "create", "--name", "kmschaos-test-"+run, "--label", "org.kmschaos=true", "--label", "org.kmschaos.run="+run,
		"--label", "org.kmschaos.owner=detached", "--label", "org.kmschaos.role=party", mine, "/none")

	out, code := cliOut(t, "down", "--run", "no-such-"+run)
	if code != 2 || strings.TrimSpace(out) != "Error: no run no-such-"+run+" on this engine: nothing is labelled with it ('kmschaos ls' lists the runs)" {
		t.Errorf("down --run of an unknown run: exit %d, %q; want exit 2 and one line", code, out)
	}
	if !exists(other) || !exists(mine) {
		t.Fatalf("down --run of an unknown run removed images: %s there %v, %s there %v", other, exists(other), mine, exists(mine))
	}

	out, code = cliOut(t, "down", "--run", run)
	if code != 0 || !strings.Contains(out, "removed 1 containers, 0 networks, 0 volumes, 1 images") {
		t.Errorf("down --run %s: exit %d, %q; want its container and its image removed", run, code, out)
	}
	if exists(mine) {
		t.Errorf("down --run %s left the image its container ran, %s", run, mine)
	}
	if !exists(other) {
		t.Errorf("down --run %s removed %s, an image none of its containers ran", run, other)
	}
}
