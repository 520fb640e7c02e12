package kmschaos_test

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

// The survey is one spec per shell block: a red names the block, and the
// blocks spread over the suite's parallel clusters like the scenarios.
var _ = Describe("The guide, as written", Label(GuideLiteral, "diagnostics", "procedure"), func() {
	BeforeEach(skipWithoutToolbox)
	blocks, err := guideShellBlocks()
	if err != nil {
		It("reads the guide's shell blocks", func() { Fail(err.Error()) })
		return
	}
	for _, b := range blocks {
		It(fmt.Sprintf("runs %s (guide line %d) on a party's host, and it does what it did before", b.Address, b.Line), func(ctx SpecContext) {
			surveyBlock(ctx, b.Address)
		}, SpecTimeout(timings.Guide.BlockSpec))
	}
})

// guideShellBlocks lists the shell blocks of the project's guide, while
// the spec tree is built.
func guideShellBlocks() ([]*guide.Node, error) {
	root, err := localcluster.ModuleRoot()
	if err != nil {
		return nil, err
	}
	g, err := guide.ParseFile(filepath.Join(root, "fixtures", "guide", "troubleshooting-guide.md"))
	if err != nil {
		return nil, err
	}
	return literal.ShellBlocks(g), nil
}

// surveyBlock runs one block as written on a healthy party's host and
// compares what it did with what fixtures/guide/literal-expected.yaml
// records (KMSCHAOS_UPDATE_EXPECTED=1 records it instead).
func surveyBlock(ctx SpecContext, addr string) {
	c := env.Cluster()
	_, err := c.Reset(ctx)
	Expect(err).NotTo(HaveOccurred())
	r, exp := literalRunner()
	k := env.Rand("the guide, as written").IntN(c.Topology.N) + 1
	update := os.Getenv("KMSCHAOS_UPDATE_EXPECTED") != ""
	if cfg, _ := GinkgoConfiguration(); update && cfg.ParallelTotal > 1 {
		Fail("KMSCHAOS_UPDATE_EXPECTED=1 rewrites one file from every block's spec: run it on one cluster (KMSCHAOS_PROCS=1, or go test .)")
	}
	o, err := r.Block(ctx, k, addr)
	Expect(err).NotTo(HaveOccurred(), addr)
	rb := o.Report("healthy")
	want, known := exp.For(addr, c.Topology.N)
	var changed []string
	switch {
	case update:
		exp.Set(addr, c.Topology.N, rb.Signature)
		Expect(exp.Write()).To(Succeed())
	case !known:
		rb.Expected = "(nothing recorded)"
		changed = append(changed, fmt.Sprintf("nothing recorded for n=%d; it did: %s", c.Topology.N, rb.Signature))
	case want != rb.Signature:
		rb.Expected = want
		changed = append(changed, fmt.Sprintf("expected %s\n    did      %s", want, rb.Signature))
	}
	for _, cmd := range rb.Commands {
		if cmd.Status == string(literal.Absent) && strings.Contains(cmd.Why, "does not say why") {
			changed = append(changed, cmd.Why)
		}
	}
	// The harness undoes what the block did (a restart, the key
	// recovery's chmod, kms-init's epoch), so that every block runs on a
	// healthy cluster, and says what it found.
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
		Expect(err).NotTo(HaveOccurred(), "resetting after %s", addr)
		rb.After = "the harness reset the cluster: " + secrets.Redact(strings.Join(what, "; "))
	}
	recordGuide(rb)
	Expect(check.Steady(ctx, c)).To(Succeed())
	Expect(changed).To(BeEmpty(), "%s did not do what %s records:\n    %s", addr, exp.File, strings.Join(changed, "\n    "))
}

// skipWithoutToolbox skips a spec that only runs the guide's shell blocks
// on a backend with no operator's toolbox, with the backend's reason.
func skipWithoutToolbox() {
	if err := env.Cluster().ToolboxUnsupported(); err != nil {
		Skip(err.Error())
	}
}
