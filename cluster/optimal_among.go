package cluster

import (
	"context"
	"fmt"
	"slices"

	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// CheckOptimalAmong is CheckOptimal judged on the parties of scope alone
// (none: every party, CheckOptimal): each reports Optimal, or Healthy
// (2n/3+1 nodes reached) missing only parties outside scope — parties
// kept away by what is not the scope's to answer for, such as another
// hidden fault of a game day.
func (c *Cluster) CheckOptimalAmong(ctx context.Context, scope []int) error {
	if len(scope) == 0 {
		return c.CheckOptimal(ctx)
	}
	return Parallel(scope, func(i int) error { return c.optimalAmong(ctx, i, scope) })
}

// optimalAmong judges party i's health as CheckOptimalAmong does.
func (c *Cluster) optimalAmong(ctx context.Context, i int, scope []int) error {
	s, err := c.Health(ctx, i)
	if err != nil {
		return err
	}
	var missed []int
	for _, p := range s.GetPeers() {
		if id := int(p.GetPeerId()); !p.GetReachable() && id != i && slices.Contains(scope, id) {
			missed = append(missed, id)
		}
	}
	switch st := s.GetStatus(); {
	case st == kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL:
		return nil
	case st == kmsv1.HealthStatus_HEALTH_STATUS_HEALTHY && len(missed) == 0:
		return nil
	case len(missed) > 0:
		return fmt.Errorf("reaches %d of %d nodes, not parties %v", s.GetNodesReachable(), c.Topology.N, missed)
	}
	return fmt.Errorf("reaches %d of %d nodes", s.GetNodesReachable(), c.Topology.N)
}
