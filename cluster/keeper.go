package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"github.com/kmschaos/kmschaos/kms/material"
)

// The keeper is a container that mounts every party's volumes and does
// nothing else. It keeps the tmpfs volumes mounted, so a party's storage
// survives its container being stopped, killed or recreated (a tmpfs
// volume is emptied when nothing mounts it), and it is the operator's
// debug pod: the place to read and repair a party's storage while the
// party itself is down or crash-looping.
const keeperRoot = "/vaults"

type volumeKind string

const (
	keysVolume   volumeKind = "keys"
	backupVolume volumeKind = "backup"
	configVolume volumeKind = "config"
)

var volumeKinds = []volumeKind{keysVolume, backupVolume, configVolume}

func (c *Cluster) volumeName(i int, k volumeKind) string {
	return fmt.Sprintf("kmschaos-%s-p%d-%s", c.RunID, i, k)
}

// KeeperPath is where the keeper sees a party's volume.
func KeeperPath(i int, k volumeKind) string {
	return path.Join(keeperRoot, "p"+strconv.Itoa(i), string(k))
}

func (c *Cluster) mountPoint(k volumeKind) string {
	switch k {
	case keysVolume:
		return c.Profile.KeysDir
	case backupVolume:
		return c.Profile.BackupDir
	}
	return c.Profile.ConfigDir
}

// createVolumes makes every party's size-capped tmpfs volumes.
func (c *Cluster) createVolumes(ctx context.Context, size string) error {
	uid := c.Profile.UID()
	for i := 1; i <= c.Topology.N; i++ {
		for _, k := range volumeKinds {
			sz := size
			if k == configVolume {
				sz = "1m"
			}
			_, err := c.dc.VolumeCreate(ctx, client.VolumeCreateOptions{
				Name: c.volumeName(i, k), Driver: "local", Labels: c.labels("volume"),
				DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": fmt.Sprintf("size=%s,uid=%s,gid=%s,mode=0700", sz, uid, uid)},
			})
			if err != nil {
				return fmt.Errorf("creating volume %s: %w", c.volumeName(i, k), err)
			}
		}
	}
	return nil
}

func (c *Cluster) partyMounts(i int) []mount.Mount {
	var out []mount.Mount
	for _, k := range volumeKinds {
		out = append(out, mount.Mount{Type: mount.TypeVolume, Source: c.volumeName(i, k), Target: c.mountPoint(k)})
	}
	return out
}

func (c *Cluster) keeperMounts() []mount.Mount {
	var out []mount.Mount
	for i := 1; i <= c.Topology.N; i++ {
		for _, k := range volumeKinds {
			out = append(out, mount.Mount{Type: mount.TypeVolume, Source: c.volumeName(i, k), Target: KeeperPath(i, k)})
		}
	}
	return out
}

// goldenTar packs the generated storage and configs of the given parties
// into the keeper's layout, owned by the party's user.
func (c *Cluster) goldenTar(parties ...int) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(src, dst string) error {
		return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			h, err := tar.FileInfoHeader(fi, "")
			if err != nil {
				return err
			}
			h.Name = path.Join(dst, filepath.ToSlash(rel))
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if fi.Mode().IsRegular() {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				_, err = tw.Write(b)
				return err
			}
			return nil
		})
	}
	for _, i := range parties {
		for _, v := range []struct {
			src string
			k   volumeKind
		}{
			{fmt.Sprintf("PUB-p%d", i), keysVolume}, {fmt.Sprintf("PRIV-p%d", i), keysVolume}, {fmt.Sprintf("BACKUP-p%d", i), backupVolume},
		} {
			if err := add(filepath.Join(c.goldenDir, v.src), strings.TrimPrefix(path.Join(KeeperPath(i, v.k), v.src), "/")); err != nil {
				return nil, err
			}
		}
		cfg, err := os.ReadFile(filepath.Join(c.goldenDir, fmt.Sprintf("config-p%d.toml", i)))
		if err != nil {
			return nil, err
		}
		// The config, and a copy of it in the backup volume: the "known
		// good configuration" the guide's configuration recovery restores.
		for _, k := range []volumeKind{configVolume, backupVolume} {
			h := &tar.Header{Name: strings.TrimPrefix(path.Join(KeeperPath(i, k), path.Base(c.Profile.ConfigFile)), "/"),
				Mode: 0o600, Size: int64(len(cfg)), Typeflag: tar.TypeReg}
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
			if _, err := tw.Write(cfg); err != nil {
				return nil, err
			}
		}
	}
	return &buf, tw.Close()
}

// seed copies the golden storage of parties into their (empty) volumes and
// gives it to the party's user (the engine extracts copies as root).
func (c *Cluster) seed(ctx context.Context, parties ...int) error {
	buf, err := c.goldenTar(parties...)
	if err != nil {
		return err
	}
	if _, err = c.dc.CopyToContainer(ctx, c.keeper.GetContainerID(), client.CopyToContainerOptions{DestinationPath: "/", Content: buf}); err != nil {
		return err
	}
	uid := c.Profile.UID()
	cmd := append(append([]string{}, c.Profile.Admin...), "chown", "-R", uid+":"+uid)
	for _, i := range parties {
		for _, k := range volumeKinds {
			cmd = append(cmd, KeeperPath(i, k))
		}
	}
	res, err := c.keeperExec(ctx, cmd...)
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("chown: %s", res.Output())
	}
	return err
}

// Manifest is one line per stored entry of a party: type, mode, owner,
// size, digest, path (see kms-admin manifest).
type Manifest map[int][]string

// manifests reads the manifest of every party's volumes in one exec.
func (c *Cluster) manifests(ctx context.Context) (Manifest, error) {
	res, err := c.keeperExec(ctx, append(append([]string{}, c.Profile.Admin...), "manifest", keeperRoot)...)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("manifest: %s", res.Stderr)
	}
	out := Manifest{}
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || transient(f[5]) {
			continue
		}
		rest := strings.TrimPrefix(f[5], keeperRoot+"/p")
		n, _, _ := strings.Cut(rest, "/")
		i, err := strconv.Atoi(n)
		if err != nil {
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
// (the storage probe of its health monitor) from the stored objects.
func transient(p string) bool {
	base := path.Base(p)
	return strings.HasPrefix(base, ".health-probe") || strings.Contains(base, ".tmp-")
}

// captureGolden completes the golden copy once PRSS is set up: the epoch
// data of every party is copied out of the keeper, and the manifest of all
// volumes becomes the baseline Reset restores.
func (c *Cluster) captureGolden(ctx context.Context) error {
	err := c.EachParty(func(i int) error {
		dir := fmt.Sprintf("PRIV-p%d/%s", i, material.EpochData)
		res, err := c.keeperExec(ctx, append(append([]string{}, c.Profile.Admin...), "cat", path.Join(KeeperPath(i, keysVolume), dir, material.DefaultEpochID))...)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("reading its epoch data: %s", res.Stderr)
		}
		local := filepath.Join(c.goldenDir, filepath.FromSlash(dir))
		if err := os.MkdirAll(local, 0o700); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(local, material.DefaultEpochID), []byte(res.Stdout), 0o600)
	})
	if err != nil {
		return err
	}
	m, err := c.manifests(ctx)
	c.golden = m
	return err
}

// restoreStorage puts a party's golden storage and config back, with the
// golden ownership and modes. The party must not be running.
func (c *Cluster) restoreStorage(ctx context.Context, i int) error {
	var dirs []string
	for _, k := range volumeKinds {
		dirs = append(dirs, KeeperPath(i, k))
	}
	for _, cmd := range [][]string{
		append(append(append([]string{}, c.Profile.Admin...), "empty"), dirs...),
		append(append(append([]string{}, c.Profile.Admin...), "chmod", "700"), dirs...),
	} {
		res, err := c.keeperExec(ctx, cmd...)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("%v: %s", cmd, res.Stderr)
		}
	}
	return c.seed(ctx, i)
}

func (c *Cluster) keeperExec(ctx context.Context, cmd ...string) (ExecResult, error) {
	return execIn(ctx, c.keeper, "0:0", cmd)
}

// KeeperExecAs runs a command in the keeper as another user, e.g. the
// party's, to see storage with its permissions.
func (c *Cluster) KeeperExecAs(ctx context.Context, user string, cmd ...string) (ExecResult, error) {
	return execIn(ctx, c.keeper, user, cmd)
}

// KeeperExec runs a command in the keeper, as root, with every party's
// volumes under /vaults/p<i>/{keys,backup,config}: an operator's debug pod.
func (c *Cluster) KeeperExec(ctx context.Context, cmd ...string) (ExecResult, error) {
	return c.keeperExec(ctx, cmd...)
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
			for _, t := range []string{material.PublicKey, material.VerfKey, material.FheKeyInfo, material.SigningKey} {
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
	r, err := c.keeper.CopyFileFromContainer(ctx, keeperPath)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// WriteFile writes a file through the keeper, owned by the party's user.
func (c *Cluster) WriteFile(ctx context.Context, keeperPath string, data []byte, mode int64) error {
	if err := c.keeper.CopyToContainer(ctx, data, keeperPath, mode); err != nil {
		return err
	}
	uid := c.Profile.UID()
	res, err := c.keeperExec(ctx, append(append([]string{}, c.Profile.Admin...), "chown", uid+":"+uid, keeperPath)...)
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("chown %s: %s", keeperPath, res.Output())
	}
	return err
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
func (c *Cluster) ConfigPath(i int) string {
	return path.Join(KeeperPath(i, configVolume), path.Base(c.Profile.ConfigFile))
}

// BackupConfigPath is the known-good copy of party i's config.
func (c *Cluster) BackupConfigPath(i int) string {
	return path.Join(KeeperPath(i, backupVolume), path.Base(c.Profile.ConfigFile))
}

// VolumePath is where the keeper sees one of party i's volumes: "keys",
// "backup" or "config".
func VolumePath(i int, kind string) string { return KeeperPath(i, volumeKind(kind)) }
