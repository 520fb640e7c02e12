package docker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// sweepEngine holds one container of run "r" on one network until a
// removal succeeds; the first refusals it is told to give are answered to
// the disconnect, and a stuck engine refuses the removal itself forever.
type sweepEngine struct {
	removeEngine
	refusals int  // disconnects refused, once each
	stuck    bool // the container is never removed
	gone     bool
}

func (e *sweepEngine) ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error) {
	if e.gone {
		return client.ContainerListResult{}, nil
	}
	l := map[string]string{cluster.LabelManaged: "true", cluster.LabelRun: "r"}
	return client.ContainerListResult{Items: []container.Summary{{ID: "p", Image: "party", Labels: l}}}, nil
}

func (e *sweepEngine) ContainerInspect(ctx context.Context, id string, o client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	if e.gone {
		return client.ContainerInspectResult{}, cerrdefs.ErrNotFound
	}
	return e.removeEngine.ContainerInspect(ctx, id, o)
}

func (e *sweepEngine) NetworkDisconnect(ctx context.Context, n string, o client.NetworkDisconnectOptions) (client.NetworkDisconnectResult, error) {
	if e.refusals > 0 {
		e.refusals--
		return client.NetworkDisconnectResult{}, errors.New("Error response from daemon: endpoint p not found in sandbox")
	}
	return client.NetworkDisconnectResult{}, nil
}

func (e *sweepEngine) ContainerRemove(context.Context, string, client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	if e.stuck {
		return client.ContainerRemoveResult{}, errors.New("Error response from daemon: driver failed to remove root filesystem")
	}
	e.gone = true
	return client.ContainerRemoveResult{}, nil
}

func (e *sweepEngine) NetworkList(context.Context, client.NetworkListOptions) (client.NetworkListResult, error) {
	return client.NetworkListResult{}, nil
}

func (e *sweepEngine) VolumeList(context.Context, client.VolumeListOptions) (client.VolumeListResult, error) {
	return client.VolumeListResult{}, nil
}

// A run's teardown answers for what remains: a refusal the engine gives
// while it removes the container anyway (CI, Docker 20.10: the catalog's
// teardown failed on one) is not a failure, and a container that stays is.
func TestSweepJudgesWhatRemains(t *testing.T) {
	poll := fixtures.Intervals.Cluster.SweepRetryPoll
	fixtures.Intervals.Cluster.SweepRetryPoll = time.Millisecond
	t.Cleanup(func() { fixtures.Intervals.Cluster.SweepRetryPoll = poll })

	e := &sweepEngine{refusals: 1}
	rep, err := Sweep(context.Background(), e, SweepOptions{Run: "r"})
	if err != nil || rep.Containers != 1 || !e.gone {
		t.Fatalf("a refused disconnect of a container the engine removed: %v (%v, removed %v); want no error", err, rep, e.gone)
	}

	e = &sweepEngine{stuck: true}
	_, err = Sweep(context.Background(), e, SweepOptions{Run: "r"})
	if err == nil || !strings.Contains(err.Error(), "root filesystem") {
		t.Fatalf("a container the engine never removes: %v; want its refusal", err)
	}
}
