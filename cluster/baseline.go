package cluster

import (
	"context"
	"fmt"
)

// Every party's baseline resources: what Reset and the audit hold it to.

// BaselineResources are the resources every party starts with.
func (c *Cluster) BaselineResources() Resources {
	return Resources{Memory: c.opts.MemoryLimit, NanoCPUs: c.opts.NanoCPUs}
}

// BaselineOf is party i's baseline resources: what it started with, or
// what a runbook declared as its new baseline (SetBaseline).
func (c *Cluster) BaselineOf(i int) Resources {
	if r, ok := c.baseline[i]; ok {
		return r
	}
	return c.BaselineResources()
}

// SetBaseline makes r party i's baseline resources from now on, for this
// handle and every process that attaches later: a runbook that raises a
// limit on purpose (and says so) leaves no fault behind, and Reset and the
// audit hold the party to the new limit.
func (c *Cluster) SetBaseline(ctx context.Context, i int, r Resources) error {
	if i < 1 || i > c.Topology.N {
		return fmt.Errorf("no party %d in %s", i, c.Topology)
	}
	if c.baseline == nil {
		c.baseline = map[int]Resources{}
	}
	c.baseline[i] = r
	return c.saveState(ctx)
}
