package cluster

import (
	"context"
)

// Driver is a backend that runs a whole cluster, not one party: it makes
// what a Spec describes (storage, the keeper, the mesh, the parties) and
// removes it. StartOn and AttachOn drive it, so that dealing keys,
// populating the mesh, PRSS set-up, the baseline and the state a later
// process attaches from are the same code on every backend. What only
// some backends offer is an optional interface (ConfigPublisher, Sizer,
// Operator, Scheduler, Builder, PortHolder, Toolboxes): a verb whose
// interface the driver lacks is Unsupported.
type Driver interface {
	// Name is the backend's name ("docker", "kubernetes"), as reports and
	// Unsupported errors give it.
	Name() string
	// Provision creates every party's storage (Spec.Volumes) and the golden
	// store, and starts the keeper with all of them mounted where
	// Spec.KeeperMounts says.
	Provision(ctx context.Context, s Spec) (Shell, error)
	// StartMesh starts toxiproxy where every Spec.PeerHost name and
	// Spec.PartyHost name used by the proxies resolve, with Spec.MeshPorts
	// open, and says how the harness and the parties reach it.
	StartMesh(ctx context.Context, s Spec) (MeshAccess, error)
	// StartParty runs party i (Spec.Party) with args after the profile's
	// command, replacing the one that runs, and with wait returns once it
	// serves its API.
	StartParty(ctx context.Context, s Spec, i int, args []string, wait bool) (Workload, error)
	// Reconnect finds a running cluster's mesh and parties (AttachOn).
	Reconnect(ctx context.Context, s Spec) (MeshAccess, []Workload, error)
	// Terminate removes everything the run made, storage included.
	Terminate(ctx context.Context) error
	// OperatorCommand is the command line an operator types to run verb
	// (exec, logs) on a party's workload named name, with args.
	OperatorCommand(name, verb, args string) string
}

// ConfigPublisher is a driver that deploys each party's config apart from
// its volumes, as Kubernetes does: a ConfigMap from the release's values,
// installed into the config volume when the pod starts. A config edited in
// the volume alone lasts until the party's next start there; the cluster
// deploys every config it writes or restores, and audits the deployed one.
type ConfigPublisher interface {
	// PublishConfig deploys config as party i's; the party starts with it
	// from its next start on.
	PublishConfig(ctx context.Context, s Spec, i int, config []byte) error
	// DeployedConfig is party i's deployed config, nil before it has one.
	DeployedConfig(ctx context.Context, i int) ([]byte, error)
}

// Builder is a backend that builds the images itself when a bring-up is
// given none (the Docker engine). Images it built are the run's:
// Terminate removes them unless kept (Options.KeepImages).
type Builder interface {
	BuildImages(ctx context.Context, progress func(string)) (Images, error)
}

// ReleaseBuilder is a backend that builds the party image of another
// release of the party from the cluster's (Cluster.ReleaseImage).
type ReleaseBuilder interface {
	// BuildRelease returns the image of s.Images.Party with the party
	// built as version, built or found unchanged.
	BuildRelease(ctx context.Context, s Spec, version string) (string, error)
}

// PortHolder is a backend that can make another process own a port a
// party binds at start, the way a leftover process or a sidecar in the
// same pod would (HoldPort).
type PortHolder interface {
	// HoldPort starts a holder listening on port in party i's place (its
	// name and address on the cluster's network) and party i again inside
	// the holder's network namespace, so that every start of the party
	// finds the port taken. It returns the holder (where the party's
	// network is seen from while it crash-loops) and the party's new
	// workload, each as soon as it exists, also when a later step fails.
	HoldPort(ctx context.Context, s Spec, i, port int) (holder Shell, party Workload, err error)
	// RemoveHolder removes the holder whose id a party's
	// State.SharesNetworkOf names.
	RemoveHolder(ctx context.Context, id string) error
}

// Toolboxes is a backend that opens an operator's shell on a party's
// host (OpenToolbox), where the guide's shell blocks run as written.
type Toolboxes interface {
	// OpenToolbox starts a shell of Spec.Images.Toolbox on party i's host,
	// as root, with the party's volumes where the party sees them; with
	// join it shares the party's namespaces while party (its workload)
	// runs.
	OpenToolbox(ctx context.Context, s Spec, i int, party Workload, join bool) (ToolboxShell, error)
}

// ToolboxShell is an open toolbox; Close removes it.
type ToolboxShell interface {
	Shell
	Close(ctx context.Context) error
}

// MeshAccess is where toxiproxy is: its control API and every party's
// client and metrics links as the harness reaches them, and the address
// the parties reach it at (what kms-peer-<j> resolves to).
type MeshAccess struct {
	// Network names where the cluster runs (a namespace).
	Network         string
	Control         string
	PeerAddr        string
	Client, Metrics []string
}

// Sizer is a backend that can tell whether each volume is a filesystem
// of its own, capped at its size.
type Sizer interface {
	VolumesSized() bool
}

// Operator is a backend an operator drives with tools of their own
// machine (kubectl, helm) pointed at the run: Kubernetes.
type Operator interface {
	Operate(ctx context.Context, cmd []string) (ExecResult, error)
}

// Leftovers is a backend on which an operator's tools can leave objects
// that outlive a scenario without touching a party (Kubernetes: the Job
// of a Helm hook, a release whose values still turn the hook on, so that
// its next upgrade runs it again).
type Leftovers interface {
	// Leftovers names each such object; none on a cluster as brought up.
	Leftovers(ctx context.Context) ([]string, error)
	// ClearLeftovers removes them, and returns what it cleared.
	ClearLeftovers(ctx context.Context) ([]string, error)
}

// Scheduler is a backend whose parties a scheduler places on nodes
// (Kubernetes): a party's node can be cordoned and its pod evicted, so
// that the pod that replaces it waits for a node to take it.
type Scheduler interface {
	// Evict cordons the node party i runs on, marking it as the run's,
	// and evicts party i's pod; it returns the node's name.
	Evict(ctx context.Context, i int) (node string, err error)
	// Cordoned lists the nodes the run cordoned that are still cordoned.
	Cordoned(ctx context.Context) ([]string, error)
	// Uncordon makes every node the run cordoned schedulable again, and
	// returns their names.
	Uncordon(ctx context.Context) ([]string, error)
}
