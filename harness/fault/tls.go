package fault

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// TLS is the kind of the peer-link certificate faults.
const TLS = "tls"

// certPath is where the keeper sees party i's TLS certificate (see
// kms/keygen.CertPath: PRIV-p<i>/TLS/cert.pem in the keys volume).
func certPath(i int) string {
	return path.Join(cluster.VolumePath(i, "keys"), fmt.Sprintf("PRIV-p%d", i), "TLS", "cert.pem")
}

// reissueCert re-issues party i's certificate in the keeper, as the party's
// user, with kms-gen-keys reissue-cert and the given flags, and restarts
// the party so that it presents it. The heal puts the original back.
func reissueCert(name string, i int, flags func(c *cluster.Cluster) []string) Fault {
	return New(name, TLS, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		file := certPath(i)
		orig, err := c.ReadFile(ctx, file)
		if err != nil {
			return nil, fmt.Errorf("saving %s: %w", file, err)
		}
		heal := func(ctx context.Context) error {
			ctx = context.WithoutCancel(ctx)
			if err := c.WriteFile(ctx, file, orig, 0o644); err != nil {
				return err
			}
			return restart(ctx, c, i)
		}
		cmd := append([]string{"kms-gen-keys", "reissue-cert", "--dir", cluster.VolumePath(i, "keys"), "--party", strconv.Itoa(i)}, flags(c)...)
		res, err := c.KeeperExecAs(ctx, c.Profile.User, cmd...)
		if err := res.Check(err, strings.Join(cmd, " ")); err != nil {
			return heal, err
		}
		return heal, c.Party(i).Restart(ctx, fixtures.Intervals.Fault.RestartGrace)
	})
}

// WrongCertIdentity gives party i a certificate for its own key whose CN
// is not its mpc_identity: every peer refuses it, and it refuses them.
func WrongCertIdentity(i int) Fault {
	cn := WrongIdentity(i)
	return reissueCert(fmt.Sprintf("party %d's TLS certificate re-issued with CN %s, not its mpc_identity", i, cn), i, func(*cluster.Cluster) []string {
		return []string{"--identity", cn}
	})
}

// WrongIdentity is the CN WrongCertIdentity issues.
func WrongIdentity(i int) string { return fmt.Sprintf("kms-party-%d-old", i) }

// ExpiredCert gives party i a certificate for its own key, with its right
// CN, whose validity ended yesterday.
func ExpiredCert(i int) Fault {
	return reissueCert(fmt.Sprintf("party %d's TLS certificate expired", i), i, func(c *cluster.Cluster) []string {
		return []string{"--config", c.ConfigPath(i), "--expired"}
	})
}
