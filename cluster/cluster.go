// Package cluster is a threshold KMS cluster as the harness sees it,
// whatever runs it: handles on its parties and links, every link routed
// through toxiproxy. StartOn brings one up on a backend's Driver and
// returns once it reports Optimal, AttachOn finds one again from its
// keeper, Reset returns a used cluster to its baseline, and Terminate
// removes everything it made. The backends are packages of their own
// (cluster/docker, cluster/kube); this one imports neither.
package cluster

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	kmsclient "github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// Cluster is a running cluster.
type Cluster struct {
	Topology Topology
	Profile  Profile
	RunID    string
	Images   Images
	Key      *tss.PublicKey // the cluster's threshold key
	public   *kmsclient.PublicMaterial
	Timings  Timings // how long bring-up took, step by step

	opts  Options
	owner string // the owner label: this process, or detachedOwner
	// driver runs the cluster on its backend.
	driver  Driver
	keyID   string // the key's id, as the state records it
	netName string
	keeper  Shell // every party's storage
	toxiIP  string
	mesh    *Mesh
	parties []*Party

	golden Manifest
	// watch is told of every manifest of the parties' storage this handle
	// reads (WatchStorage).
	watch atomic.Pointer[func(context.Context, Manifest)]
	// baseline holds the parties whose resources a runbook changed on
	// purpose (SetBaseline): their new baseline, kept in the cluster's state.
	baseline         map[int]Resources
	clientEndpoints  []string
	metricsEndpoints []string
	// revisions are, per party moved to another image (Upgrade), the
	// images it ran, oldest first, as a release's helm history.
	revisions   map[int][]string
	revisionsMu sync.Mutex

	// writes counts the calls through this handle that can change a
	// party's files or storage without restarting it (an exec, a copy in,
	// a keeper exec or write, a toolbox): a change of state, restart or
	// resources shows in the parties' State instead. clean is what the
	// last audit or reset that found nothing saw (seenClean).
	writes atomic.Uint64
	clean  atomic.Pointer[cleanMark]
}

// Timings of a bring-up.
type Timings struct {
	Images, Storage, Toxiproxy, Parties, Init, Optimal, Total time.Duration
}

// newCluster is the handle of a new run with options o, before any
// backend made anything of it.
func newCluster(runID string, o Options) *Cluster {
	c := &Cluster{Topology: o.Topology, Profile: o.Profile, RunID: runID, opts: o, owner: owner()}
	if o.Detached {
		c.owner = detachedOwner
	}
	if o.Images != nil {
		c.Images = *o.Images
	}
	return c
}

func (c *Cluster) all() []int {
	out := make([]int, c.Topology.N)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// Client dials party i's API through its client link.
// Every result it returns is verified against the cluster's public
// material: signed by the coordinator's verification key, for this
// request, with t+1 contributors.
func (c *Cluster) Client(i int) (*kmsclient.Client, error) {
	return kmsclient.DialVerified(c.clientEndpoints[i-1], c.public)
}

// ClientProxyAddr is party i's client link as seen on the cluster network
// (toxiproxy:<port>), where an operator's tools in the network reach it.
func (c *Cluster) ClientProxyAddr(i int) string {
	return fmt.Sprintf("toxiproxy:%d", clientProxyPort(i))
}

// PeerProxyAddr is the address party i dials for peer j, by IP: what an
// operator tests with nc when the name does not resolve.
func (c *Cluster) PeerProxyAddr(i, j int) string {
	return net.JoinHostPort(c.toxiIP, strconv.Itoa(peerProxyPort(i, j)))
}

// Party returns the handle of party i (1-based).
func (c *Cluster) Party(i int) *Party { return c.parties[i-1] }

// Parties returns every party.
func (c *Cluster) Parties() []*Party { return c.parties }

// Link returns the proxy of the directed peer link i->j.
func (c *Cluster) Link(i, j int) *Link { return c.mesh.proxy(peerProxyName(i, j)) }

// Mesh is the toxiproxy of the cluster.
func (c *Cluster) Mesh() *Mesh { return c.mesh }

// NetworkName is the cluster's private network.
func (c *Cluster) NetworkName() string { return c.netName }

// ToxiproxyIP is toxiproxy's address where the parties reach it.
func (c *Cluster) ToxiproxyIP() string { return c.toxiIP }

func (c *Cluster) spec() Spec {
	return Spec{RunID: c.RunID, Topology: c.Topology, Profile: c.Profile, Images: c.Images, Options: c.opts,
		labels: c.labels(""), baseline: c.BaselineOf, images: c.partyImage}
}

// PartyName is the container name of party i, what `docker` commands take.
func (c *Cluster) PartyName(i int) string { return partyName(c.RunID, i) }

// PartyNamePrefix is what every party's container name starts with,
// followed by its number.
func (c *Cluster) PartyNamePrefix() string { return partyNamePrefix(c.RunID) }

// PartyHost is the name party i's API answers to on the cluster's network.
func (c *Cluster) PartyHost(i int) string { return partyAlias(i) }
