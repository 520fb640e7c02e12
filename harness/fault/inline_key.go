package fault

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/kmschaos/kmschaos/cluster"
)

// InlineTLSKey rewrites party i's config with its TLS private key inline
// (a multi-line pem string under [threshold.tls.manual.key] instead of its path), a form
// the config accepts and operators use to ship one file. It is not a
// failure of the party, which is not restarted: it is the ground on which
// a diagnostic that copies config.toml shows whether it leaks. The heal
// puts the file back.
func InlineTLSKey(i int) Fault {
	return New(fmt.Sprintf("party %d's config carries its TLS private key inline", i), Config, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		file := c.ConfigPath(i)
		orig, err := c.ReadFile(ctx, file)
		if err != nil {
			return nil, err
		}
		heal := func(ctx context.Context) error {
			return c.WriteFile(context.WithoutCancel(ctx), file, orig, 0o600)
		}
		rel := fmt.Sprintf("PRIV-p%d/TLS/key.pem", i)
		key, err := c.ReadFile(ctx, path.Join(cluster.VolumePath(i, "keys"), rel))
		if err != nil {
			return nil, fmt.Errorf("party %d has no TLS key to inline: %w", i, err)
		}
		ref := fmt.Sprintf("path = '%s'", path.Join(c.Profile.KeysDir, rel))
		if !strings.Contains(string(orig), ref) {
			return nil, fmt.Errorf("the config of party %d does not name its key as %s", i, ref)
		}
		inline := strings.Replace(string(orig), ref, "pem = '''\n"+strings.TrimRight(string(key), "\n")+"\n'''", 1)
		return heal, c.WriteFile(ctx, file, []byte(inline), 0o600)
	})
}
