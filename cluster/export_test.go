package cluster

import "context"

// AuditParty is the audit of party i with manifest as its storage now, for
// the tests of package cluster_test, which assemble clusters from the fake
// backend.
func AuditParty(ctx context.Context, c *Cluster, i int, manifest []string) (what, added []string, err error) {
	return c.auditParty(ctx, c.parties[i-1], manifest)
}
