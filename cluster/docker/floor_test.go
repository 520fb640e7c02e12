package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/kmschaos/kmschaos/cluster"
)

// floorImage builds (or finds) the engine floor's image: FROM scratch,
// busybox's sleep and nothing of the party.
func floorImage(ctx context.Context, b *testing.B, dc client.APIClient) string {
	b.Helper()
	dir := b.TempDir()
	if err := copyExecutable("/bin/busybox", filepath.Join(dir, "busybox")); err != nil {
		b.Fatalf("the engine floor needs busybox-static (scripts/bootstrap.sh installs it): %v", err)
	}
	df := "FROM scratch\nCOPY busybox /busybox\nENTRYPOINT [\"/busybox\", \"sleep\", \"3600\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		b.Fatal(err)
	}
	tag, err := hashDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	ref := "kmschaos/floor:" + tag
	if ok, err := imageExists(ctx, dc, ref); err != nil {
		b.Fatal(err)
	} else if !ok {
		if err := buildImage(ctx, dir, "kmschaos/floor", tag); err != nil {
			b.Fatal(err)
		}
	}
	return ref
}

// engineFloor is how long the engine takes to create and start count
// containers of image at once, in parallel, none with any logic: the
// least a bring-up of that many containers could take on this engine. The
// containers carry a run's labels (so a sweep finds them if the benchmark
// dies) and are removed before it returns.
func engineFloor(ctx context.Context, b *testing.B, dc client.APIClient, image string, count int) time.Duration {
	b.Helper()
	id := make([]byte, 4)
	if _, err := rand.Read(id); err != nil {
		b.Fatal(err)
	}
	run := "floor-" + hex.EncodeToString(id)
	h, _ := os.Hostname()
	labels := map[string]string{cluster.LabelManaged: "true", cluster.LabelRun: run,
		cluster.LabelOwner: h + "/" + strconv.Itoa(os.Getpid()), cluster.LabelRole: "floor"}
	defer func() {
		if _, err := Sweep(context.Background(), dc, SweepOptions{Run: run}); err != nil {
			b.Errorf("removing the floor's containers: %v", err)
		}
	}()
	start := time.Now()
	errs := make(chan error, count)
	for i := range count {
		go func() {
			res, err := dc.ContainerCreate(ctx, client.ContainerCreateOptions{
				Name:   fmt.Sprintf("kmschaos-%s-%d", run, i),
				Config: &container.Config{Image: image, Labels: labels},
			})
			if err == nil {
				_, err = dc.ContainerStart(ctx, res.ID, client.ContainerStartOptions{})
			}
			errs <- err
		}()
	}
	// Every start answered before failing: the sweep deferred above must
	// not run while a container is still being made.
	var failed []error
	for range count {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	took := time.Since(start)
	if err := errors.Join(failed...); err != nil {
		b.Fatalf("engine floor: %v", err)
	}
	return took
}
