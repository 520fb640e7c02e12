package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/guide"
	"github.com/kmschaos/kmschaos/harness/literal"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/secrets"
	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// The guide's shell blocks, run as written through bash on a party's host
// (harness/literal, fixtures/guide/mapping.yaml).

// GuideLiteral is the Ginkgo label of the specs that run the guide's text.
const GuideLiteral = "guide-literal"

// literalRunner loads the project's guide and mapping table for c.
func literalRunner() (*literal.Runner, *literal.Expected) {
	root, err := localcluster.ModuleRoot()
	Expect(err).NotTo(HaveOccurred())
	g, err := guide.ParseFile(filepath.Join(root, "fixtures", "guide", "troubleshooting-guide.md"))
	Expect(err).NotTo(HaveOccurred())
	m, err := literal.LoadMapping(filepath.Join(root, "fixtures", "guide", "mapping.yaml"))
	Expect(err).NotTo(HaveOccurred())
	exp, err := literal.LoadExpected(filepath.Join(root, "fixtures", "guide", "literal-expected.yaml"))
	Expect(err).NotTo(HaveOccurred())
	return &literal.Runner{C: env.Cluster(), Guide: g, Mapping: m,
		Options: literal.Options{Limit: literal.DefaultLimit, Redact: secrets.Mask}}, exp
}

var _ = Describe("The guide, as written", Label(GuideLiteral), func() {
	It("runs every shell block of the guide on a party's host, and each does what it did before", Label("diagnostics", "procedure"), func(ctx SpecContext) {
		c := env.Cluster()
		_, err := c.Reset(ctx)
		Expect(err).NotTo(HaveOccurred())
		r, exp := literalRunner()
		k := env.Rand("the guide, as written").IntN(c.Topology.N) + 1
		update := os.Getenv("KMSCHAOS_UPDATE_EXPECTED") != ""
		var changed []string
		for _, b := range literal.ShellBlocks(r.Guide) {
			By(b.Address)
			o, err := r.Block(ctx, k, b.Address)
			Expect(err).NotTo(HaveOccurred(), b.Address)
			rb := o.Report("healthy")
			want, known := exp.For(b.Address, c.Topology.N)
			switch {
			case update:
				exp.Set(b.Address, c.Topology.N, rb.Signature)
			case !known:
				rb.Expected = "(nothing recorded)"
				changed = append(changed, fmt.Sprintf("%s: nothing recorded for n=%d; it did: %s", b.Address, c.Topology.N, rb.Signature))
			case want != rb.Signature:
				rb.Expected = want
				changed = append(changed, fmt.Sprintf("%s (guide line %d):\n    expected %s\n    did      %s", b.Address, b.Line, want, rb.Signature))
			}
			for _, cmd := range rb.Commands {
				if cmd.Status == string(literal.Absent) && strings.Contains(cmd.Why, "does not say why") {
					changed = append(changed, fmt.Sprintf("%s: %s", b.Address, cmd.Why))
				}
			}
			// The harness undoes what a block did (a restart, the key
			// recovery's chmod, kms-init's epoch), so that each block runs
			// on a healthy cluster, and says what it found.
			rep, aerr := c.Audit(ctx)
			serr := check.Steady(ctx, c)
			switch {
			case aerr == nil && rep.Clean() && serr == nil:
				rb.After = "nothing changed; every party Optimal"
			default:
				var what []string
				if aerr != nil {
					what = append(what, aerr.Error())
				} else if !rep.Clean() {
					what = append(what, rep.String())
				}
				if serr != nil {
					what = append(what, serr.Error())
				}
				_, err := c.Reset(ctx)
				Expect(err).NotTo(HaveOccurred(), "resetting after %s", b.Address)
				rb.After = "the harness reset the cluster: " + secrets.Redact(strings.Join(what, "; "))
			}
			recordGuide(rb)
		}
		if update {
			Expect(exp.Write()).To(Succeed())
		}
		Expect(check.Steady(ctx, c)).To(Succeed())
		Expect(changed).To(BeEmpty(), "the guide's blocks did not do what %s records:\n%s", exp.File, strings.Join(changed, "\n"))
	}, SpecTimeout(timings.Guide.LiteralSpec))
})

// recordGuide adds a block's outcome to the run's guide section.
func recordGuide(b report.GuideBlock) {
	results.mu.Lock()
	defer results.mu.Unlock()
	results.guide = append(results.guide, b)
}
