package docker

import (
	"context"
	"errors"
	"strings"

	"github.com/moby/moby/client"
)

// removeContainer force-removes a container after disconnecting it from
// its networks. Docker 20.10 can leave a stale endpoint behind when a
// running container is removed while others on the same network are
// (seen once at a suite's end: the network then refused removal with
// "has active endpoints" and no container attached, for good). A forced
// disconnect first releases the endpoint through the network's own path.
//
// A container already off the network by the time of the disconnect (a
// killed bring-up's container still starting, or stopping, between the
// inspect and the disconnect) is what the disconnect wanted: not an error
// (a sweep after a killed bring-up failed on it in CI, all removed).
func removeContainer(ctx context.Context, dc client.APIClient, id string, anonymousVolumes bool) error {
	ins, err := dc.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	if ns := ins.Container.NetworkSettings; ns != nil {
		for name := range ns.Networks {
			if _, err := dc.NetworkDisconnect(ctx, name, client.NetworkDisconnectOptions{Container: id, Force: true}); err != nil && !isNotFound(err) && !notConnected(err) {
				errs = append(errs, err)
			}
		}
	}
	if _, err := dc.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: anonymousVolumes}); err != nil && !isNotFound(err) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// notConnected tells the engine's refusal to disconnect a container that is
// not on the network; Docker sends it as a plain 500, so only its words
// tell it.
func notConnected(err error) bool {
	return strings.Contains(err.Error(), "is not connected to network")
}
