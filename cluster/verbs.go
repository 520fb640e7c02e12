package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// The cluster-wide verbs, each answered by the cluster's Driver, or by
// one of its optional interfaces: one a driver lacks is Unsupported.

// Backend is the name of the backend the cluster runs on.
func (c *Cluster) Backend() string { return c.driver.Name() }

// OperatorCommand is the command line an operator types to run verb
// (exec, logs) on party i's workload with args: docker exec, kubectl exec.
func (c *Cluster) OperatorCommand(i int, verb, args string) string {
	return c.driver.OperatorCommand(c.Party(i).Name, verb, args)
}

// VolumesSized tells whether every party's volume is its own filesystem,
// capped at its size (a tmpfs volume on Docker, a provisioned volume on
// Kubernetes), so that filling one fills only that one.
func (c *Cluster) VolumesSized() bool {
	s, ok := c.driver.(Sizer)
	return ok && s.VolumesSized()
}

// Operate runs an operator's tool (kubectl, helm) on this machine against
// the cluster, as the operator's own context would: the run's cluster and
// namespace. A backend with no such tools (Docker) refuses it as
// unsupported, which a scenario reports as skipped.
func (c *Cluster) Operate(ctx context.Context, cmd ...string) (ExecResult, error) {
	// kubectl exec or cp, or a helm upgrade, can change a party's files
	// or its deployed config without restarting it: a write.
	c.writes.Add(1)
	if op, ok := c.driver.(Operator); ok {
		return op.Operate(ctx, cmd)
	}
	return ExecResult{}, c.OperateUnsupported(cmd[:min(1, len(cmd))]...)
}

// ReleaseName is party i's Helm release on Kubernetes (and its
// StatefulSet's name), as an operator names it in helm and kubectl
// commands: kms-threshold-<i>, one release per party.
func ReleaseName(i int) string { return releasePrefix + strconv.Itoa(i) }

// ReleaseParty is the party whose release name is, if it is a party's.
func ReleaseParty(name string) (int, bool) {
	i, err := strconv.Atoi(strings.TrimPrefix(name, releasePrefix))
	return i, err == nil && i > 0 && ReleaseName(i) == name
}

const releasePrefix = "kms-threshold-"

// OperateUnsupported is why Operate cannot run tool (kubectl, helm) on
// this cluster's backend, or nil when it can: asked before a scenario
// injects anything that needs it.
func (c *Cluster) OperateUnsupported(tool ...string) error {
	if _, ok := c.driver.(Operator); ok {
		return nil
	}
	return c.unsupported("running "+strings.Join(tool, ""), "kubectl and helm steps act on a Kubernetes cluster")
}

// unsupported is the error of a cluster-wide verb the cluster's backend
// does not offer.
func (c *Cluster) unsupported(verb, why string) error {
	return &Unsupported{Backend: c.Backend(), Verb: verb, Why: why}
}

// Evict cordons the node party i runs on and evicts the party's pod
// (kubectl drain, for one pod); it returns the node's name. A backend
// with no scheduler (Docker) refuses it as unsupported.
func (c *Cluster) Evict(ctx context.Context, i int) (string, error) {
	if s, ok := c.driver.(Scheduler); ok {
		return s.Evict(ctx, i)
	}
	return "", c.unsupported("evicting a party from its node", "the backend has no scheduler: a party runs where the backend started it, and there is no node to cordon")
}

// Uncordon makes every node the run cordoned schedulable again and
// returns their names; on a backend with no scheduler there is none.
func (c *Cluster) Uncordon(ctx context.Context) ([]string, error) {
	if s, ok := c.driver.(Scheduler); ok {
		return s.Uncordon(ctx)
	}
	return nil, nil
}

// cordoned lists the nodes the run cordoned, for the audit.
func (c *Cluster) cordoned(ctx context.Context) ([]string, error) {
	if s, ok := c.driver.(Scheduler); ok {
		return s.Cordoned(ctx)
	}
	return nil, nil
}

func (c *Cluster) leftovers(ctx context.Context) ([]string, error) {
	if l, ok := c.driver.(Leftovers); ok {
		return l.Leftovers(ctx)
	}
	return nil, nil
}

func (c *Cluster) clearLeftovers(ctx context.Context) ([]string, error) {
	if l, ok := c.driver.(Leftovers); ok {
		return l.ClearLeftovers(ctx)
	}
	return nil, nil
}

// Recreate creates party i's container anew from the cluster's definition
// (docker-compose up -d after rm), removing the old one if it is still
// there. It does not wait for the party to be ready.
func (c *Cluster) Recreate(ctx context.Context, i int) error { return c.recreate(ctx, i, nil) }

func (c *Cluster) recreate(ctx context.Context, i int, args []string) error {
	w, err := c.driver.StartParty(ctx, c.spec(), i, args, false)
	if err != nil {
		return fmt.Errorf("recreating party %d: %w", i, err)
	}
	c.parties[i-1].setWorkload(w)
	return nil
}

// Terminate removes everything the run made: every container, volume and
// network of the cluster (a namespace on Kubernetes), and the images the
// backend built for it unless they are kept (WithKeptImages) or in use.
func (c *Cluster) Terminate(ctx context.Context) error { return c.driver.Terminate(ctx) }

// RecreateWith creates party i's container anew like Recreate, with extra
// arguments for kms-server after the baseline's (the meta-specs' lying
// coordinator). Recreate returns it to the baseline.
func (c *Cluster) RecreateWith(ctx context.Context, i int, args ...string) error {
	return c.recreate(ctx, i, args)
}
