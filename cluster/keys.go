package cluster

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"path"
	"strconv"
	"strings"

	kmsclient "github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
)

// The cluster's key: dealt inside the keeper at bring-up, and its public
// half (the public key, every party's verification key) read back from
// the golden copy, the only key material the harness process holds.

// deal generates the key in the keeper and seeds every party's storage.
func (c *Cluster) deal(ctx context.Context) error {
	if err := c.generate(ctx); err != nil {
		return fmt.Errorf("generating keys: %w", err)
	}
	if err := c.seed(ctx, c.all()...); err != nil {
		return fmt.Errorf("seeding storage: %w", err)
	}
	return nil
}

// generate deals the key inside the keeper, with kms-gen-keys of the party
// image, straight into the golden volume, and lays it out like the
// parties' volumes. The key shares, signing keys and (later) PRSS keys
// thus never touch the host: they exist in tmpfs volumes on the engine,
// which Terminate and Sweep remove with the cluster, and not in a folder
// a killed run leaves behind. Only the public key comes back.
//
// Peers are reached through their proxy: party i dials peer j at
// kms-peer-j (the toxiproxy container, by /etc/hosts) on the port of link
// i->j.
func (c *Cluster) generate(ctx context.Context) error {
	p := c.Profile
	peerAddr, peerPort := "kms-peer-{i}", "2{me:02}{i:02}"
	if c.opts.DirectLinks {
		peerAddr, peerPort = "kms-party-{i}", strconv.Itoa(p.P2PPort)
	}
	gen := path.Join(goldenRoot, "gen")
	res, err := c.KeeperExec(ctx, append(append([]string{}, p.GenKeys...),
		"--parties", strconv.Itoa(c.Topology.N), "--threshold", strconv.Itoa(c.Topology.T), "--out", gen,
		"--storage-path", p.KeysDir, "--backup-path", p.BackupDir,
		"--peer-address-template", peerAddr, "--peer-port-template", peerPort,
		"--p2p-port-template", strconv.Itoa(p.P2PPort), "--service-port-template", strconv.Itoa(p.APIPort),
		"--metrics-address-template", "0.0.0.0:"+strconv.Itoa(p.MetricsPort), "--listen-address", "0.0.0.0",
		"--network-timeout", strconv.Itoa(c.opts.NetworkTimeout), "--straggler-grace-ms", strconv.Itoa(c.opts.StragglerGraceMs),
		"--setup-timeout", strconv.Itoa(c.opts.SetupTimeout),
		"--trusted-release", strings.Join(trustedReleases, ","))...)
	if err != nil {
		return err
	}
	var keyID string
	if res.ExitCode == 0 {
		_, err = fmt.Sscanf(res.Stdout, "Generated key %s", &keyID)
	}
	if res.ExitCode != 0 || err != nil {
		return fmt.Errorf("kms-gen-keys in the keeper: %s", res.Output())
	}
	// Lay out the golden copy like the volumes: the config goes to the
	// config volume and, as the "known good configuration" the guide's
	// configuration recovery restores, to the backup volume.
	var pairs, owned, configs []string
	cfgName := path.Base(p.ConfigFile)
	for i := 1; i <= c.Topology.N; i++ {
		cfg := path.Join(gen, fmt.Sprintf("config-p%d.toml", i))
		pairs = append(pairs,
			path.Join(gen, fmt.Sprintf("PUB-p%d", i)), path.Join(goldenPath(i, keysVolume), fmt.Sprintf("PUB-p%d", i)),
			path.Join(gen, fmt.Sprintf("PRIV-p%d", i)), path.Join(goldenPath(i, keysVolume), fmt.Sprintf("PRIV-p%d", i)),
			path.Join(gen, fmt.Sprintf("BACKUP-p%d", i)), path.Join(goldenPath(i, backupVolume), fmt.Sprintf("BACKUP-p%d", i)),
			cfg, path.Join(goldenPath(i, configVolume), cfgName),
			cfg, path.Join(goldenPath(i, backupVolume), cfgName))
		owned = append(owned, path.Join(goldenRoot, "p"+strconv.Itoa(i)))
		configs = append(configs, path.Join(goldenPath(i, configVolume), cfgName), path.Join(goldenPath(i, backupVolume), cfgName))
	}
	uid := p.UID()
	for _, step := range []struct {
		sub  string
		args []string
	}{
		{"mirror", pairs},
		{"rm", []string{"-r", gen}},
		{"chown", append([]string{"-R", uid + ":" + uid}, owned...)},
		{"chmod", append([]string{"700"}, owned...)},
		{"chmod", append([]string{"600"}, configs...)},
	} {
		if err := c.admin(ctx, step.sub, step.args...); err != nil {
			return err
		}
	}
	if err := c.loadPublic(ctx, keyID); err != nil {
		return err
	}
	if c.Key.N != c.Topology.N || c.Key.T != c.Topology.T || c.Key.KeyID != keyID {
		return fmt.Errorf("the dealt key %s is for n=%d t=%d", c.Key.KeyID, c.Key.N, c.Key.T)
	}
	return nil
}

// loadPublic reads the cluster's public key and verification keys from
// the golden copy, as generate did at bring-up.
func (c *Cluster) loadPublic(ctx context.Context, keyID string) error {
	raw, err := c.ReadFile(ctx, path.Join(goldenPath(1, keysVolume), "PUB-p1", material.PublicKey, keyID))
	if err != nil {
		return fmt.Errorf("reading the public key: %w", err)
	}
	pub, err := storage.Open("PUB-p1/"+material.PublicKey+"/"+keyID, material.PublicKey, keyID, raw)
	if err != nil {
		return err
	}
	if c.Key, err = material.DecodePublicKey(pub); err != nil {
		return err
	}
	verf, err := c.loadVerfKeys(ctx)
	if err != nil {
		return fmt.Errorf("reading the verification keys: %w", err)
	}
	c.public = &kmsclient.PublicMaterial{Key: c.Key, VerfKeys: verf}
	return nil
}

// loadVerfKeys reads every party's result-signing verification key from
// the golden copy: public material, kept in memory so that every client
// the harness dials verifies every decryption result it gets (a result
// signed by no party of the cluster is refused, not believed).
func (c *Cluster) loadVerfKeys(ctx context.Context) (map[int]ed25519.PublicKey, error) {
	var dirs []string
	for i := 1; i <= c.Topology.N; i++ {
		dirs = append(dirs, path.Join(goldenPath(i, keysVolume), fmt.Sprintf("PUB-p%d", i), material.VerfKey))
	}
	ls, err := c.KeeperExec(ctx, c.Profile.AdminCmd(append([]string{"ls"}, dirs...)...)...)
	if err != nil {
		return nil, err
	}
	if ls.ExitCode != 0 {
		return nil, fmt.Errorf("listing the verification keys: %s", ls.Output())
	}
	type file struct {
		party int
		path  string
	}
	var files []file
	for _, line := range strings.Split(strings.TrimSpace(ls.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "d") {
			continue
		}
		p := f[len(f)-1]
		var i int
		if _, err := fmt.Sscanf(path.Base(path.Dir(path.Dir(p))), "PUB-p%d", &i); err != nil {
			return nil, fmt.Errorf("unexpected verification key path %s", p)
		}
		files = append(files, file{i, p})
	}
	keys := map[int]ed25519.PublicKey{}
	for _, f := range files {
		raw, err := c.ReadFile(ctx, f.path)
		if err != nil {
			return nil, err
		}
		id := path.Base(f.path)
		data, err := storage.Open(fmt.Sprintf("PUB-p%d/%s/%s", f.party, material.VerfKey, id), material.VerfKey, id, bytes.TrimSpace(raw))
		if err != nil {
			return nil, err
		}
		k, err := material.DecodeVerfKey(data)
		if err != nil {
			return nil, err
		}
		keys[f.party] = k
	}
	if len(keys) != c.Topology.N {
		return nil, fmt.Errorf("found the verification keys of %d of %d parties", len(keys), c.Topology.N)
	}
	return keys, nil
}

// PublicMaterial is what a client of this cluster verifies results with.
func (c *Cluster) PublicMaterial() *kmsclient.PublicMaterial { return c.public }
