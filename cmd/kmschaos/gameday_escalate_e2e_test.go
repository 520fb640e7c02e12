package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/kmschaos/kmschaos/cluster/docker"
	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// revealedFault is what the test reads of 'gameday reveal --output json'
// to script its players.
type revealedFault struct {
	Kind        string    `json:"kind"`
	Party       int       `json:"party"`
	Link        [2]int    `json:"link"`
	InjectedAt  time.Time `json:"injected_at"`
	RecoveredBy string    `json:"recovered_by"`
}

// TestGameDayEscalation plays a game day on an n=4 cluster with two hidden
// faults on one party X (the budget at t=1): its memory limit too small
// (its operator's to fix) and its connections to party Y refused (the
// network coordinator's). Every command is a new kmschaos process.
//
//   - A wrong escalation, about a party at neither end of the link, is
//     answered "nothing to fix" and changes nothing: the link stays
//     refused. A party out of range is refused in one line, nothing
//     recorded.
//   - The players' correct runbook for the memory fault passes, judged on
//     party X, though the cluster still differs from its baseline (the
//     refused link): that is printed as a note.
//   - The shipped peer-network-recovery, run about Y, escalates: the
//     coordinator acts, the cluster comes back, and the report says the
//     link fault was recovered by the players, through the coordinator,
//     and lists the wrong escalation.
//   - After the end, an escalation is refused in one line.
func TestGameDayEscalation(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	start := time.Now()
	dir := t.TempDir() // before the cluster: the cleanup's abort needs the key in it
	run := kc.upDetached([]string{"gameday", "abort"})
	t.Logf("cluster %s up in %s", run, time.Since(start).Round(time.Second))

	// Seed 4 draws, at n=4, the memory of party 2 and the link 2->4 refused.
	kc.run(time.Minute, 0, "gameday", "start", "--seed", "4", "--faults", "2", "--every", "1s", "--limit", "6m",
		"--kinds", "memory,link-refused", "--report", dir, "--run", run)
	reveal := func(g Gomega) []revealedFault {
		out, err := exec.Command(kc.bin, "gameday", "reveal", "--output", "json", "--run", run).Output()
		g.Expect(err).NotTo(HaveOccurred())
		var r []revealedFault
		g.Expect(json.Unmarshal(out, &r)).To(Succeed())
		return r
	}
	var memory, link revealedFault
	g.Eventually(func(g Gomega) {
		for _, f := range reveal(g) {
			g.Expect(f.InjectedAt).NotTo(BeZero(), "%s not injected yet", f.Kind)
			switch f.Kind {
			case "memory":
				memory = f
			case "link-refused":
				link = f
			}
		}
	}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed())
	g.Expect(memory.Party).NotTo(BeZero())
	g.Expect(link.Link[0]).To(Equal(memory.Party), "both faults on the budget's party")
	x, y := memory.Party, link.Link[1]
	other := 1
	for slices.Contains([]int{x, y}, other) {
		other++
	}
	t.Logf("faults: memory on party %d, link %d->%d refused; %s after start", x, x, y, time.Since(start).Round(time.Second))

	c, err := docker.Attach(context.Background(), run)
	g.Expect(err).NotTo(HaveOccurred())
	refused := func() []string {
		rep, err := c.Audit(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
		return rep.Mesh
	}
	escalations := func() string {
		recs, err := c.Records(context.Background(), "gameday-esc-")
		g.Expect(err).NotTo(HaveOccurred())
		var all []string
		for _, b := range recs {
			all = append(all, string(b))
		}
		return strings.Join(all, "\n")
	}
	g.Expect(refused()).To(ContainElement(ContainSubstring("disabled")))

	// Bad input during the game day: one line, exit 2, nothing recorded.
	bad := kc.run(time.Minute, 2, "gameday", "escalate", "--party", "9", "please", "--run", run)
	g.Expect(strings.TrimSpace(string(bad.Err.Contents()))).To(Equal("Error: --party 9 is out of range: the cluster has parties 1 to 4"))
	g.Expect(escalations()).To(BeEmpty())

	// A wrong escalation: answered, and nothing changes.
	wrong := kc.run(time.Minute, 0, "gameday", "escalate", "--party", strconvI(other), "our peers are slow to answer: please check the network", "--run", run)
	g.Expect(wrong.Out).To(gbytes.Say(`asked at \+[0-9.ms]+: party ` + strconvI(other) + `, "our peers are slow to answer: please check the network"\n`))
	g.Expect(wrong.Out).To(gbytes.Say(`answered at \+[0-9.ms]+: the coordinator found nothing to fix on party ` + strconvI(other) + `'s network\n`))
	g.Expect(refused()).To(ContainElement(ContainSubstring("disabled")), "a wrong escalation healed the link")
	g.Expect(reveal(g)).To(HaveEach(HaveField("RecoveredBy", "")))

	// The players' correct runbook for the memory fault: judged on party
	// X, it passes with the refused link still there, told as a note.
	rb := kc.run(4*time.Minute, 0, "runbook", "run", "runbooks/raise-memory-limit.yaml", "--party", strconvI(x), "--run", run)
	out := string(rb.Out.Contents())
	t.Logf("raise-memory-limit:\n%s", out)
	g.Expect(out).To(ContainSubstring("a game day runs: judged on what it touches, parties [" + strconvI(x) + "]"))
	g.Expect(out).To(ContainSubstring("note: nothing left different from the baseline: the cluster still differs from its baseline (what is hidden while a game day runs); not held against this runbook"))
	g.Expect(out).To(MatchRegexp(`check note nothing left different from the baseline`))
	g.Expect(out).To(ContainSubstring("PASS runbook raise-memory-limit"))
	g.Expect(refused()).To(ContainElement(ContainSubstring("disabled")))

	// The shipped runbook for the network, about Y: its escalate step is
	// the right escalation.
	rb = kc.run(4*time.Minute, 0, "runbook", "run", "runbooks/peer-network-recovery.yaml", "--party", strconvI(y), "--run", run)
	out = string(rb.Out.Contents())
	t.Logf("peer-network-recovery:\n%s", out)
	g.Expect(out).To(MatchRegexp(`ok\s+Contact the network coordinator for cross-party connectivity\s+[0-9.ms]+\s+\[escalate\] party ` + strconvI(y)))
	g.Expect(out).To(ContainSubstring("PASS runbook peer-network-recovery"))
	g.Eventually(func(g Gomega) {
		r := reveal(g)
		g.Expect(r).To(ContainElements(
			And(HaveField("Kind", "memory"), HaveField("RecoveredBy", "players")),
			And(HaveField("Kind", "link-refused"), HaveField("RecoveredBy", "coordinator"))))
	}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed())
	// What the players can read of their escalations: the answers, not
	// the truth.
	g.Expect(escalations()).To(And(ContainSubstring(`"answer":"the coordinator acted on party `+strconvI(y)+`'s network"`),
		Not(ContainSubstring("healed")), Not(ContainSubstring("link-refused"))))

	end := kc.run(3*time.Minute, 0, "gameday", "end", "--run", run)
	report := string(end.Out.Contents())
	t.Logf("report:\n%s", report)
	g.Expect(report).To(MatchRegexp(`\(link-refused on link ` + strconvI(x) + `-` + strconvI(y) + `\)\n(  .*\n)*?  recovered\s+by the players, through the coordinator, [0-9.m]+s after the injection`))
	g.Expect(report).To(MatchRegexp(`\(memory on party ` + strconvI(x) + `\)\n(  .*\n)*?  recovered\s+by the players, [0-9.m]+s after the injection`))
	g.Expect(report).To(ContainSubstring("escalations to the coordinator (2, 1 wrong):"))
	g.Expect(report).To(ContainSubstring("party " + strconvI(other) + `: WRONG: nothing to fix, nothing changed — "our peers are slow to answer: please check the network"`))
	g.Expect(report).To(MatchRegexp(`party ` + strconvI(y) + `: right: the coordinator undid fault \d`))
	g.Expect(report).To(ContainSubstring("raise-memory-limit on party " + strconvI(x) + ": PASS"))
	g.Expect(report).To(ContainSubstring("left on the cluster after the game day: nothing"))

	// After the end: an escalation is no move any more.
	after := kc.run(time.Minute, 2, "gameday", "escalate", "--party", strconvI(y), "please", "--run", run)
	g.Expect(strings.TrimSpace(string(after.Err.Contents()))).To(Equal("Error: no game day is running on cluster " + run +
		": an escalation is a game day's move (outside one, heal a fault injected by hand with 'kmschaos heal')"))
	t.Logf("game day in %s", time.Since(start).Round(time.Second))
}
