package cluster

import "context"

// AuditParty is the audit of party i with manifest as its storage now, for
// the tests of package cluster_test, which assemble clusters from the fake
// backend.
func AuditParty(ctx context.Context, c *Cluster, i int, manifest []string) (what, added []string, err error) {
	return c.auditParty(ctx, c.parties[i-1], manifest)
}

// MarkClean notes the cluster as found clean now, as a clean audit does.
func MarkClean(ctx context.Context, c *Cluster) error {
	writes, states, err := c.states(ctx)
	if err != nil {
		return err
	}
	c.seenClean(ctx, writes, states)
	return nil
}

// UnchangedSinceClean is what Reset asks before reading everything again.
func UnchangedSinceClean(ctx context.Context, c *Cluster) bool { return c.unchangedSinceClean(ctx) }
