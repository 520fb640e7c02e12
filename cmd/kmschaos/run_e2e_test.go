package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/kmschaos/kmschaos/harness/results"
	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// TestRunAndRunbookRun drives 'run' and 'runbook run' against an n=4
// cluster, each a new process: the connectivity scenarios of the catalog
// with the suite's reports; a shipped runbook that needs a declared
// variable, refused (exit 2, no step run) without it and passing with it;
// a runbook that raises a party's memory limit fails the audit unless it
// declares the new baseline, and once declared the audit of a later
// process holds the party to the new limit. Both runs are recorded under
// a label and found in 'kmschaos history' (one store each): the run with
// its seed, size, label and party image, a scenario's verdict and TTD;
// the runbook as a run of one row. One cluster for all of it: the
// history checks had two of their own, for the same 'run' and 'runbook
// run' this test drives.
func TestRunAndRunbookRun(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	kmschaos := kc.run
	run := kc.upDetached()

	// The catalog's connectivity scenarios, with the suite's reports.
	dir := t.TempDir()
	db := filepath.Join(t.TempDir(), "results.db")
	start := time.Now()
	res := kmschaos(10*time.Minute, 0, "run", "--label", "connectivity", "--seed", "5", "--tag", "release=e2e", "--report", dir, "--db", db, "--run", run)
	t.Logf("run --label connectivity: %s\n%s", time.Since(start).Round(time.Second), res.Out.Contents())
	g.Expect(res.Out).To(gbytes.Say(`recorded as run ([0-9a-f]{12}) in ` + regexp.QuoteMeta(db)))
	g.Expect(res.Out).To(gbytes.Say(`all 5 scenarios passed`))
	id := regexp.MustCompile(`recorded as run ([0-9a-f]{12})`).FindSubmatch(res.Out.Contents())[1]
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

	// The run in 'kmschaos history': its seed, size, label and party
	// image, and one of its scenarios with its verdict and TTD.
	const name = "a refused client link is reported as [FAIL] Cannot connect, fast"
	hist := kmschaos(time.Minute, 0, "history", "--db", db, "--label", "release=e2e", "--scenario", name, "--output", "json")
	var got struct {
		Runs      []results.Run
		Scenarios []results.ScenarioHistory
	}
	g.Expect(json.Unmarshal(hist.Out.Contents(), &got)).To(Succeed())
	g.Expect(got.Runs).To(HaveLen(1))
	r := got.Runs[0]
	g.Expect(r.ID).To(Equal(string(id)))
	g.Expect(r.Seed).To(Equal(uint64(5)))
	g.Expect([]int{r.N, r.T, r.Passed, r.Failed}).To(Equal([]int{4, 1, 5, 0}))
	g.Expect(r.Backend).To(Equal("docker"))
	g.Expect(r.Image).To(HavePrefix("kmschaos/party:"))
	g.Expect(r.Commit).To(MatchRegexp(`^[0-9a-f]{40}`))
	g.Expect(got.Scenarios).To(HaveLen(1))
	g.Expect(got.Scenarios[0].Last).To(HaveLen(1))
	v := got.Scenarios[0].Last[0]
	g.Expect(v.Verdict).To(Equal("PASS"))
	g.Expect(v.TTD).To(BeNumerically(">", 0))
	g.Expect(v.TTR).To(BeNumerically(">", 0))
	text := kmschaos(time.Minute, 0, "history", "--db", db)
	t.Logf("kmschaos history:\n%s", text.Out.Contents())
	g.Expect(text.Out).To(gbytes.Say(string(id) + `  \S+ \S+  docker      4/1     \S+\s+5/0/0\s+release=e2e`))
	g.Expect(text.Out).To(gbytes.Say(regexp.QuoteMeta(name) + `\n      PASS  TTD \S+\s+TTR \S+\s+run ` + string(id)))

	// A shipped runbook that declares {{targets}}: without it, exit 2
	// before any step; with it, every step and check passes.
	miss := kmschaos(time.Minute, 2, "runbook", "run", "runbooks/start-parties.yaml", "--party", "1", "--run", run)
	g.Expect(miss.Err).To(gbytes.Say(`needs variables the caller did not supply: targets`))
	g.Expect(string(miss.Out.Contents())).NotTo(ContainSubstring("1. "), "a step ran")
	// It is recorded under its label as a run of one row.
	rbdb := filepath.Join(t.TempDir(), "results.db")
	kmschaos(time.Minute, 0, "inject", "kill", "--party", "3", "--run", run)
	rb := kmschaos(3*time.Minute, 0, "runbook", "run", "runbooks/start-parties.yaml", "--party", "1", "--var", "targets=3", "--tag", "release=e2e", "--db", rbdb, "--run", run)
	g.Expect(rb.Out).To(gbytes.Say(`1\. ok\s+Check pod status and restart count`))
	g.Expect(rb.Out).To(gbytes.Say(`PASS runbook start-parties`))
	g.Expect(rb.Out).To(gbytes.Say(`recorded as run [0-9a-f]{12} in ` + regexp.QuoteMeta(rbdb)))
	kmschaos(2*time.Minute, 0, "heal", "--all", "--run", run) // forgets the record of the kill the runbook undid
	rbh := kmschaos(time.Minute, 0, "history", "--db", rbdb, "--label", "release=e2e", "--section", "runbook run")
	g.Expect(rbh.Out).To(gbytes.Say(`docker      4/1     \S+\s+1/0/0\s+release=e2e`))
	g.Expect(rbh.Out).To(gbytes.Say(`runbook run\n    runbook start-parties\n      PASS  TTD -\s+TTR \S+\s+run [0-9a-f]{12}`))

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
