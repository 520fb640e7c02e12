package cluster

import (
	"context"
	"errors"
	"fmt"
)

// HoldPort makes another process own a port party i binds at start, the
// way a leftover process or a sidecar in the same pod would: the backend
// (a PortHolder) starts a holder in party i's place and the party inside
// the holder's network namespace, so every start of the party finds the
// port taken. Party i's NetExec runs in the holder meanwhile.
//
// The returned release removes the holder, freeing the port, and
// recreates party i as the baseline has it. It is returned even when
// HoldPort fails half-way, and undoes what was done.
func (c *Cluster) HoldPort(ctx context.Context, i, port int) (release func(context.Context) error, err error) {
	h, ok := c.driver.(PortHolder)
	if !ok {
		return func(context.Context) error { return nil }, c.unsupported("holding a party's port",
			"the backend has no second process to hold a party's network namespace with")
	}
	p := c.Party(i)
	holder, w, err := h.HoldPort(ctx, c.spec(), i, port)
	release = func(ctx context.Context) error {
		var errs []error
		if holder != nil {
			if err := c.removeHolder(ctx, p, holder.ID()); err != nil {
				errs = append(errs, err)
			}
		}
		// Recreate removes the party's process first, wherever it runs.
		if err := c.Recreate(ctx, i); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	if holder != nil {
		p.setHolder(holder)
	}
	if w != nil {
		p.setWorkload(w)
	}
	return release, err
}

// ReleaseHeldPort undoes HoldPort from any process attached to the
// cluster: if party i runs in another process's network namespace, that
// holder is removed and the party recreated as the baseline has it. A
// party on its own namespace is left alone.
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

// removeHolder removes the holder that owns party p's namespace.
func (c *Cluster) removeHolder(ctx context.Context, p *Party, id string) error {
	h, ok := c.driver.(PortHolder)
	if !ok {
		return c.unsupported("removing the holder of a party's port", "the backend holds no party's port")
	}
	if err := h.RemoveHolder(ctx, id); err != nil {
		return fmt.Errorf("removing the holder of party %d's network namespace: %w", p.ID, err)
	}
	p.setHolder(nil)
	return nil
}
