package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/kmschaos/kmschaos/fixtures"
)

// HoldPort makes another process own a port party i binds at start, the
// way a leftover process or a sidecar in the same pod would. A container
// cannot outlive its own network namespace across a restart, so the
// holder owns the namespace, as a pod's sandbox does: a holder container
// takes party i's place on the cluster network (its alias, hostname and
// /etc/hosts) and runs `kms-admin listen` on the port, and party i is
// recreated inside the holder's namespace. Every start of the party then
// finds the port taken.
//
// The returned release removes the holder, freeing the port, and
// recreates party i as the baseline has it, on the cluster network. It
// is returned even when HoldPort fails half-way, and undoes what was done.
func (c *Cluster) HoldPort(ctx context.Context, i, port int) (release func(context.Context) error, err error) {
	if c.driver != nil {
		return func(context.Context) error { return nil }, c.unsupported("holding a party's port",
			"a pod's network namespace belongs to its sandbox; kmschaos has no second container to hold it with yet")
	}
	p := c.Party(i)
	var holder testcontainers.Container
	release = func(ctx context.Context) error {
		var errs []error
		if holder != nil {
			if err := c.removeHolder(ctx, p, holder.GetContainerID()); err != nil {
				errs = append(errs, err)
			}
		}
		// Recreate removes the party's container first, wherever it runs.
		if err := c.Recreate(ctx, i); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	// The party leaves the network first: its alias goes to the holder.
	if err := p.Remove(ctx); err != nil {
		return release, err
	}
	addr := "0.0.0.0:" + strconv.Itoa(port)
	holderName := fmt.Sprintf("kmschaos-%s-p%d-holder", c.RunID, i)
	holder, err = testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image: c.Images.Party, Name: holderName,
			Labels:         c.labels("port-holder"),
			Networks:       []string{c.network.Name},
			NetworkAliases: map[string][]string{c.network.Name: {partyAlias(i)}},
			Entrypoint:     c.Profile.AdminCmd("listen", addr),
			Cmd:            []string{},
			ConfigModifier: func(cfg *container.Config) {
				cfg.User = c.Profile.User
				cfg.Hostname = partyAlias(i)
			},
			HostConfigModifier: func(h *container.HostConfig) { h.ExtraHosts = c.extraHosts() },
			WaitingFor:         wait.ForLog("listening on " + addr).WithStartupTimeout(fixtures.Intervals.Cluster.PortHolderStart),
		},
		Started: true,
	})
	if err != nil {
		return release, fmt.Errorf("starting a holder of port %d for party %d: %w", port, i, err)
	}
	p.setHolder(newDockerWorkload(c.dc, holderName, holder))
	req := c.partyRequest(i)
	req.WaitingFor = nil
	req.Networks, req.NetworkAliases = nil, nil
	req.ConfigModifier = func(cfg *container.Config) { cfg.User = c.Profile.User }
	hostConfig := req.HostConfigModifier
	req.HostConfigModifier = func(h *container.HostConfig) {
		hostConfig(h)
		h.ExtraHosts = nil // the holder's /etc/hosts is the namespace's
		h.NetworkMode = container.NetworkMode("container:" + holder.GetContainerID())
	}
	req.EndpointSettingsModifier = func(m map[string]*network.EndpointSettings) { clear(m) }
	ctr, err := testcontainers.GenericContainer(ctx, req)
	if ctr != nil {
		p.setWorkload(newDockerWorkload(c.dc, req.Name, ctr))
	}
	if err != nil {
		return release, fmt.Errorf("recreating party %d behind the holder of port %d: %w", i, port, err)
	}
	return release, nil
}

// ReleaseHeldPort undoes HoldPort from any process attached to the
// cluster: if party i runs in another container's network namespace, that
// container is removed and the party recreated as the baseline has it.
// A party on its own namespace is left alone.
func (c *Cluster) ReleaseHeldPort(ctx context.Context, i int) error {
	if i < 1 || i > c.Topology.N {
		return fmt.Errorf("no party %d in %s", i, c.Topology)
	}
	p := c.Party(i)
	st, err := p.State(ctx)
	if err != nil || st.SharesNetworkOf == "" {
		return err
	}
	if err := c.removeHolder(ctx, p, st.SharesNetworkOf); err != nil {
		return err
	}
	return c.Recreate(ctx, i)
}

// removeHolder removes the container that owns party p's namespace.
func (c *Cluster) removeHolder(ctx context.Context, p *Party, id string) error {
	if err := removeContainer(ctx, c.dc, id, false); err != nil {
		return fmt.Errorf("removing the holder of party %d's network namespace: %w", p.ID, err)
	}
	p.setHolder(nil)
	return nil
}
