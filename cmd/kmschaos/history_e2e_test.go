package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/kmschaos/kmschaos/harness/results"
	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// TestRunIsRecorded runs one cheap scenario with 'kmschaos run' on an n=4
// cluster under a label, and finds it in 'kmschaos history': the run with
// its seed, size, label and party image, the scenario's verdict and TTD.
func TestRunIsRecorded(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	run := kc.upDetached()
	db := filepath.Join(t.TempDir(), "results.db")
	const name = "a refused client link is reported as [FAIL] Cannot connect, fast"

	res := kc.run(5*time.Minute, 0, "run", name, "--seed", "7", "--tag", "release=e2e", "--report", t.TempDir(), "--db", db, "--run", run)
	g.Expect(res.Out).To(gbytes.Say(`recorded as run ([0-9a-f]{12}) in ` + regexp.QuoteMeta(db)))
	g.Expect(res.Out).To(gbytes.Say(`all 1 scenarios passed`))
	id := regexp.MustCompile(`recorded as run ([0-9a-f]{12})`).FindSubmatch(res.Out.Contents())[1]

	hist := kc.run(time.Minute, 0, "history", "--db", db, "--label", "release=e2e", "--scenario", name, "--output", "json")
	var got struct {
		Runs      []results.Run
		Scenarios []results.ScenarioHistory
	}
	g.Expect(json.Unmarshal(hist.Out.Contents(), &got)).To(Succeed())
	g.Expect(got.Runs).To(HaveLen(1))
	r := got.Runs[0]
	g.Expect(r.ID).To(Equal(string(id)))
	g.Expect(r.Seed).To(Equal(uint64(7)))
	g.Expect([]int{r.N, r.T, r.Passed, r.Failed}).To(Equal([]int{4, 1, 1, 0}))
	g.Expect(r.Backend).To(Equal("docker"))
	g.Expect(r.Image).To(HavePrefix("kmschaos/party:"))
	g.Expect(r.Commit).To(MatchRegexp(`^[0-9a-f]{40}`))
	g.Expect(got.Scenarios).To(HaveLen(1))
	g.Expect(got.Scenarios[0].Last).To(HaveLen(1))
	v := got.Scenarios[0].Last[0]
	g.Expect(v.Verdict).To(Equal("PASS"))
	g.Expect(v.TTD).To(BeNumerically(">", 0))
	g.Expect(v.TTR).To(BeNumerically(">", 0))

	text := kc.run(time.Minute, 0, "history", "--db", db)
	t.Logf("kmschaos history:\n%s", text.Out.Contents())
	g.Expect(text.Out).To(gbytes.Say(string(id) + `  \S+ \S+  docker      4/1     \S+\s+1/0/0\s+release=e2e`))
	g.Expect(text.Out).To(gbytes.Say(regexp.QuoteMeta(name) + `\n      PASS  TTD \S+\s+TTR \S+\s+run ` + string(id)))
}

// TestRunbookRunIsRecorded runs a shipped runbook with 'runbook run' after
// a kill, and finds it in 'kmschaos history' as a run of one row.
func TestRunbookRunIsRecorded(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	run := kc.upDetached()
	db := filepath.Join(t.TempDir(), "results.db")

	kc.run(time.Minute, 0, "inject", "kill", "--party", "3", "--run", run)
	rb := kc.run(3*time.Minute, 0, "runbook", "run", "runbooks/start-parties.yaml", "--party", "1", "--var", "targets=3", "--tag", "release=e2e", "--db", db, "--run", run)
	g.Expect(rb.Out).To(gbytes.Say(`PASS runbook start-parties`))
	g.Expect(rb.Out).To(gbytes.Say(`recorded as run [0-9a-f]{12} in ` + regexp.QuoteMeta(db)))
	kc.run(2*time.Minute, 0, "heal", "--all", "--run", run)

	hist := kc.run(time.Minute, 0, "history", "--db", db, "--label", "release=e2e", "--section", "runbook run")
	g.Expect(hist.Out).To(gbytes.Say(`docker      4/1     \S+\s+1/0/0\s+release=e2e`))
	g.Expect(hist.Out).To(gbytes.Say(`runbook run\n    runbook start-parties\n      PASS  TTD -\s+TTR \S+\s+run [0-9a-f]{12}`))
}
