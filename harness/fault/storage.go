package fault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
)

// admin runs kms-admin in the keeper, the operator's debug pod.
func admin(ctx context.Context, c *cluster.Cluster, args ...string) error {
	res, err := c.KeeperExec(ctx, c.Profile.AdminCmd(args...)...)
	return res.Check(err, "kms-admin "+strings.Join(args, " "))
}

// restart restarts a party so it reads its storage and config again.
func restart(ctx context.Context, c *cluster.Cluster, i int) error {
	return c.Party(i).Restart(ctx, fixtures.Intervals.Fault.RestartGrace)
}

// saved reads a file's bytes, returned for the caller to change, and a
// heal that writes them back and restarts the party so it loads them.
func saved(ctx context.Context, c *cluster.Cluster, i int, file string) ([]byte, Heal, error) {
	orig, err := c.ReadFile(ctx, file)
	if err != nil {
		return nil, nil, fmt.Errorf("saving %s: %w", file, err)
	}
	return orig, func(ctx context.Context) error {
		ctx = context.WithoutCancel(ctx)
		if err := c.WriteFile(ctx, file, orig, 0o600); err != nil {
			return err
		}
		return restart(ctx, c, i)
	}, nil
}

// Object names one stored object of a party.
type Object struct {
	Vault string // PUB, PRIV or BACKUP
	Type  string // material.FheKeyInfo, material.EpochData, ...
	ID    string // "" for the cluster's key (key objects) or the baseline epoch
}

func (o Object) resolve(c *cluster.Cluster, i int) string {
	id := o.ID
	if id == "" {
		id = c.Key.KeyID
		if o.Type == material.EpochData {
			id = material.DefaultEpochID
		}
	}
	return c.KeyObject(i, o.Vault, o.Type, id)
}

func (o Object) String() string { return o.Vault + "/" + o.Type }

// Common objects.
var (
	KeyShare      = Object{Vault: "PRIV", Type: material.FheKeyInfo}
	PublicKey     = Object{Vault: "PUB", Type: material.PublicKey}
	PRSSEpochData = Object{Vault: "PRIV", Type: material.EpochData}
)

// mutate changes one stored object of party i with a kms-admin command and
// restarts the party; the heal puts the original bytes back.
func mutate(name, kind string, i int, o Object, cmd ...string) Fault {
	return New(name, kind, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		file := o.resolve(c, i)
		_, heal, err := saved(ctx, c, i, file)
		if err != nil {
			return nil, err
		}
		if err := admin(ctx, c, append(cmd, file)...); err != nil {
			return heal, err
		}
		return heal, restart(ctx, c, i)
	})
}

// Remove deletes one stored object of party i and restarts it.
func Remove(i int, o Object) Fault {
	kind := Storage
	if o.Type == material.EpochData {
		kind = PRSS
	}
	return mutate(fmt.Sprintf("%s of party %d removed", o, i), kind, i, o, "rm")
}

// Flip flips a byte of one stored object of party i, breaking its digest,
// and restarts the party: it refuses to start, naming the object.
func Flip(i int, o Object) Fault {
	kind := Keys
	if o.Type == material.EpochData {
		kind = PRSS
	}
	return mutate(fmt.Sprintf("%s of party %d corrupted (byte flipped, digest broken)", o, i), kind, i, o, "flip")
}

// CorruptShare changes party i's key share and re-seals its digest: it
// loads, and every decryption share it makes is wrong.
func CorruptShare(i int) Fault {
	return mutate(fmt.Sprintf("key share of party %d corrupted but loadable", i), Keys, i, KeyShare, "corrupt-share")
}

// ScramblePRSS replaces party i's PRSS keys with random ones in a valid
// file: the party starts fine and its PRSS shares are silently wrong.
func ScramblePRSS(i int) Fault {
	m := mutate(fmt.Sprintf("PRSS keys of party %d silently wrong", i), PRSS, i, PRSSEpochData, "scramble-prss")
	// The fault is a party that runs, and serves, with wrong keys: it is
	// in place once the party answers again, not while it still boots
	// (the operations through it would be judged against its restart).
	return New(m.Name(), PRSS, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		heal, err := m.Inject(ctx, c)
		if err != nil {
			return heal, err
		}
		return heal, awaitServing(ctx, c, i)
	})
}

// awaitServing waits until party i answers its health status.
func awaitServing(ctx context.Context, c *cluster.Cluster, i int) error {
	serves := probe.New(fmt.Sprintf("party %d serves again after its restart", i), func(ctx context.Context, c *cluster.Cluster) error {
		_, err := c.Health(ctx, i)
		return err
	})
	return probe.Await(ctx, c, fixtures.Intervals.Fault.ServingWithin, serves)
}

// ForgePublic gives party i the public material of another key under the
// same id: it no longer matches the party's share.
func ForgePublic(i int) Fault {
	return mutate(fmt.Sprintf("public material of party %d does not match its share", i), Keys, i, PublicKey, "forge-public")
}

// KilledMidWrite leaves party i as a SIGKILL in the middle of a key-sized
// write leaves it. The party, as the real KMS, writes an object through
// ".<name>.partial.<pid>.<seq>", fsynced, then renamed into place: killed
// before the rename, it leaves that file and no object. Here the harness
// writes that file — a new key share's, as big as the party's share, named
// for pid 1 (kms-server is its container's entrypoint) — and then SIGKILLs
// the party: the party's own write is over in microseconds, too soon to
// kill it inside one without a debugger. The heal removes the file and
// starts the party.
func KilledMidWrite(i int) Fault {
	return New(fmt.Sprintf("party %d SIGKILLed in a key-sized write, its temp file left (written by the harness)", i), Storage, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		p := c.Party(i)
		share := KeyShare.resolve(c, i)
		var id [32]byte
		rand.Read(id[:])
		key := path.Join(path.Dir(share), hex.EncodeToString(id[:]))
		tmp := path.Join(path.Dir(key), storage.PartialName(path.Base(key), 1, 0))
		heal := func(ctx context.Context) error {
			ctx = context.WithoutCancel(ctx)
			if err := admin(ctx, c, "rm", "-f", tmp); err != nil {
				return err
			}
			return ensureRunning(ctx, p)
		}
		if err := admin(ctx, c, "crash-write", key, "--like", share, "--pid", "1"); err != nil {
			return heal, err
		}
		return heal, p.Kill(ctx)
	})
}

// ChmodOption changes what Chmod does.
type ChmodOption func(*chmodOptions)

type chmodOptions struct{ recursive, restartParty bool }

// Recursive makes Chmod set the mode of everything under the path too.
func Recursive() ChmodOption { return func(o *chmodOptions) { o.recursive = true } }

// RestartParty makes Chmod restart the party afterwards, so the mode
// bites at startup.
func RestartParty() ChmodOption { return func(o *chmodOptions) { o.restartParty = true } }

// Chmod sets the mode of a path of party i's storage (a keeper path under
// /vaults/p<i>). The heal restores the baseline modes (dirs 0700, files
// 0600).
func Chmod(i int, rel string, mode string, opts ...ChmodOption) Fault {
	var o chmodOptions
	for _, opt := range opts {
		opt(&o)
	}
	recursive, restartParty := o.recursive, o.restartParty
	name := fmt.Sprintf("chmod %s %s on party %d", mode, rel, i)
	if recursive {
		name = fmt.Sprintf("chmod -R %s %s on party %d", mode, rel, i)
	}
	return New(name, Storage, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		target := path.Join(cluster.VolumePath(i, "keys"), rel)
		heal := func(ctx context.Context) error {
			ctx = context.WithoutCancel(ctx)
			root := cluster.VolumePath(i, "keys")
			if err := admin(ctx, c, "chmod", "-R", "--type", "d", "700", root); err != nil {
				return err
			}
			if err := admin(ctx, c, "chmod", "-R", "--type", "f", "600", root); err != nil {
				return err
			}
			return ensureRunning(ctx, c.Party(i))
		}
		args := []string{"chmod"}
		if recursive {
			args = append(args, "-R")
		}
		if err := admin(ctx, c, append(args, mode, target)...); err != nil {
			return heal, err
		}
		if restartParty {
			return heal, restart(ctx, c, i)
		}
		return heal, nil
	})
}

// DiskFull fills the filesystem of party i's keys volume to percent.
func DiskFull(i int, percent int) Fault {
	return New(fmt.Sprintf("keys volume of party %d filled to %d%%", i, percent), Storage, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		dir := cluster.VolumePath(i, "keys")
		heal := func(ctx context.Context) error {
			return admin(context.WithoutCancel(ctx), c, "rm", "-f", path.Join(dir, ".kmschaos-filler"))
		}
		if !c.VolumesSized() {
			// Filling a volume that shares its filesystem fills every
			// party's: not the fault the guide describes.
			return func(context.Context) error { return nil }, &cluster.Unsupported{Backend: c.Backend(), Verb: "filling one party's disk",
				Why: "its volumes have no size of their own (hostPath volumes on one filesystem)"}
		}
		return heal, admin(ctx, c, "fill", dir, "--percent", fmt.Sprint(percent))
	})
}

// Mutation changes a config document.
type Mutation struct {
	Name  string
	Apply func(config string, c *cluster.Cluster, i int) string
}

// Config mutations of the guide's start-up failures.
var (
	MalformedTOML = Mutation{"malformed TOML", func(s string, _ *cluster.Cluster, _ int) string { return s + "\n[threshold\n" }}
	UnknownKey    = Mutation{"unknown key", func(s string, _ *cluster.Cluster, _ int) string {
		return strings.Replace(s, "dec_capacity", "dec_capacty", 1)
	}}
	WrongThreshold = Mutation{"t not matching 3t+1", func(s string, c *cluster.Cluster, _ int) string {
		return strings.Replace(s, fmt.Sprintf("threshold = %d", c.Topology.T), fmt.Sprintf("threshold = %d", c.Topology.T-1+2*boolInt(c.Topology.T == 1)), 1)
	}}
	PeerIDTooLarge = Mutation{"peer id greater than n", func(s string, c *cluster.Cluster, _ int) string {
		return strings.Replace(s, fmt.Sprintf("party_id = %d\n", c.Topology.N), fmt.Sprintf("party_id = %d\n", c.Topology.N+1), 1)
	}}
	// PeerRenamed changes, in party i's list only, the mpc_identity of
	// the next party (RenamedPeer): a rename every other party missed.
	PeerRenamed = Mutation{"a peer's mpc_identity changed in this party's list only", func(s string, c *cluster.Cluster, i int) string {
		k := RenamedPeer(i, c.Topology.N)
		return strings.Replace(s, fmt.Sprintf("mpc_identity = 'kms-party-%d'\n", k), fmt.Sprintf("mpc_identity = '%s'\n", RenamedIdentity(k)), 1)
	}}
	SamePorts = Mutation{"service port equal to the party-to-party port", func(s string, c *cluster.Cluster, _ int) string {
		return strings.Replace(s, fmt.Sprintf("listen_port = %d", c.Profile.P2PPort), fmt.Sprintf("listen_port = %d", c.Profile.APIPort), 1)
	}}
	UnbindableAddress = Mutation{"service bound to an address the host lacks", func(s string, _ *cluster.Cluster, _ int) string {
		return strings.Replace(s, "listen_address = '0.0.0.0'", "listen_address = '10.255.255.1'", 1)
	}}
	MissingStoragePath = Mutation{"private storage path missing", func(s string, c *cluster.Cluster, i int) string {
		return strings.Replace(s, fmt.Sprintf("path = '%s'\nprefix = 'PRIV-p%d'", c.Profile.KeysDir, i), fmt.Sprintf("path = '%s/missing'\nprefix = 'PRIV-p%d'", c.Profile.KeysDir, i), 1)
	}}
)

// RenamedPeer is the peer PeerRenamed renames in party i's list.
func RenamedPeer(i, n int) int { return i%n + 1 }

// RenamedIdentity is the mpc_identity PeerRenamed gives peer k.
func RenamedIdentity(k int) string { return fmt.Sprintf("kms-party-%d.renamed", k) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BadConfig writes a mutated config for party i and restarts it: the party
// exits with the validation error and the engine restarts it again and
// again (a crash loop). The heal restores the config.
func BadConfig(i int, m Mutation) Fault {
	return New(fmt.Sprintf("config of party %d: %s", i, m.Name), Config, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		file := c.ConfigPath(i)
		orig, heal, err := saved(ctx, c, i, file)
		if err != nil {
			return nil, err
		}
		bad := m.Apply(string(orig), c, i)
		if bad == string(orig) {
			return heal, fmt.Errorf("mutation %q changed nothing in the config of party %d", m.Name, i)
		}
		if err := c.WriteFile(ctx, file, []byte(bad), 0o600); err != nil {
			return heal, err
		}
		return heal, restart(ctx, c, i)
	})
}

// BackupKeyShare is the backup vault's copy of a party's key share: what
// the guide's Key Material Recovery copies back from /backup/keys.
var BackupKeyShare = Object{Vault: "BACKUP", Type: material.FheKeyInfo}

// FlipBackup flips a byte of the backup copy of one of party i's objects,
// breaking its digest, and leaves the party running: nothing reads the
// backup vault until an operator restores from it. The heal writes the
// original bytes back (no restart: the party never loaded them).
func FlipBackup(i int, o Object) Fault {
	return New(fmt.Sprintf("backup copy %s of party %d corrupted (byte flipped, digest broken)", o, i), Storage, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		file := o.resolve(c, i)
		orig, err := c.ReadFile(ctx, file)
		if err != nil {
			return nil, fmt.Errorf("saving %s: %w", file, err)
		}
		heal := func(ctx context.Context) error {
			return c.WriteFile(context.WithoutCancel(ctx), file, orig, 0o600)
		}
		return heal, admin(ctx, c, "flip", file)
	})
}

// ChmodBackup sets the mode of party i's backup vault (BACKUP-p<i>, the
// guide's /backup/keys) and leaves the party running: nothing reads the
// backup until a restore, a health check or the party's next start (its
// backup-vault sync) does. The heal gives the directory its baseline mode
// back (0700).
func ChmodBackup(i int, mode string) Fault {
	return New(fmt.Sprintf("chmod %s of party %d's backup vault", mode, i), Storage, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		dir := path.Join(cluster.VolumePath(i, "backup"), fmt.Sprintf("BACKUP-p%d", i))
		heal := func(ctx context.Context) error { return admin(context.WithoutCancel(ctx), c, "chmod", "700", dir) }
		return heal, admin(ctx, c, "chmod", mode, dir)
	})
}

// BackupOwnedByRoot gives party i's backup vault to root, modes kept (what
// a copy or restore run as root with cp -a leaves), and restarts the
// party: its user can no longer search the vault, so the backup-vault sync
// at the end of its boot fails and it stops. The heal gives the vault back
// to the party's user.
func BackupOwnedByRoot(i int) Fault {
	return New(fmt.Sprintf("party %d's backup vault owned by root (chown -R 0:0), party restarted", i), Storage, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		dir := path.Join(cluster.VolumePath(i, "backup"), fmt.Sprintf("BACKUP-p%d", i))
		heal := func(ctx context.Context) error {
			ctx = context.WithoutCancel(ctx)
			if err := admin(ctx, c, "chown", "-R", c.Profile.UID()+":"+c.Profile.UID(), dir); err != nil {
				return err
			}
			return ensureRunning(ctx, c.Party(i))
		}
		if err := admin(ctx, c, "chown", "-R", "0:0", dir); err != nil {
			return heal, err
		}
		return heal, restart(ctx, c, i)
	})
}
