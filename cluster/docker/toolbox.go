package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/kmschaos/kmschaos/cluster"
)

// OpenToolbox starts a container of the toolbox image that mounts party
// i's volumes and the engine's socket; with join, while the party runs,
// in the party's network and process namespaces.
func (d *Driver) OpenToolbox(ctx context.Context, s cluster.Spec, i int, party cluster.Workload, join bool) (cluster.ToolboxShell, error) {
	st, err := party.State(ctx)
	if err != nil {
		return nil, err
	}
	joined := join && st.Running && !st.Restarting // a paused party's namespaces are there, frozen
	sock := engineSocket()
	l := s.Labels("toolbox")
	l[labelParty] = strconv.Itoa(i)
	suffix := make([]byte, 4)
	rand.Read(suffix)
	req := testcontainers.ContainerRequest{
		Image:  d.toolboxImage(ctx, s),
		Name:   fmt.Sprintf("kmschaos-%s-toolbox-p%d-%s", s.RunID, i, hex.EncodeToString(suffix)),
		Labels: l,
		HostConfigModifier: func(h *container.HostConfig) {
			h.Mounts = append(partyMounts(s, i), mount.Mount{Type: mount.TypeBind, Source: sock, Target: "/var/run/docker.sock"})
			if joined {
				h.NetworkMode = container.NetworkMode("container:" + party.ID())
				h.PidMode = container.PidMode("container:" + party.ID())
			}
		},
	}
	if !joined {
		req.Networks = []string{d.network()}
	}
	ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if err != nil {
		if ctr != nil {
			_ = removeContainer(context.WithoutCancel(ctx), d.dc, ctr.GetContainerID(), true)
		}
		return nil, fmt.Errorf("starting the toolbox of party %d: %w", i, err)
	}
	return toolbox{newDockerWorkload(d.dc, req.Name, ctr)}, nil
}

// toolbox is an open toolbox's container.
type toolbox struct{ *dockerWorkload }

// Close removes the toolbox.
func (t toolbox) Close(ctx context.Context) error {
	return removeContainer(context.WithoutCancel(ctx), t.dc, t.ID(), true)
}

// toolboxImage is the toolbox image by the id the keeper runs, looked up
// once: a tag can be removed by another run's clean-up (the same content
// built by a parallel run shares it), an image a running container uses
// cannot.
func (d *Driver) toolboxImage(ctx context.Context, s cluster.Spec) string {
	d.tbImg.Do(func() {
		if s.KeeperImage() != s.Images.Toolbox {
			return
		}
		in, err := d.dc.ContainerInspect(ctx, keeperName(s.RunID), client.ContainerInspectOptions{})
		if err == nil {
			d.tbID = in.Container.Image
		}
	})
	// Once.Do returns after the write: every reader sees it, no lock.
	if d.tbID != "" {
		return d.tbID
	}
	return s.Images.Toolbox
}

// engineSocket is the engine's Unix socket on this host.
func engineSocket() string {
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		return strings.TrimPrefix(h, "unix://")
	}
	return "/var/run/docker.sock"
}
