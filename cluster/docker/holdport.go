package docker

import (
	"context"
	"fmt"
	"strconv"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// HoldPort: a container cannot outlive its own network namespace across a
// restart, so the holder owns the namespace, as a pod's sandbox does: a
// holder container takes party i's place on the cluster network (its
// alias, hostname and /etc/hosts) and runs `kms-admin listen` on the
// port, and party i is recreated inside the holder's namespace.
func (d *Driver) HoldPort(ctx context.Context, s cluster.Spec, i, port int) (cluster.Shell, cluster.Workload, error) {
	// The party leaves the network first: its alias goes to the holder.
	if err := removeContainer(ctx, d.dc, s.PartyName(i), false); err != nil {
		return nil, nil, err
	}
	addr := "0.0.0.0:" + strconv.Itoa(port)
	holderName := fmt.Sprintf("kmschaos-%s-p%d-holder", s.RunID, i)
	netw := d.network()
	holder, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image: s.Images.Party, Name: holderName,
			Labels:         s.Labels("port-holder"),
			Networks:       []string{netw},
			NetworkAliases: map[string][]string{netw: {s.PartyHost(i)}},
			Entrypoint:     s.Profile.AdminCmd("listen", addr),
			Cmd:            []string{},
			ConfigModifier: func(cfg *container.Config) {
				cfg.User = s.Profile.User
				cfg.Hostname = s.PartyHost(i)
			},
			HostConfigModifier: func(h *container.HostConfig) { h.ExtraHosts = d.extraHosts(s) },
			WaitingFor:         wait.ForLog("listening on " + addr).WithStartupTimeout(fixtures.Intervals.Cluster.PortHolderStart),
		},
		Started: true,
	})
	var hs cluster.Shell
	if holder != nil {
		hs = newDockerWorkload(d.dc, holderName, holder)
	}
	if err != nil {
		return hs, nil, fmt.Errorf("starting a holder of port %d for party %d: %w", port, i, err)
	}
	req := d.partyRequest(s, i)
	req.WaitingFor = nil
	req.Networks, req.NetworkAliases = nil, nil
	req.ConfigModifier = func(cfg *container.Config) { cfg.User = s.Profile.User }
	hostConfig := req.HostConfigModifier
	req.HostConfigModifier = func(h *container.HostConfig) {
		hostConfig(h)
		h.ExtraHosts = nil // the holder's /etc/hosts is the namespace's
		h.NetworkMode = container.NetworkMode("container:" + holder.GetContainerID())
	}
	req.EndpointSettingsModifier = func(m map[string]*network.EndpointSettings) { clear(m) }
	ctr, err := testcontainers.GenericContainer(ctx, req)
	var w cluster.Workload
	if ctr != nil {
		w = newDockerWorkload(d.dc, req.Name, ctr)
	}
	if err != nil {
		return hs, w, fmt.Errorf("recreating party %d behind the holder of port %d: %w", i, port, err)
	}
	return hs, w, nil
}

// RemoveHolder removes the container that owns a party's namespace.
func (d *Driver) RemoveHolder(ctx context.Context, id string) error {
	return removeContainer(ctx, d.dc, id, false)
}
