package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/kms/material"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// Whether the cluster serves: every party's health through its client
// link, and the PRSS set-up that makes it Optimal.

// InitPRSS runs kms-init from the keeper over every party's API: the
// default epoch, as the real tool knows no other.
func (c *Cluster) InitPRSS(ctx context.Context) (ExecResult, error) {
	return c.KeeperExec(ctx, append(append([]string{}, c.Profile.Init...), append([]string{"--addresses"}, c.apiAddresses()...)...)...)
}

// NewEpoch sets up a fresh PRSS epoch on every party with the client's
// new-epoch (the real core-client's), from the keeper.
func (c *Cluster) NewEpoch(ctx context.Context, epochID string) (ExecResult, error) {
	cmd := append(append([]string{}, c.Profile.Client...), "new-epoch", "--new-epoch-id", epochID, "--new-context-id", material.DefaultContextID,
		"--timeout", strconv.Itoa(c.opts.SetupTimeout+int(fixtures.Intervals.Cluster.Party.InitMargin/time.Second))+"s", "--addresses")
	return c.KeeperExec(ctx, append(cmd, c.apiAddresses()...)...)
}

// destroyEpoch destroys an epoch on the given parties with the client's
// destroy-mpc-epoch (the real core-client's), from the keeper.
func (c *Cluster) destroyEpoch(ctx context.Context, epochID string, parties []int) (ExecResult, error) {
	cmd := append(append([]string{}, c.Profile.Client...), "destroy-mpc-epoch", "--epoch-id", epochID, "--addresses")
	return c.KeeperExec(ctx, append(cmd, c.apiAddresses(parties...)...)...)
}

// apiAddresses are the given parties' API addresses (every party's when
// none is given), as kms-init and the client want them.
func (c *Cluster) apiAddresses(parties ...int) []string {
	if len(parties) == 0 {
		for i := 1; i <= c.Topology.N; i++ {
			parties = append(parties, i)
		}
	}
	a := make([]string, len(parties))
	for k, i := range parties {
		a[k] = fmt.Sprintf("http://%s:%d", partyAlias(i), c.Profile.APIPort)
	}
	return a
}

// AwaitOptimal polls every party's health until all report Optimal.
func (c *Cluster) AwaitOptimal(ctx context.Context) error {
	var last error
	for {
		last = c.CheckOptimal(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not Optimal: %w", last)
		case <-time.After(fixtures.Intervals.Cluster.OptimalPoll):
		}
	}
}

// CheckOptimal fails unless every party reports Optimal right now.
func (c *Cluster) CheckOptimal(ctx context.Context) error {
	return c.EachParty(func(i int) error {
		s, err := c.Health(ctx, i)
		if err == nil && s.GetStatus() != kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL {
			err = fmt.Errorf("reaches %d of %d nodes", s.GetNodesReachable(), c.Topology.N)
		}
		return err
	})
}

// Health asks party i for its health through its client link.
func (c *Cluster) Health(ctx context.Context, i int) (*kmsv1.PeersFromContext, error) {
	cl, err := c.Client(i)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Cluster.HealthCall)
	defer cancel()
	hs, err := cl.GetHealthStatus(ctx, &kmsv1.Empty{})
	if err != nil {
		return nil, err
	}
	if len(hs.GetPeersFromAllContexts()) == 0 {
		return nil, errors.New("no context in health status")
	}
	return hs.GetPeersFromAllContexts()[0], nil
}
