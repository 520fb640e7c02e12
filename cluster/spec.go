package cluster

import (
	"maps"
	"slices"
)

// Spec describes a cluster to its backend: names, images, commands,
// volumes and ports. It holds no secret; the keys are dealt inside the
// keeper after Provision.
type Spec struct {
	RunID    string
	Topology Topology
	Profile  Profile
	Images   Images
	Options  Options
	labels   map[string]string
	baseline func(i int) Resources
	images   func(i int) string // party i's image if not Images.Party (Upgrade)
}

// PartyImage is the image party i runs: Images.Party, or the release it
// was moved to (Cluster.Upgrade).
func (s Spec) PartyImage(i int) string {
	if s.images != nil {
		if im := s.images(i); im != "" {
			return im
		}
	}
	return s.Images.Party
}

// Labels are the labels of everything the run makes, with role.
func (s Spec) Labels(role string) map[string]string {
	l := maps.Clone(s.labels)
	l[LabelRole] = role
	return l
}

// PartyName is the name of party i's workload where the backend names it
// after the run (kmschaos-<run>-p<i>: a container's name).
func (s Spec) PartyName(i int) string { return partyName(s.RunID, i) }

// PartyHost is the name party i is reached by (kms-party-<i>): the mesh's
// upstreams and kms-init dial it.
func (s Spec) PartyHost(i int) string { return partyAlias(i) }

// PeerHosts are the names a party dials its peers by (kms-peer-<j>),
// each of which must resolve to the mesh (MeshAccess.PeerAddr).
func (s Spec) PeerHosts() []string {
	var out []string
	for j := 1; j <= s.Topology.N; j++ {
		out = append(out, peerHost(j))
	}
	return out
}

// Volume is one of a party's stores: its kind (keys, backup, config), where
// the party and the keeper mount it, and its size.
type Volume struct {
	Kind, InParty, InKeeper, Size string
}

// Volumes are party i's stores.
func (s Spec) Volumes(i int) []Volume {
	var out []Volume
	for _, k := range volumeKinds {
		size := s.Options.StorageSize
		if k == configVolume {
			size = "1m"
		}
		out = append(out, Volume{Kind: string(k), InParty: s.Profile.mountPoint(k), InKeeper: KeeperPath(i, k), Size: size})
	}
	return out
}

// KeeperConfigPath is where the keeper sees party i's config.
func (s Spec) KeeperConfigPath(i int) string { return keeperConfigPath(s.Profile, i) }

// GoldenPath is where the keeper mounts the golden store (only it does).
func (s Spec) GoldenPath() string { return goldenRoot }

// KeeperCommand is what the keeper runs: nothing, as root, for ever.
func (s Spec) KeeperCommand() []string { return s.Profile.AdminCmd("hold") }

// KeeperImage is the toolbox image (the operator's debug pod).
func (s Spec) KeeperImage() string {
	if s.Images.Toolbox != "" {
		return s.Images.Toolbox
	}
	return s.Images.Party
}

// PartyCommand is party i's arguments: the profile's, then args.
func (s Spec) PartyCommand(args []string) []string { return slices.Concat(s.Profile.Command, args) }

// Baseline is party i's resources.
func (s Spec) Baseline(i int) Resources { return s.baseline(i) }

// MeshPorts are toxiproxy's control port and every proxy's port.
func (s Spec) MeshPorts() (control int, proxies []int) {
	for i := 1; i <= s.Topology.N; i++ {
		for j := 1; j <= s.Topology.N; j++ {
			if i != j {
				proxies = append(proxies, peerProxyPort(i, j))
			}
		}
		proxies = append(proxies, clientProxyPort(i), metricsProxyPort(i))
	}
	return toxiproxyControlPort(), proxies
}

// ClientProxyPort and MetricsProxyPort are the ports of party i's client
// and metrics links on toxiproxy.
func (s Spec) ClientProxyPort(i int) int { return clientProxyPort(i) }

func (s Spec) MetricsProxyPort(i int) int { return metricsProxyPort(i) }
