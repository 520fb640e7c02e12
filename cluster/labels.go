package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
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
// the runs whose owner is gone.
func OwnerAlive(o string) bool { return ownerAlive(o) }

// ownerAlive tells whether the process that created a resource still runs
// on this host. Resources of another host are left alone.
func ownerAlive(o string) bool {
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
