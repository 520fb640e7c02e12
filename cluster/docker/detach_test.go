package docker

import (
	"context"
	"errors"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// removeEngine shows a container on one network, answers the disconnect
// with the error it is given and counts the removals; every other call of
// the engine's API is left unimplemented.
type removeEngine struct {
	client.APIClient
	disconnect error
	removed    int
}

func (e *removeEngine) ContainerInspect(context.Context, string, client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	return client.ContainerInspectResult{Container: container.InspectResponse{
		NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{"net": {}}},
	}}, nil
}

func (e *removeEngine) NetworkDisconnect(context.Context, string, client.NetworkDisconnectOptions) (client.NetworkDisconnectResult, error) {
	return client.NetworkDisconnectResult{}, e.disconnect
}

func (e *removeEngine) ContainerRemove(context.Context, string, client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	e.removed++
	return client.ContainerRemoveResult{}, nil
}

// A container that left the network between the inspect and the
// disconnect is removed without an error; any other refused disconnect is
// still reported, after the removal.
func TestRemoveContainerAlreadyDisconnected(t *testing.T) {
	gone := errors.New("Error response from daemon: container 22b7a094 is not connected to network cfc2d1b4")
	e := &removeEngine{disconnect: gone}
	if err := removeContainer(context.Background(), e, "p", false); err != nil || e.removed != 1 {
		t.Fatalf("a container already off its network: %v, %d removals; want no error, one removal", err, e.removed)
	}
	other := errors.New("Error response from daemon: network net is in use by a task")
	e = &removeEngine{disconnect: other}
	if err := removeContainer(context.Background(), e, "p", false); !errors.Is(err, other) || e.removed != 1 {
		t.Fatalf("a refused disconnect: %v, %d removals; want the refusal, one removal", err, e.removed)
	}
}
