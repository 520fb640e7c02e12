package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// TestRunAndRunbookRun drives 'run' and 'runbook run' against an n=4
// cluster, each a new process: the connectivity scenarios of the catalog
// with the suite's reports; a shipped runbook that needs a declared
// variable, refused (exit 2, no step run) without it and passing with it;
// a runbook that raises a party's memory limit fails the audit unless it
// declares the new baseline, and once declared the audit of a later
// process holds the party to the new limit.
func TestRunAndRunbookRun(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	kmschaos := kc.run
	run := kc.upDetached()

	// The catalog's connectivity scenarios, with the suite's reports.
	dir := t.TempDir()
	start := time.Now()
	res := kmschaos(10*time.Minute, 0, "run", "--label", "connectivity", "--seed", "5", "--report", dir, "--run", run)
	t.Logf("run --label connectivity: %s\n%s", time.Since(start).Round(time.Second), res.Out.Contents())
	g.Expect(res.Out).To(gbytes.Say(`all 5 scenarios passed`))
	var card struct {
		Seed      uint64 `json:"seed"`
		Scenarios []struct {
			Section string `json:"section"`
			Passed  bool   `json:"passed"`
		} `json:"scenarios"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "scorecard.json"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(json.Unmarshal(b, &card)).To(Succeed())
	g.Expect(card.Seed).To(Equal(uint64(5)))
	g.Expect(card.Scenarios).To(HaveLen(5))
	g.Expect(card.Scenarios).To(HaveEach(HaveField("Section", "Connectivity Issues")))
	for _, f := range []string{"scorecard.txt", "report.html", "junit.xml"} {
		g.Expect(filepath.Join(dir, f)).To(BeAnExistingFile())
	}

	// A shipped runbook that declares {{targets}}: without it, exit 2
	// before any step; with it, every step and check passes.
	miss := kmschaos(time.Minute, 2, "runbook", "run", "runbooks/start-parties.yaml", "--party", "1", "--run", run)
	g.Expect(miss.Err).To(gbytes.Say(`needs variables the caller did not supply: targets`))
	g.Expect(string(miss.Out.Contents())).NotTo(ContainSubstring("1. "), "a step ran")
	kmschaos(time.Minute, 0, "inject", "kill", "--party", "3", "--run", run)
	rb := kmschaos(3*time.Minute, 0, "runbook", "run", "runbooks/start-parties.yaml", "--party", "1", "--var", "targets=3", "--run", run)
	g.Expect(rb.Out).To(gbytes.Say(`1\. ok\s+Check pod status and restart count`))
	g.Expect(rb.Out).To(gbytes.Say(`PASS runbook start-parties`))
	kmschaos(2*time.Minute, 0, "heal", "--all", "--run", run) // forgets the record of the kill the runbook undid

	// A new memory limit: a fault left behind unless declared.
	rbs := t.TempDir()
	raise := "name: raise-memory\norigin: repaired\n%sbaseline_line\nsteps:\n  - name: Raise the memory limit\n    engine: {action: update, memory: 320m}\n  - name: Optimal\n    expect: {optimal: true, decrypt: \"{{party}}\"}\n"
	undeclared := filepath.Join(rbs, "undeclared.yaml")
	declared := filepath.Join(rbs, "declared.yaml")
	g.Expect(os.WriteFile(undeclared, []byte(strings.Replace(strings.Replace(raise, "%s", "", 1), "baseline_line\n", "", 1)), 0o644)).To(Succeed())
	g.Expect(os.WriteFile(declared, []byte(strings.Replace(strings.Replace(raise, "%s", "", 1), "baseline_line", "baseline: [memory]", 1)), 0o644)).To(Succeed())
	red := kmschaos(2*time.Minute, 1, "runbook", "run", undeclared, "--party", "2", "--run", run)
	g.Expect(red.Out).To(gbytes.Say(`check FAIL nothing left different from the baseline`))
	g.Expect(red.Out).To(gbytes.Say(`left behind: party 2: resources`))
	kmschaos(2*time.Minute, 0, "heal", "--all", "--run", run)
	green := kmschaos(2*time.Minute, 0, "runbook", "run", declared, "--party", "2", "--run", run)
	g.Expect(green.Out).To(gbytes.Say(`PASS runbook raise-memory`))
	// A later process: the audit holds party 2 to its new limit, and the
	// engine's view says so.
	again := kmschaos(2*time.Minute, 0, "runbook", "run", "runbooks/graceful-restart.yaml", "--party", "2", "--run", run)
	g.Expect(again.Out).To(gbytes.Say(`check ok\s+nothing left different from the baseline`))
}
