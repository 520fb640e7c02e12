package kmschaos_test

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/toxics"
	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/probe"
)

// detect is how long a detection may take before a spec fails: health
// pings are bounded by 3 s and a health check by 10 s.
var detect = timings.SteadyState.Detect

// eachParty runs fn for every party in parallel; fn asserts with Gomega.
func eachParty(c *cluster.Cluster, fn func(i int)) {
	_ = c.EachParty(func(i int) error {
		defer GinkgoRecover()
		fn(i)
		return nil
	})
}

// holds polls p until it holds, reporting what it last saw.
func holds(ctx context.Context, c *cluster.Cluster, p probe.Probe) func() error {
	return func() error { return p.Check(ctx, c) }
}

var _ = Describe("Steady state", Label("steady-state"), func() {
	var c *cluster.Cluster
	BeforeEach(func(ctx SpecContext) {
		c = env.Cluster()
		_, err := c.Reset(ctx)
		Expect(err).NotTo(HaveOccurred())
	})

	It("grades itself Optimal on every party, from the health check run inside each container", func(ctx SpecContext) {
		eachParty(c, func(i int) {
			r, err := probe.Live(ctx, c, i)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.ExitCode).To(Equal(0), "party %d:\n%s", i, r.Text)
			// The real tool's live overall status is Healthy at best; the
			// party's grade is its context's line.
			Expect(r.Text).To(ContainSubstring("[OK] Overall Status: Healthy - Sufficient majority"), "party %d", i)
			Expect(r.Text).To(ContainSubstring(fmt.Sprintf("Optimal: All %d peers online and reachable", c.Topology.N-1)), "party %d", i)
			Expect(r.Text).To(ContainSubstring(fmt.Sprintf("%d of %d peers reachable", c.Topology.N-1, c.Topology.N-1)))
		})
	})

	It("decrypts right through every party", func(ctx SpecContext) {
		rng := env.Rand(CurrentSpecReport().FullText())
		eachParty(c, func(i int) {
			value := rng.Uint64()
			r, err := oracle.Decrypt(ctx, c, oracle.Request{Party: i, By: "the steady-state spec", Value: &value})
			Expect(err).NotTo(HaveOccurred(), "through party %d", i)
			Expect(r.Value).To(Equal(value), "through party %d", i)
		})
	})
})

var _ = Describe("The link mesh", Label("mesh"), func() {
	var c *cluster.Cluster
	var i, j int
	BeforeEach(func(ctx SpecContext) {
		c = env.Cluster()
		_, err := c.Reset(ctx)
		Expect(err).NotTo(HaveOccurred())
		rng := env.Rand(CurrentSpecReport().FullText())
		i = 1 + rng.IntN(c.Topology.N)
		j = 1 + (i+rng.IntN(c.Topology.N-1))%c.Topology.N
		By(fmt.Sprintf("link %d->%d", i, j))
	})

	It("cuts exactly one direction of one link: party i sees j unreachable and nobody else does", func(ctx SpecContext) {
		link := c.Link(i, j)
		Expect(link.Disable()).To(Succeed())
		DeferCleanup(link.Enable)
		Eventually(holds(ctx, c, probe.PeerUnreachable(i, j, "connection refused"))).WithTimeout(detect).Should(Succeed())
		eachParty(c, func(k int) {
			if k != i && k != j {
				Expect(probe.PeerReachable(k, j).Check(ctx, c)).To(Succeed())
			}
		})
		Expect(probe.PeerReachable(j, i).Check(ctx, c)).To(Succeed(), "the reverse link j->i is its own proxy")
		Expect(link.Enable()).To(Succeed())
		Eventually(holds(ctx, c, probe.PeerReachable(i, j))).WithTimeout(detect).Should(Succeed())
	})

	It("shows a 200 ms latency toxic in the per-peer latency of the health check", func(ctx SpecContext) {
		link := c.Link(i, j)
		Expect(link.AddToxic(toxics.Latency(timings.SteadyState.LinkLatency, 0).Named("latency"))).To(Succeed())
		DeferCleanup(func() error { return link.RemoveToxic("latency") })
		Eventually(holds(ctx, c, probe.PeerLatency(i, j, timings.SteadyState.LinkLatency, timings.SteadyState.LinkLatencyMax))).WithTimeout(detect).Should(Succeed())
		k := 1 + (j % c.Topology.N)
		if k == i {
			k = 1 + (k % c.Topology.N)
		}
		Expect(probe.PeerLatency(i, k, 0, timings.SteadyState.FastLink).Check(ctx, c)).To(Succeed(), "other links stay fast")
		Expect(probe.PeerLatency(j, i, 0, timings.SteadyState.FastLink).Check(ctx, c)).To(Succeed(), "the reverse link stays fast")
	})
})
