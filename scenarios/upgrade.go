package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
)

// A rolling upgrade, as the real repository tests it
// (ci/scripts/rolling_upgrade.sh, .github/workflows/rolling-upgrade-testing.yml):
// n-2t parties (5 of 13) moved to the next release, the mixed cluster
// decrypts right, then n-t (9 of 13), and it decrypts right again. Every
// party trusts the old and the next release on its peer links (the
// script's first phase); a party then moved to a release nobody trusts is
// refused by every peer.

// rollingUpgrade moves first, then second, one party at a time, to the
// next release, waiting after each wave for every party Optimal and a
// right decryption through a moved and an unmoved party; then it moves
// rogue to the release nobody trusts. Its heal returns every party it
// moved to the baseline image.
func rollingUpgrade(first, second []int, rogue int) fault.Fault {
	name := fmt.Sprintf("rolling upgrade of parties %v then %v, then party %d to an untrusted release", first, second, rogue)
	return fault.New(name, fault.Process, []int{rogue}, func(ctx context.Context, c *cluster.Cluster) (fault.Heal, error) {
		moved := []int{}
		heal := func(ctx context.Context) error {
			_, err := c.Reset(ctx) // recreates every party not on the baseline image
			return err
		}
		next, err := c.ReleaseImage(ctx, cluster.NextRelease)
		if err != nil {
			return heal, err
		}
		untrusted, err := c.ReleaseImage(ctx, cluster.UntrustedRelease)
		if err != nil {
			return heal, err
		}
		for _, wave := range [][]int{first, second} {
			for _, i := range wave {
				if err := c.Upgrade(ctx, i, next); err != nil {
					return heal, err
				}
				moved = append(moved, i)
			}
			if err := c.AwaitOptimal(ctx); err != nil {
				return heal, fmt.Errorf("with parties %v on %s: %w", moved, cluster.NextRelease, err)
			}
			if err := probe.Await(ctx, c, upgradeCheckWithin, probe.Decrypts(wave[0], rogue)); err != nil {
				return heal, fmt.Errorf("with parties %v on %s: %w", moved, cluster.NextRelease, err)
			}
		}
		return heal, c.Upgrade(ctx, rogue, untrusted)
	})
}

// upgradeCheckWithin bounds the decryption through the mixed cluster
// after a wave.
const upgradeCheckWithin = 20 * time.Second

// RollingUpgrade is the catalog's own group of these scenarios: the
// guide has nothing on upgrades; their section is the process faults'.
const RollingUpgrade = "Rolling upgrade"

var upgradeScenarios = []scenario.Scenario{
	{
		Name:    "a rolling upgrade (n-2t, then n-t parties) decrypts right throughout; a release the peers do not trust is refused on every link and rolled back",
		Section: ProcessSec, Labels: []string{fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			upgraded := e.Pick(e.N - e.T)
			first, second := upgraded[:e.N-2*e.T], upgraded[e.N-2*e.T:]
			rest := e.Others(upgraded...)
			rogue := rest[e.Rng.IntN(len(rest))]
			peer := e.Others(rogue)[0]
			return scenario.Plan{
				Faults: []fault.Fault{rollingUpgrade(first, second, rogue)},
				Detect: []probe.Probe{
					probe.Endpoint(rogue, "/version", 200, "^"+cluster.UntrustedRelease+"$"),
					probe.LogSays(peer, `ERROR .*bundled attestation document validation error for party \S+: Bad certificate: untrusted release hash triple [0-9a-f]+, [0-9a-f]+, [0-9a-f]+ in attestation document`),
					probe.LogSays(rogue, `Refused party-to-party connection: remote error: tls: bad certificate`),
					probe.HealthStatus(rogue, "Unhealthy"),
					probe.HealthStatus(peer, "Healthy"),
				},
				During: check.Expect{Live: e.Others(rogue), Down: []int{rogue}},
				Target: rogue, Runbooks: []string{"rollback-release", "rollback-upgrade"},
				Vars: map[string]string{"first": list(first), "second": list(second)},
			}
		},
	},
}
