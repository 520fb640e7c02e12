package cluster

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Toolbox is an operator's shell on a party's host: on Docker a container
// of the toolbox image (docker/Dockerfile.toolbox) that mounts the
// party's volumes where the party sees them, reaches the engine through
// its socket, and, while the party runs, joins the party's network and
// process namespaces, so that `localhost:50100`, `netstat` and `ps` see
// the party as they would on its host. The troubleshooting guide's blocks
// run here as written. It runs as root, like the operator the guide
// addresses.
type Toolbox struct {
	Party  int
	sh     ToolboxShell
	writes *atomic.Uint64 // its cluster's (Cluster.writes): it can write a party's files
}

// ToolboxUnsupported is why the cluster's backend offers no operator's
// toolbox (an Unsupported), or nil when it does: specs that only run the
// guide's shell blocks ask before they start.
func (c *Cluster) ToolboxUnsupported() error {
	if _, ok := c.driver.(Toolboxes); !ok {
		return c.unsupported("the operator's toolbox", "the guide's shell blocks need a debug container beside the party, which the backend does not start")
	}
	return nil
}

// OpenToolbox starts a toolbox on party i's host. With join, it shares
// the party's namespaces while the party runs; without, it has its own on
// the cluster's network (a block that stops the party must not run inside
// its process namespace: the party's exit would kill the block). Close
// removes it.
func (c *Cluster) OpenToolbox(ctx context.Context, i int, join bool) (*Toolbox, error) {
	if i < 1 || i > c.Topology.N {
		return nil, fmt.Errorf("no party %d (1..%d)", i, c.Topology.N)
	}
	if c.Images.Toolbox == "" {
		return nil, fmt.Errorf("the cluster has no toolbox image")
	}
	if err := c.ToolboxUnsupported(); err != nil {
		return nil, err
	}
	sh, err := c.driver.(Toolboxes).OpenToolbox(ctx, c.spec(), i, c.Party(i).Workload(), join)
	if err != nil {
		return nil, err
	}
	return &Toolbox{Party: i, sh: sh, writes: &c.writes}, nil
}

// Exec runs a command in the toolbox as root.
func (t *Toolbox) Exec(ctx context.Context, cmd ...string) (ExecResult, error) {
	t.writes.Add(1)
	return t.sh.Exec(ctx, "0:0", cmd...)
}

// CopyIn writes a file into the toolbox.
func (t *Toolbox) CopyIn(ctx context.Context, content []byte, path string, mode int64) error {
	t.writes.Add(1)
	return t.sh.CopyIn(ctx, content, path, mode)
}

// Close removes the toolbox.
func (t *Toolbox) Close(ctx context.Context) error { return t.sh.Close(ctx) }
