package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
)

// A rolling upgrade, as the real repository tests it
// (ci/scripts/rolling_upgrade.sh, .github/workflows/rolling-upgrade-testing.yml):
// n-2t parties (5 of 13) moved to the next release, the mixed cluster
// decrypts right, then n-t (9 of 13), and it decrypts right again. Every
// party trusts the old and the next release on its peer links, as after
// the script's first phase (trustedReleases lists both); a party then
// moved to a release nobody trusts is refused by every peer.

// RollingUpgrade is the catalog's own group of these scenarios: the
// guide has nothing on upgrades; their section is the process faults'.
const RollingUpgrade = "Rolling upgrade"

// releases builds (or finds) the next and the untrusted release's images
// at once: each is a link of kms-server, the longest part of a first run.
type releases struct {
	once            sync.Once
	next, untrusted string
	err             error
}

func (r *releases) get(ctx context.Context, c *cluster.Cluster) (next, untrusted string, err error) {
	r.once.Do(func() {
		var errs [2]error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); r.next, errs[0] = c.ReleaseImage(ctx, cluster.NextRelease) }()
		go func() { defer wg.Done(); r.untrusted, errs[1] = c.ReleaseImage(ctx, cluster.UntrustedRelease) }()
		wg.Wait()
		r.err = errors.Join(errs[:]...)
	})
	return r.next, r.untrusted, r.err
}

// resetHeal returns every party to the baseline, its image included:
// what a failed run leaves is undone whatever step it stopped at.
func resetHeal(c *cluster.Cluster) fault.Heal {
	return func(ctx context.Context) error { _, err := c.Reset(ctx); return err }
}

// upgradeWaves moves first, then second, to the next release in batches
// of up to t parties at once, each batch once its parties serve; after
// each wave every party must be Optimal and a fresh value must decrypt
// right through a moved party and through unmoved, a party still on the
// baseline release. The real script upgrades a wave's releases at once
// (ci/scripts/lib/kms_deployment.sh:1092-1098, helm upgrade ... --wait
// in the background for every party, then wait); batches of t keep the
// quorum up while they restart, which one party at a time did too, at
// three restarts' wait instead of nine at n=13.
func upgradeWaves(rel *releases, first, second []int, t, unmoved int) fault.Fault {
	name := fmt.Sprintf("rolling upgrade to %s of parties %v, then %v", cluster.NextRelease, first, second)
	return fault.New(name, fault.Process, append(append([]int{}, first...), second...), func(ctx context.Context, c *cluster.Cluster) (fault.Heal, error) {
		heal := resetHeal(c)
		next, _, err := rel.get(ctx, c)
		if err != nil {
			return heal, err
		}
		var moved []int
		for _, wave := range [][]int{first, second} {
			for batch := range slices.Chunk(wave, max(t, 1)) {
				if err := cluster.Parallel(batch, func(i int) error { return c.Upgrade(ctx, i, next) }); err != nil {
					return heal, err
				}
				moved = append(moved, batch...)
			}
			if err := c.AwaitOptimal(ctx); err != nil {
				return heal, fmt.Errorf("with parties %v on %s: %w", moved, cluster.NextRelease, err)
			}
			if err := probe.Await(ctx, c, fixtures.Intervals.Scenario.DetectWithin, probe.Decrypts(wave[0], unmoved)); err != nil {
				return heal, fmt.Errorf("with parties %v on %s: %w", moved, cluster.NextRelease, err)
			}
		}
		return heal, nil
	})
}

// untrustedRelease moves party k to a release no party trusts.
func untrustedRelease(rel *releases, k int) fault.Fault {
	name := fmt.Sprintf("party %d moved to %s, a release its peers do not trust", k, cluster.UntrustedRelease)
	return fault.New(name, fault.Process, []int{k}, func(ctx context.Context, c *cluster.Cluster) (fault.Heal, error) {
		heal := resetHeal(c)
		_, untrusted, err := rel.get(ctx, c)
		if err != nil {
			return heal, err
		}
		return heal, c.Upgrade(ctx, k, untrusted)
	})
}

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
			rel := &releases{}
			return scenario.Plan{
				Prelude: []fault.Fault{upgradeWaves(rel, first, second, e.T, rogue)},
				Faults:  []fault.Fault{untrustedRelease(rel, rogue)},
				Detect: []probe.Probe{
					// troubleshooting.md > Initial Diagnosis: "curl /version".
					probe.Endpoint(rogue, "/version", 200, "^"+cluster.UntrustedRelease+"$"),
					probe.LogSays(peer, `ERROR .*bundled attestation document validation error for party \S+: Bad certificate: untrusted release hash triple [0-9a-f]{96}, [0-9a-f]{96}, [0-9a-f]{96} in attestation document`),
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
