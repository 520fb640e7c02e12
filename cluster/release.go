package cluster

import (
	"context"
	"fmt"

	"github.com/kmschaos/kmschaos/kms/release"
)

// Releases of the party a rolling upgrade moves between. Every party
// trusts the baseline and the next release on its peer links (kms-gen-keys
// --trusted-release), as after the first phase of the real rolling upgrade
// (ci/scripts/lib/kms_deployment.sh, upgrade_parties: trustedReleases on
// every party lists the old and the new image's PCRs before any image
// moves); UntrustedRelease is one nobody added to that list.
const (
	NextRelease      = "0.15.1"
	UntrustedRelease = "0.16.0"
)

// trustedReleases are the versions every party's config trusts.
var trustedReleases = []string{release.Baseline, NextRelease}

// ReleaseImage is the party image of the cluster's party built as
// version, built once and reused while its sources are unchanged. A
// backend that does not build images refuses it as unsupported.
func (c *Cluster) ReleaseImage(ctx context.Context, version string) (string, error) {
	b, ok := c.driver.(ReleaseBuilder)
	if !ok {
		return "", c.unsupported("building a party image of another release",
			"the backend runs images built beforehand; moving a party to another release is helm upgrade --set image with an image the cluster can pull, which this harness does not push")
	}
	return b.BuildRelease(ctx, c.spec(), version)
}

// Upgrade moves party i to image, keeping its volumes and config: its
// container is created anew from the new image (a StatefulSet's rolling
// update of one pod, a helm upgrade --set image of its release). It
// returns once the party serves its API.
func (c *Cluster) Upgrade(ctx context.Context, i int, image string) error {
	c.revisionsMu.Lock()
	if c.revisions == nil {
		c.revisions = map[int][]string{}
	}
	if len(c.revisions[i]) == 0 {
		c.revisions[i] = []string{c.Images.Party}
	}
	c.revisions[i] = append(c.revisions[i], image)
	c.revisionsMu.Unlock()
	return c.startParty(ctx, i, true)
}

// Rollback moves party i back to the image it ran before its last
// Upgrade (helm rollback to the previous revision), without waiting for
// it to serve. A party never upgraded has nothing to roll back to.
func (c *Cluster) Rollback(ctx context.Context, i int) error {
	c.revisionsMu.Lock()
	revs := c.revisions[i]
	if len(revs) < 2 {
		c.revisionsMu.Unlock()
		return fmt.Errorf("party %d has no previous image to roll back to", i)
	}
	c.revisions[i] = revs[:len(revs)-1]
	c.revisionsMu.Unlock()
	return c.startParty(ctx, i, false)
}

// partyImage is the image party i was moved to, "" for the baseline's.
func (c *Cluster) partyImage(i int) string {
	c.revisionsMu.Lock()
	defer c.revisionsMu.Unlock()
	if revs := c.revisions[i]; len(revs) > 0 {
		return revs[len(revs)-1]
	}
	return ""
}

// forgetRevisions returns party i to the baseline's image at its next
// start (Reset).
func (c *Cluster) forgetRevisions(i int) {
	c.revisionsMu.Lock()
	defer c.revisionsMu.Unlock()
	delete(c.revisions, i)
}

func (c *Cluster) startParty(ctx context.Context, i int, wait bool) error {
	w, err := c.driver.StartParty(ctx, c.spec(), i, nil, wait)
	if w != nil {
		c.parties[i-1].setWorkload(w)
	}
	if err != nil {
		return fmt.Errorf("starting party %d on %s: %w", i, c.spec().PartyImage(i), err)
	}
	return nil
}
