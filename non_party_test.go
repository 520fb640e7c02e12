package kmschaos_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/harness/secrets"
	"github.com/kmschaos/kmschaos/scenarios"
)

// Not a scenario of the catalog: an intrusion attempt judged by hand.
var _ = Describe(scenarios.PeerLinkTLS, func() {
	It("a host on the cluster network that is not a party gets no decryption share, and the party logs each refusal", Label("scenario", "threshold-network", fault.TLS), func(ctx SpecContext) {
		c := env.Cluster()
		_, err := c.Reset(ctx)
		Expect(err).NotTo(HaveOccurred())
		rng := env.Rand("non-party p2p caller")
		k := 1 + rng.IntN(c.Topology.N)
		impersonated := 1 + (k % c.Topology.N) // another party's identity, claimed with a self-made certificate
		res := report.Scenario{Name: "a non-party on the cluster network asks for decryption shares", Section: scenarios.Threshold, Kind: "diagnostics",
			Fault: fmt.Sprintf("the keeper calls party %d's DecryptShare as a non-party", k), Parties: []int{k}, Started: time.Now()}
		defer func() { res.Duration = time.Since(res.Started); record(res) }()

		reasons := []string{"handshake", "no_certificate", "unknown_certificate"}
		since := time.Now()
		// The keeper is on the cluster network and is no party: it dials the
		// party's own party-to-party port, not through the mesh.
		out, err := c.KeeperExec(ctx, "kms-admin", "p2p-intrude", fmt.Sprintf("kms-party-%d:%d", k, c.Profile.P2PPort),
			"--identity", "kms-party-"+strconv.Itoa(impersonated))
		Expect(err).NotTo(HaveOccurred())
		res.Steps = append(res.Steps, report.Step{Name: "kms-admin p2p-intrude from the keeper", OK: out.ExitCode == 0, Output: secrets.Redact(out.Output())})
		Expect(out.ExitCode).To(Equal(0), "a non-party was served: %s", out.Output())
		for _, a := range []string{"plaintext: refused", "TLS without a certificate: refused", "TLS with a self-made certificate (CN kms-party-" + strconv.Itoa(impersonated) + "): refused"} {
			Expect(out.Output()).To(ContainSubstring(a))
		}
		res.Detected = true
		// Each attempt is one refusal of its kind, counted by the party.
		Eventually(func() map[string]float64 {
			return refusals(ctx, c, k, since, reasons)
		}).WithContext(ctx).WithTimeout(timings.TLS.RefusalsCountedWithin).Should(SatisfyAll(
			HaveKeyWithValue("handshake", BeNumerically(">=", 1)),
			HaveKeyWithValue("no_certificate", BeNumerically(">=", 1)),
			HaveKeyWithValue("unknown_certificate", BeNumerically(">=", 1)),
		), "party %d's WARN lines of refused party-to-party connections, by reason", k)
		Expect(probe.LogSays(k, `WARN kms_server: Refused party-to-party connection: certificate of subject kms-party-`+strconv.Itoa(impersonated)+` is not the certificate of any party of the cluster`).Check(probe.WithInjectedAt(ctx, since), c)).To(Succeed())
		// The refusals took nothing from the cluster, nor from its keys.
		Expect(c.CheckOptimal(ctx)).To(Succeed())
		res.Recovered = true
		Expect(scenario.JudgeKeys(ctx, c, &res)).To(Succeed())
		res.Passed = true
	})
})

// refusals counts party k's WARN lines of refused party-to-party
// connections since the start, by reason: the real KMS logs each refusal
// and counts none in a metric.
func refusals(ctx context.Context, c *cluster.Cluster, k int, since time.Time, reasons []string) map[string]float64 {
	out := map[string]float64{}
	logs, err := c.Party(k).LogsSince(ctx, since)
	Expect(err).NotTo(HaveOccurred())
	for _, r := range reasons {
		re := regexp.MustCompile(`WARN kms_server: Refused party-to-party connection: [^\n]* reason=` + r + `\b`)
		out[r] = float64(len(re.FindAllString(logs, -1)))
	}
	return out
}
