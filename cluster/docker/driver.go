// Package docker is the Docker backend: a cluster's parties, its keeper
// and toxiproxy as containers on a private network of the run's own, its
// stores as size-capped tmpfs volumes, all labelled with the run, on this
// machine's engine (testcontainers-go). It implements cluster.Driver and
// cluster.Workload, and what only it offers (building the images, holding
// a party's port, the operator's toolbox); Engine manages the runs on
// one engine. Faults, probes and runbooks do not know it.
package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// Name is the backend's name.
const Name = "docker"

// Driver runs one cluster on the Docker engine: a private network,
// every store a size-capped tmpfs volume, the keeper, toxiproxy and each
// party a container on the network, all labelled with the run. A party
// that exits with an error is restarted, like a pod; a tmpfs volume
// outlives a party's container because the keeper mounts it.
type Driver struct {
	dc client.APIClient

	mu sync.Mutex
	// run is the run as Provision or Reconnect was given it (Terminate
	// removes it); ok once there is one.
	run   cluster.Spec
	ok    bool
	netw  string // the run's network
	mesh  string // toxiproxy's address on it: every kms-peer-<j> resolves there
	tbID  string // the id of the image the keeper runs: written once, in tbImg (toolboxImage)
	tbImg sync.Once
}

func newDriver(dc client.APIClient) *Driver { return &Driver{dc: dc} }

// Name is "docker".
func (d *Driver) Name() string { return Name }

func (d *Driver) setRun(s cluster.Spec) {
	d.mu.Lock()
	d.run, d.ok = s, true
	d.mu.Unlock()
}

func (d *Driver) network() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.netw
}

// Provision creates the run's network, every party's volumes and the
// golden one (tmpfs: key material never reaches a disk), and the keeper.
func (d *Driver) Provision(ctx context.Context, s cluster.Spec) (cluster.Shell, error) {
	d.setRun(s)
	nw, err := network.New(ctx, network.WithLabels(s.Labels("network")))
	if err != nil {
		return nil, fmt.Errorf("creating the network: %w", err)
	}
	d.mu.Lock()
	d.netw = nw.Name
	d.mu.Unlock()
	if err := d.createVolumes(ctx, s); err != nil {
		return nil, err
	}
	name := keeperName(s.RunID)
	ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image: s.KeeperImage(), Name: name,
			Labels:     s.Labels("keeper"),
			Networks:   []string{nw.Name},
			Entrypoint: s.KeeperCommand(),
			Cmd:        []string{},
			ConfigModifier: func(cfg *container.Config) {
				cfg.User = "0:0"
			},
			HostConfigModifier: func(h *container.HostConfig) { h.Mounts = keeperMounts(s) },
		},
		Started: true,
	})
	if err != nil {
		return nil, fmt.Errorf("starting the storage keeper: %w", err)
	}
	return newDockerWorkload(d.dc, name, ctr), nil
}

func keeperName(run string) string { return "kmschaos-" + run + "-keeper" }

func volumeName(run string, i int, kind string) string {
	return fmt.Sprintf("kmschaos-%s-p%d-%s", run, i, kind)
}

func goldenVolumeName(run string) string { return "kmschaos-" + run + "-golden" }

// createVolumes makes every party's size-capped tmpfs volumes, and the
// keeper's golden volume.
func (d *Driver) createVolumes(ctx context.Context, s cluster.Spec) error {
	uid := s.Profile.UID()
	_, err := d.dc.VolumeCreate(ctx, client.VolumeCreateOptions{
		Name: goldenVolumeName(s.RunID), Driver: "local", Labels: s.Labels("golden"),
		DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=256m,uid=0,gid=0,mode=0700"},
	})
	if err != nil {
		return fmt.Errorf("creating volume %s: %w", goldenVolumeName(s.RunID), err)
	}
	for i := 1; i <= s.Topology.N; i++ {
		for _, v := range s.Volumes(i) {
			name := volumeName(s.RunID, i, v.Kind)
			_, err := d.dc.VolumeCreate(ctx, client.VolumeCreateOptions{
				Name: name, Driver: "local", Labels: s.Labels("volume"),
				DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": fmt.Sprintf("size=%s,uid=%s,gid=%s,mode=0700", v.Size, uid, uid)},
			})
			if err != nil {
				return fmt.Errorf("creating volume %s: %w", name, err)
			}
		}
	}
	return nil
}

func partyMounts(s cluster.Spec, i int) []mount.Mount {
	var out []mount.Mount
	for _, v := range s.Volumes(i) {
		out = append(out, mount.Mount{Type: mount.TypeVolume, Source: volumeName(s.RunID, i, v.Kind), Target: v.InParty})
	}
	return out
}

func keeperMounts(s cluster.Spec) []mount.Mount {
	out := []mount.Mount{{Type: mount.TypeVolume, Source: goldenVolumeName(s.RunID), Target: s.GoldenPath()}}
	for i := 1; i <= s.Topology.N; i++ {
		for _, v := range s.Volumes(i) {
			out = append(out, mount.Mount{Type: mount.TypeVolume, Source: volumeName(s.RunID, i, v.Kind), Target: v.InKeeper})
		}
	}
	return out
}

// StartMesh starts toxiproxy on the run's network, alias toxiproxy, with
// its control port and every client and metrics link published here.
func (d *Driver) StartMesh(ctx context.Context, s cluster.Spec) (cluster.MeshAccess, error) {
	ctl, _ := s.MeshPorts()
	ports := []string{tcp(ctl)}
	for i := 1; i <= s.Topology.N; i++ {
		ports = append(ports, tcp(s.ClientProxyPort(i)), tcp(s.MetricsProxyPort(i)))
	}
	netw := d.network()
	ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image: s.Images.Toxiproxy, Name: fmt.Sprintf("kmschaos-%s-toxiproxy", s.RunID),
			Labels:         s.Labels("toxiproxy"),
			ExposedPorts:   ports,
			Networks:       []string{netw},
			NetworkAliases: map[string][]string{netw: {"toxiproxy"}},
			WaitingFor:     wait.ForHTTP("/version").WithPort(tcp(ctl)).WithStartupTimeout(fixtures.Intervals.Cluster.ToxiproxyStart),
		},
		Started: true,
	})
	if err != nil {
		return cluster.MeshAccess{}, fmt.Errorf("starting toxiproxy: %w", err)
	}
	return d.meshAccess(ctx, s, ctr)
}

func tcp(port int) string { return strconv.Itoa(port) + "/tcp" }

// meshAccess finds toxiproxy's published ports (its control API, every
// party's client and metrics links as the harness reaches them) and its
// address on the cluster's network.
func (d *Driver) meshAccess(ctx context.Context, s cluster.Spec, ctr testcontainers.Container) (cluster.MeshAccess, error) {
	var acc cluster.MeshAccess
	host, err := ctr.Host(ctx)
	if err != nil {
		return acc, err
	}
	mapped := func(port int) (string, error) {
		p, err := ctr.MappedPort(ctx, tcp(port))
		if err != nil {
			return "", fmt.Errorf("toxiproxy port %d: %w", port, err)
		}
		return net.JoinHostPort(host, p.Port()), nil
	}
	ctl, _ := s.MeshPorts()
	if acc.Control, err = mapped(ctl); err != nil {
		return acc, err
	}
	for i := 1; i <= s.Topology.N; i++ {
		ce, err := mapped(s.ClientProxyPort(i))
		if err != nil {
			return acc, err
		}
		me, err := mapped(s.MetricsProxyPort(i))
		if err != nil {
			return acc, err
		}
		acc.Client, acc.Metrics = append(acc.Client, ce), append(acc.Metrics, me)
	}
	ins, err := d.dc.ContainerInspect(ctx, ctr.GetContainerID(), client.ContainerInspectOptions{})
	if err != nil {
		return acc, err
	}
	if ns := ins.Container.NetworkSettings; ns != nil {
		for name, ep := range ns.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				acc.Network, acc.PeerAddr = name, ep.IPAddress.String()
			}
		}
	}
	if acc.PeerAddr == "" {
		return acc, errors.New("toxiproxy has no address on the cluster network")
	}
	d.mu.Lock()
	d.netw, d.mesh = acc.Network, acc.PeerAddr
	d.mu.Unlock()
	return acc, nil
}

// extraHosts makes every kms-peer-<j> name resolve to toxiproxy, so all
// party-to-party traffic crosses the mesh.
func (d *Driver) extraHosts(s cluster.Spec) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, h := range s.PeerHosts() {
		out = append(out, h+":"+d.mesh)
	}
	return out
}

// partyRequest is party i's container as the baseline has it.
func (d *Driver) partyRequest(s cluster.Spec, i int) testcontainers.GenericContainerRequest {
	l := s.Labels("party")
	l[labelParty] = strconv.Itoa(i)
	netw := d.network()
	return testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image: s.PartyImage(i), Name: s.PartyName(i),
			Labels:         l,
			Cmd:            s.PartyCommand(nil),
			Networks:       []string{netw},
			NetworkAliases: map[string][]string{netw: {s.PartyHost(i)}},
			ConfigModifier: func(cfg *container.Config) {
				cfg.User = s.Profile.User
				cfg.Hostname = s.PartyHost(i)
			},
			HostConfigModifier: func(h *container.HostConfig) {
				h.Mounts = partyMounts(s, i)
				h.ExtraHosts = d.extraHosts(s)
				// A party that exits with an error is restarted, like a pod:
				// a bad config crash-loops with a climbing restart count.
				h.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyOnFailure}
				h.Resources = engineResources(s.Baseline(i))
			},
			WaitingFor: wait.ForLog(s.Profile.Startup).WithStartupTimeout(fixtures.Intervals.Cluster.PartyStart),
		},
		Started: true,
	}
}

// labelParty is the party number of a party's (and a toolbox's) container.
const labelParty = "org.kmschaos.party"

// StartParty creates party i's container, removing the one there is
// (docker-compose up -d after rm); with wait it returns once the party
// logs that it serves.
func (d *Driver) StartParty(ctx context.Context, s cluster.Spec, i int, args []string, wait bool) (cluster.Workload, error) {
	if err := removeContainer(ctx, d.dc, s.PartyName(i), false); err != nil {
		return nil, err
	}
	req := d.partyRequest(s, i)
	req.Cmd = s.PartyCommand(args)
	if !wait {
		req.WaitingFor = nil
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	if ctr == nil {
		return nil, err
	}
	return newDockerWorkload(d.dc, req.Name, ctr), err
}

// containers lists the run's containers by role.
func (d *Driver) containers(ctx context.Context, run string) (map[string][]container.Summary, error) {
	res, err := d.dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.
		Add("label", cluster.LabelManaged+"=true").Add("label", cluster.LabelRun+"="+run)})
	if err != nil {
		return nil, err
	}
	byRole := map[string][]container.Summary{}
	for _, s := range res.Items {
		byRole[s.Labels[cluster.LabelRole]] = append(byRole[s.Labels[cluster.LabelRole]], s)
	}
	return byRole, nil
}

// Reconnect finds a running cluster's toxiproxy and parties by the run's
// labels.
func (d *Driver) Reconnect(ctx context.Context, s cluster.Spec) (cluster.MeshAccess, []cluster.Workload, error) {
	d.setRun(s)
	byRole, err := d.containers(ctx, s.RunID)
	if err != nil {
		return cluster.MeshAccess{}, nil, err
	}
	if len(byRole["toxiproxy"]) != 1 {
		return cluster.MeshAccess{}, nil, fmt.Errorf("run %s is incomplete: %d toxiproxy containers", s.RunID, len(byRole["toxiproxy"]))
	}
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return cluster.MeshAccess{}, nil, err
	}
	mesh, err := provider.ContainerFromType(ctx, byRole["toxiproxy"][0])
	if err != nil {
		return cluster.MeshAccess{}, nil, fmt.Errorf("attaching to toxiproxy: %w", err)
	}
	acc, err := d.meshAccess(ctx, s, mesh)
	if err != nil {
		return acc, nil, err
	}
	ws := make([]cluster.Workload, s.Topology.N)
	for _, sum := range byRole["party"] {
		i, err := strconv.Atoi(sum.Labels[labelParty])
		if err != nil || i < 1 || i > s.Topology.N || ws[i-1] != nil {
			return acc, nil, fmt.Errorf("run %s: unexpected party container %v", s.RunID, sum.Names)
		}
		ctr, err := provider.ContainerFromType(ctx, sum)
		if err != nil {
			return acc, nil, fmt.Errorf("attaching to party %d: %w", i, err)
		}
		ws[i-1] = newDockerWorkload(d.dc, firstName(sum.Names), ctr)
	}
	for i, w := range ws {
		if w == nil {
			return acc, nil, fmt.Errorf("run %s: party %d has no container (recreate it with Reset from the process that owns it, or remove the run)", s.RunID, i+1)
		}
	}
	return acc, ws, nil
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// Terminate removes every container, volume and network of the run, and
// the images it built unless they are kept or in use. Images handed in
// (WithImages) belong to the caller.
func (d *Driver) Terminate(ctx context.Context) error {
	d.mu.Lock()
	s, ok := d.run, d.ok
	d.mu.Unlock()
	if !ok {
		return nil // nothing made
	}
	var errs []error
	if _, err := Sweep(ctx, d.dc, SweepOptions{Run: s.RunID}); err != nil {
		errs = append(errs, err)
	}
	if !s.Options.KeepImages && s.Options.Images == nil {
		errs = append(errs, RemoveImages(ctx, d.dc, s.Images))
	}
	return errors.Join(errs...)
}

// OperatorCommand is the docker command line for verb on a container.
func (d *Driver) OperatorCommand(name, verb, args string) string {
	return strings.TrimSpace(fmt.Sprintf("docker %s %s %s", verb, name, args))
}

// VolumesSized: every volume is a tmpfs of its own size.
func (d *Driver) VolumesSized() bool { return true }

// BuildImages builds the images on the engine (or finds them unchanged).
func (d *Driver) BuildImages(ctx context.Context, progress func(string)) (cluster.Images, error) {
	return BuildImages(ctx, d.dc, progress)
}
