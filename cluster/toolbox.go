package cluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Toolbox is an operator's shell on a party's host: a container of the
// toolbox image (docker/Dockerfile.toolbox) that mounts the party's
// volumes where the party sees them, reaches the engine through its
// socket, and, while the party runs, joins the party's network and process
// namespaces, so that `localhost:50100`, `netstat` and `ps` see the party
// as they would on its host. The troubleshooting guide's blocks run here
// as written. It runs as root, like the operator the guide addresses.
type Toolbox struct {
	c     *Cluster
	Party int
	sh    Shell
}

// PartyName is the container name of party i, what `docker` commands take.
func (c *Cluster) PartyName(i int) string { return c.PartyNamePrefix() + strconv.Itoa(i) }

// PartyNamePrefix is what every party's container name starts with,
// followed by its number.
func (c *Cluster) PartyNamePrefix() string { return "kmschaos-" + c.RunID + "-p" }

// PartyHost is the name party i's API answers to on the cluster's network.
func (c *Cluster) PartyHost(i int) string { return partyAlias(i) }

// ToolboxUnsupported is why the cluster's backend offers no operator's
// toolbox (an Unsupported), or nil when it does: specs that only run the
// guide's shell blocks ask before they start.
func (c *Cluster) ToolboxUnsupported() error {
	if c.driver != nil {
		return c.unsupported("the operator's toolbox", "the guide's shell blocks need a debug container beside the party (kubectl debug), not built yet")
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
	st, err := c.Party(i).State(ctx)
	if err != nil {
		return nil, err
	}
	joined := join && st.Running && !st.Restarting // a paused party's namespaces are there, frozen
	sock := engineSocket()
	l := c.labels("toolbox")
	l["org.kmschaos.party"] = strconv.Itoa(i)
	req := testcontainers.ContainerRequest{
		Image:  c.toolboxImage(ctx),
		Name:   fmt.Sprintf("kmschaos-%s-toolbox-p%d-%s", c.RunID, i, newRunID()),
		Labels: l,
		HostConfigModifier: func(h *container.HostConfig) {
			h.Mounts = append(c.partyMounts(i), mount.Mount{Type: mount.TypeBind, Source: sock, Target: "/var/run/docker.sock"})
			if joined {
				h.NetworkMode = container.NetworkMode("container:" + c.Party(i).ContainerID())
				h.PidMode = container.PidMode("container:" + c.Party(i).ContainerID())
			}
		},
	}
	if !joined {
		req.Networks = []string{c.network.Name}
	}
	ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if err != nil {
		if ctr != nil {
			_ = removeContainer(context.WithoutCancel(ctx), c.dc, ctr.GetContainerID(), true)
		}
		return nil, fmt.Errorf("starting the toolbox of party %d: %w", i, err)
	}
	return &Toolbox{c: c, Party: i, sh: newDockerWorkload(c.dc, req.Name, ctr)}, nil
}

// toolboxImage is the toolbox image by the id the keeper runs, looked up
// once: a tag can be removed by another run's clean-up (the same content
// built by a parallel run shares it), an image a running container uses
// cannot.
func (c *Cluster) toolboxImage(ctx context.Context) string {
	c.toolboxOnce.Do(func() {
		if c.keeper == nil || c.keeperImage() != c.Images.Toolbox {
			return
		}
		in, err := c.dc.ContainerInspect(ctx, c.keeper.ID(), client.ContainerInspectOptions{})
		if err == nil {
			c.toolboxID = in.Container.Image
		}
	})
	if c.toolboxID != "" {
		return c.toolboxID
	}
	return c.Images.Toolbox
}

// engineSocket is the engine's Unix socket on this host.
func engineSocket() string {
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		return strings.TrimPrefix(h, "unix://")
	}
	return "/var/run/docker.sock"
}

// Exec runs a command in the toolbox as root.
func (t *Toolbox) Exec(ctx context.Context, cmd ...string) (ExecResult, error) {
	return t.sh.Exec(ctx, "0:0", cmd...)
}

// CopyIn writes a file into the toolbox.
func (t *Toolbox) CopyIn(ctx context.Context, content []byte, path string, mode int64) error {
	return t.sh.CopyIn(ctx, content, path, mode)
}

// Close removes the toolbox.
func (t *Toolbox) Close(ctx context.Context) error {
	return removeContainer(context.WithoutCancel(ctx), t.c.dc, t.sh.ID(), true)
}
