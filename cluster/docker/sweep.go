package docker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// SweepReport counts what a sweep removed.
type SweepReport struct {
	Containers, Networks, Volumes, Images int
	TempDirs                              int // folders in os.TempDir() whose maker is gone
}

func (s SweepReport) String() string {
	return fmt.Sprintf("%d containers, %d networks, %d volumes, %d images, %d temporary folders", s.Containers, s.Networks, s.Volumes, s.Images, s.TempDirs)
}

// SweepOptions choose what a sweep removes.
type SweepOptions struct {
	All bool // also resources of live runs (never those of another host)
	// Run: only this run (kmschaos down), which must be on the engine.
	Run string
	// Images: also the harness's images; with Run only those the run's
	// containers ran, as its own Terminate removes them. Either way an
	// image a container still uses stays.
	Images bool
}

// Sweep removes the containers, networks and volumes a killed run left
// behind: those whose owner process is gone, or all with All. Unless it is
// for one run, it also removes the harness's folders in os.TempDir() whose
// maker is gone (sweepTempDirs). A Run the engine has nothing of is an
// *InputError, and nothing is removed.
//
// A pass that fails is repeated, a few times, and only the last one's
// errors count: a container the daemon was still creating for a killed
// client appears after the listing and holds its volumes and network, and
// Docker 20.10 can refuse a forced disconnect of a container it then
// removes. What the sweep answers for is what remains.
func Sweep(ctx context.Context, dc client.APIClient, o SweepOptions) (SweepReport, error) {
	var total SweepReport
	var dirErr error
	var runImages []string
	if o.Run == "" {
		total.TempDirs, dirErr = cluster.SweepTempDirs()
	} else {
		var err error
		if runImages, err = imagesOfRun(ctx, dc, o.Run); err != nil {
			return total, err
		}
	}
	for pass := 1; ; pass++ {
		rep, err := sweepOnce(ctx, dc, o)
		total.Containers += rep.Containers
		total.Networks += rep.Networks
		total.Volumes += rep.Volumes
		total.Images += rep.Images
		if err == nil || pass == 5 {
			if o.Run != "" && o.Images {
				total.Images += removeUnused(ctx, dc, runImages)
			}
			return total, errors.Join(dirErr, err)
		}
		select {
		case <-ctx.Done():
			return total, errors.Join(dirErr, err, ctx.Err())
		case <-time.After(fixtures.Intervals.Cluster.SweepRetryPoll):
		}
	}
}

// imagesOfRun lists the images run's containers ran, or says, before
// anything is removed, that the engine has nothing of run.
func imagesOfRun(ctx context.Context, dc client.APIClient, run string) ([]string, error) {
	f := client.Filters{}.Add("label", cluster.LabelManaged+"=true").Add("label", cluster.LabelRun+"="+run)
	cs, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	var images []string
	for _, c := range cs.Items {
		if !slices.Contains(images, c.Image) {
			images = append(images, c.Image)
		}
	}
	if len(cs.Items) > 0 {
		return images, nil
	}
	ns, err := dc.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, err
	}
	vs, err := dc.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return nil, err
	}
	if len(ns.Items) == 0 && len(vs.Items) == 0 {
		return nil, &cluster.InputError{Msg: fmt.Sprintf("no run %s on this engine: nothing is labelled with it ('kmschaos ls' lists the runs)", run)}
	}
	return nil, nil
}

func sweepOnce(ctx context.Context, dc client.APIClient, o SweepOptions) (rep SweepReport, err error) {
	f := client.Filters{}.Add("label", cluster.LabelManaged+"=true")
	if o.Run != "" {
		f = f.Add("label", cluster.LabelRun+"="+o.Run)
	}
	stale := func(l map[string]string) bool {
		return o.All || o.Run != "" || !cluster.OwnerAlive(l[cluster.LabelOwner])
	}
	var errs []error
	cs, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return rep, err
	}
	// Containers in parallel: each removal waits for a stop.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cs.Items {
		if !stale(c.Labels) {
			continue
		}
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			err := removeContainer(ctx, dc, id, true)
			if err != nil && gone(ctx, dc, id) {
				err = nil // a refused disconnect of a container removed anyway: a stale endpoint shows at the network's removal
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			rep.Containers++
		}(c.ID)
	}
	wg.Wait()
	ns, err := dc.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return rep, err
	}
	for _, n := range ns.Items {
		if !stale(n.Labels) {
			continue
		}
		if _, err := dc.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, err)
			continue
		}
		rep.Networks++
	}
	vs, err := dc.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return rep, err
	}
	for _, v := range vs.Items {
		if !stale(v.Labels) {
			continue
		}
		if _, err := dc.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			errs = append(errs, err)
			continue
		}
		rep.Volumes++
	}
	if o.Images && o.Run == "" {
		n, err := removeImages(ctx, dc)
		rep.Images += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// gone tells whether the engine no longer knows container id.
func gone(ctx context.Context, dc client.APIClient, id string) bool {
	_, err := dc.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	return isNotFound(err)
}
