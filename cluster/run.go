package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Labels on everything the harness creates. The owner label lets a later
// run tell a killed run's leftovers (owner process gone) from a live run's.
const (
	LabelManaged = "org.kmschaos"
	LabelRun     = "org.kmschaos.run"
	LabelOwner   = "org.kmschaos.owner" // <hostname>/<pid>
	LabelRole    = "org.kmschaos.role"  // party | toxiproxy | keeper | network | volume | image
)

func newRunID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func owner() string {
	h, _ := os.Hostname()
	return h + "/" + strconv.Itoa(os.Getpid())
}

// detachedOwner marks a cluster meant to outlive its creator.
const detachedOwner = "detached"

func (c *Cluster) labels(role string) map[string]string {
	return map[string]string{LabelManaged: "true", LabelRun: c.RunID, LabelOwner: c.owner, LabelRole: role}
}

// OwnerAlive tells whether the process that created a resource (its
// owner label or annotation) still runs: a sweep of any backend removes
// the runs whose owner is gone. Resources of another host are left alone.
func OwnerAlive(o string) bool {
	if o == detachedOwner {
		return true
	}
	host, pid, ok := strings.Cut(o, "/")
	h, _ := os.Hostname()
	if !ok || host != h {
		return true
	}
	p, err := strconv.Atoi(pid)
	if err != nil {
		return true
	}
	if p == os.Getpid() {
		return true
	}
	err = syscall.Kill(p, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// InputError is what the user must fix, said in one line: a run id that
// names nothing on the backend, no single cluster to attach to, a wrong
// kubeconfig, a namespace that is not a run's. The CLI exits 2 on it, and
// nothing was changed.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// RunList is what 'kmschaos ls' shows of a backend's runs: each run's id
// and owner, then the backend's own columns.
type RunList struct {
	Columns []string // CONTAINERS on Docker; NAMESPACE and AGE on Kubernetes
	Runs    []Run
}

// Run is one run of a RunList.
type Run struct {
	ID, Owner string
	Values    []string // one per RunList.Columns
}

// Has tells whether the list holds run id.
func (l RunList) Has(id string) bool {
	return slices.ContainsFunc(l.Runs, func(r Run) bool { return r.ID == id })
}
