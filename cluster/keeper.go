package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/kmschaos/kmschaos/kms/material"
)

// seed makes the storage and config of parties byte-identical copies of
// their golden copy (contents, owners, modes), inside the keeper: at
// bring-up, and whenever Reset repairs a party. The party must not be
// running.
func (c *Cluster) seed(ctx context.Context, parties ...int) error {
	var pairs []string
	for _, i := range parties {
		for _, k := range volumeKinds {
			pairs = append(pairs, goldenPath(i, k), KeeperPath(i, k))
		}
	}
	return c.admin(ctx, "mirror", pairs...)
}

// admin runs a kms-admin command in the keeper, as root.
func (c *Cluster) admin(ctx context.Context, sub string, args ...string) error {
	cmd := c.Profile.AdminCmd(append([]string{sub}, args...)...)
	res, err := c.KeeperExec(ctx, cmd...)
	return res.Check(err, "kms-admin "+sub)
}

// Manifest is one line per stored entry of a party: type, mode, owner,
// size, digest, path (see kms-admin manifest).
type Manifest map[int][]string

// manifests reads the manifest of every party's volumes in one exec, and
// tells the watcher (WatchStorage).
func (c *Cluster) manifests(ctx context.Context) (Manifest, error) {
	m, err := c.manifestOf(ctx, keeperRoot)
	if w := c.watch.Load(); err == nil && w != nil {
		(*w)(ctx, m)
	}
	return m, err
}

// WatchStorage has fn told of every manifest of the parties' storage the
// handle reads from now on — every audit, key check and Reset, and the
// key check after every runbook step — before the caller sees it: what
// the cluster holds at any point, for those that must know every key
// object it ever held (the secret scan). One watcher; nil removes it.
func (c *Cluster) WatchStorage(fn func(ctx context.Context, m Manifest)) {
	if fn == nil {
		c.watch.Store(nil)
		return
	}
	c.watch.Store(&fn)
}

// Storage is the manifest of every party's volumes now, one line per
// entry: type, mode, owner, size, digest, path.
func (c *Cluster) Storage(ctx context.Context) (Manifest, error) { return c.manifests(ctx) }

// manifestOf reads the manifest of a tree laid out like keeperRoot (the
// parties' volumes or their golden copy), with paths as under keeperRoot:
// the two compare line by line.
func (c *Cluster) manifestOf(ctx context.Context, root string) (Manifest, error) {
	res, err := c.keeper.Exec(ctx, "0:0", c.Profile.AdminCmd("manifest", root)...) // a read: no write (c.writes)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("manifest: %s", res.Stderr)
	}
	out := Manifest{}
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || transient(f[5]) || !strings.HasPrefix(f[5], root+"/p") {
			continue
		}
		if root != keeperRoot {
			f[5] = keeperRoot + strings.TrimPrefix(f[5], root)
			line = strings.Join(f, " ")
		}
		rest := strings.TrimPrefix(f[5], keeperRoot+"/p")
		// <root>/p<i> itself is only the keeper's mount parent, in no volume.
		n, _, inVolume := strings.Cut(rest, "/")
		i, err := strconv.Atoi(n)
		if err != nil || !inVolume {
			continue
		}
		out[i] = append(out[i], line)
	}
	for i := range out {
		sort.Strings(out[i])
	}
	return out, nil
}

// transient tells the files a running party writes and removes on its own
// every few seconds — the storage probe of its health monitor,
// ".health-probe", and the temp file its atomic write goes through,
// "..health-probe.partial.<pid>.<seq>" — from the stored objects. Any other
// write's temp file (".<name>.partial.<pid>.<seq>") is not one: it lives only
// inside a write, and one that outlives it — a party killed mid-write — is
// as much a fault left behind as any other stray file.
func transient(p string) bool {
	base := path.Base(p)
	return base == healthProbe || strings.HasPrefix(base, "."+healthProbe+".partial.")
}

// healthProbe is the file the party's health monitor writes into each
// vault (kms/storage Vault.Probe).
const healthProbe = ".health-probe"

// captureGolden completes the golden copy once PRSS is set up: every
// party's epoch data is copied into the golden volume, inside the keeper,
// and the manifest of all volumes becomes the baseline Reset restores. The
// golden copy must then match the parties' storage line by line, or Reset
// would restore something else than the baseline.
func (c *Cluster) captureGolden(ctx context.Context) error {
	var pairs []string
	for i := 1; i <= c.Topology.N; i++ {
		dir := path.Join(fmt.Sprintf("PRIV-p%d", i), material.EpochData)
		pairs = append(pairs, path.Join(KeeperPath(i, keysVolume), dir), path.Join(goldenPath(i, keysVolume), dir))
	}
	if err := c.admin(ctx, "mirror", pairs...); err != nil {
		return err
	}
	m, err := c.manifests(ctx)
	if err != nil {
		return err
	}
	g, err := c.manifestOf(ctx, goldenRoot)
	if err != nil {
		return err
	}
	for i := 1; i <= c.Topology.N; i++ {
		if changed, added := diffManifest(m[i], g[i]); len(changed)+len(added) > 0 {
			return fmt.Errorf("the golden copy of party %d differs from its storage: %v %v", i, changed, added)
		}
	}
	c.golden = m
	return nil
}

// restoreStorage puts a party's golden storage and config back, with the
// golden ownership and modes. The party must not be running.
func (c *Cluster) restoreStorage(ctx context.Context, i int) error {
	if err := c.seed(ctx, i); err != nil {
		return err
	}
	if _, ok := c.driver.(ConfigPublisher); !ok {
		return nil
	}
	config, err := c.ReadFile(ctx, c.ConfigPath(i))
	if err != nil {
		return err
	}
	return c.publishConfig(ctx, i, config)
}

// KeeperExecAs runs a command in the keeper as another user, e.g. the
// party's, to see storage with its permissions.
func (c *Cluster) KeeperExecAs(ctx context.Context, user string, cmd ...string) (ExecResult, error) {
	c.writes.Add(1)
	return c.keeper.Exec(ctx, user, cmd...)
}

// KeeperExec runs a command in the keeper, as root, with every party's
// volumes under /vaults/p<i>/{keys,backup,config}: an operator's debug pod.
func (c *Cluster) KeeperExec(ctx context.Context, cmd ...string) (ExecResult, error) {
	c.writes.Add(1)
	return c.keeper.Exec(ctx, "0:0", cmd...)
}

// KeyMaterial is, per party, "digest path" of every key object (public
// keys, verification keys, key shares, signing keys, in every vault): what
// must be byte-identical to the baseline after any scenario.
func (c *Cluster) KeyMaterial(ctx context.Context) (Manifest, error) {
	m, err := c.manifests(ctx)
	if err != nil {
		return nil, err
	}
	return keyMaterialOf(m), nil
}

// BaselineKeyMaterial is KeyMaterial as recorded at bring-up.
func (c *Cluster) BaselineKeyMaterial() Manifest { return keyMaterialOf(c.golden) }

func keyMaterialOf(m Manifest) Manifest {
	out := Manifest{}
	for i, lines := range m {
		for _, l := range lines {
			f := strings.Fields(l)
			if f[0] != "f" {
				continue
			}
			typ := path.Base(path.Dir(f[5]))
			for _, t := range []string{material.PublicKey, material.VerfKey, material.VerfAddress, material.FheKeyInfo, material.SigningKey} {
				if typ == t {
					out[i] = append(out[i], f[4]+" "+f[5])
				}
			}
		}
	}
	return out
}

// Diff lists the key objects of party i that differ between two manifests.
func (m Manifest) Diff(other Manifest, i int) []string {
	have := map[string]bool{}
	for _, l := range other[i] {
		have[l] = true
	}
	var out []string
	for _, l := range m[i] {
		if !have[l] {
			out = append(out, strings.Fields(l)[1])
		}
	}
	return out
}

// ReadFile reads a file through the keeper (a path under /vaults, see
// KeeperPath), whether or not its party is running.
func (c *Cluster) ReadFile(ctx context.Context, keeperPath string) ([]byte, error) {
	return c.keeper.CopyOut(ctx, keeperPath)
}

// WriteFile writes a file through the keeper, owned by the party's user.
// A party's config is also deployed where the backend keeps it apart
// (ConfigPublisher), so that it is the one the party starts with.
func (c *Cluster) WriteFile(ctx context.Context, keeperPath string, data []byte, mode int64) error {
	c.writes.Add(1)
	if err := c.keeper.CopyIn(ctx, data, keeperPath, mode); err != nil {
		return err
	}
	uid := c.Profile.UID()
	res, err := c.KeeperExec(ctx, c.Profile.AdminCmd("chown", uid+":"+uid, keeperPath)...)
	if err := res.Check(err, "chown "+keeperPath); err != nil {
		return err
	}
	for i := 1; i <= c.Topology.N; i++ {
		if keeperPath == c.ConfigPath(i) {
			return c.publishConfig(ctx, i, data)
		}
	}
	return nil
}

// publishConfig deploys party i's config where the backend keeps it apart
// from the party's volumes; nothing on a backend that does not.
func (c *Cluster) publishConfig(ctx context.Context, i int, data []byte) error {
	pub, ok := c.driver.(ConfigPublisher)
	if !ok {
		return nil
	}
	if err := pub.PublishConfig(ctx, c.spec(), i, data); err != nil {
		return fmt.Errorf("deploying party %d's config: %w", i, err)
	}
	return nil
}

// deployedConfigDrift tells whether party i's deployed config differs from
// its baseline (always false where the config is only in its volume).
func (c *Cluster) deployedConfigDrift(ctx context.Context, i int) (bool, error) {
	pub, ok := c.driver.(ConfigPublisher)
	if !ok {
		return false, nil
	}
	data, err := pub.DeployedConfig(ctx, i)
	if err != nil || data == nil {
		return false, err
	}
	sum, file := sha256.Sum256(data), c.ConfigPath(i)
	for _, l := range c.golden[i] {
		if f := strings.Fields(l); len(f) >= 6 && f[5] == file {
			return f[4] != hex.EncodeToString(sum[:]), nil
		}
	}
	return true, nil // no config in the baseline: whatever is deployed differs
}

// KeyObject is where the keeper sees an object of party i's storage, e.g.
// KeyObject(3, "PRIV", "EpochData", id).
func (c *Cluster) KeyObject(i int, vault, typ, id string) string {
	k := keysVolume
	if vault == "BACKUP" {
		k = backupVolume
	}
	return path.Join(KeeperPath(i, k), fmt.Sprintf("%s-p%d", vault, i), typ, id)
}

// ConfigPath is where the keeper sees party i's config, and BackupConfigPath
// its known-good copy in the backup volume.
func (c *Cluster) ConfigPath(i int) string { return keeperConfigPath(c.Profile, i) }

// BackupConfigPath is the known-good copy of party i's config.
func (c *Cluster) BackupConfigPath(i int) string {
	return path.Join(KeeperPath(i, backupVolume), path.Base(c.Profile.ConfigFile))
}

// StoredFiles lists, per party, the keeper paths of every file of its
// volumes and of its golden copy (which still holds what a fault may have
// overwritten): what a secret scan reads, through ReadFile, into memory.
func (c *Cluster) StoredFiles(ctx context.Context) (map[int][]string, error) {
	out := map[int][]string{}
	for _, root := range []string{keeperRoot, goldenRoot} {
		m, err := c.manifestOf(ctx, root)
		if err != nil {
			return nil, err
		}
		for i, lines := range m {
			for _, l := range lines {
				if f := strings.Fields(l); f[0] == "f" {
					out[i] = append(out[i], root+strings.TrimPrefix(f[5], keeperRoot))
				}
			}
		}
	}
	return out, nil
}
