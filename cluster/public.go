package cluster

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"path"
	"strings"

	kmsclient "github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
)

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
