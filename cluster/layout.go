package cluster

import (
	"path"
	"strconv"
)

// Where a cluster's storage is: every party's volumes as the keeper
// mounts them (keeperRoot/p<i>/{keys,backup,config}) and as the party
// does (its profile's directories), the golden copy beside them, and the
// cluster's own state. The same on every backend.

// The keeper mounts every party's volumes and does nothing else (a
// container on Docker, a pod on Kubernetes). It keeps the volumes
// mounted, so a party's storage survives its container being stopped,
// killed or recreated (a tmpfs volume is emptied when nothing mounts it),
// and it is the operator's debug pod: the place to read and repair a
// party's storage while the party itself is down or crash-looping.
const keeperRoot = "/vaults"

type volumeKind string

const (
	keysVolume   volumeKind = "keys"
	backupVolume volumeKind = "backup"
	configVolume volumeKind = "config"
)

var volumeKinds = []volumeKind{keysVolume, backupVolume, configVolume}

// The golden copy: what Reset restores, kept in a volume only the keeper
// mounts, laid out like keeperRoot (goldenRoot/p<i>/{keys,backup,config}).
// The harness process holds only public material and digests of it.
const goldenRoot = "/golden"

func goldenPath(i int, k volumeKind) string {
	return path.Join(goldenRoot, "p"+strconv.Itoa(i), string(k))
}

// KeeperPath is where the keeper sees a party's volume.
func KeeperPath(i int, k volumeKind) string {
	return path.Join(keeperRoot, "p"+strconv.Itoa(i), string(k))
}

// VolumePath is where the keeper sees one of party i's volumes: "keys",
// "backup" or "config".
func VolumePath(i int, kind string) string { return KeeperPath(i, volumeKind(kind)) }

func (p Profile) mountPoint(k volumeKind) string {
	switch k {
	case keysVolume:
		return p.KeysDir
	case backupVolume:
		return p.BackupDir
	}
	return p.ConfigDir
}

func keeperConfigPath(p Profile, i int) string {
	return path.Join(KeeperPath(i, configVolume), path.Base(p.ConfigFile))
}

// A cluster keeps what a later process needs to attach to it inside
// itself, never on the host's disk: the golden copy (keys, configs, PRSS)
// is already in the keeper's golden volume, and StatePath beside it holds
// the rest of the handle (topology, profile, options, key id). The
// baseline manifest is not stored at all: it is read again from the
// golden copy, which captureGolden proved identical to it line by line.
const (
	stateDir  = goldenRoot + "/state"
	statePath = stateDir + "/cluster.json"
	// StateDir is where the keeper keeps small records of the cluster's
	// life (the cluster's own description, faults injected by hand): on
	// the golden volume's tmpfs, outside the per-party trees the manifest
	// and the secret scan read.
	StateDir = stateDir
)
