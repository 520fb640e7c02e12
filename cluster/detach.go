package cluster

import (
	"context"
	"errors"

	"github.com/moby/moby/client"
)

// removeContainer force-removes a container after disconnecting it from
// its networks. Docker 20.10 can leave a stale endpoint behind when a
// running container is removed while others on the same network are
// (seen once at a suite's end: the network then refused removal with
// "has active endpoints" and no container attached, for good). A forced
// disconnect first releases the endpoint through the network's own path.
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
			if _, err := dc.NetworkDisconnect(ctx, name, client.NetworkDisconnectOptions{Container: id, Force: true}); err != nil && !isNotFound(err) {
				errs = append(errs, err)
			}
		}
	}
	if _, err := dc.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: anonymousVolumes}); err != nil && !isNotFound(err) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
