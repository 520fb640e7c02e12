package main

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// haltStatusJSON is the part of 'status --output json' a halt test reads.
type haltStatusJSON struct {
	Parties []struct {
		Party  int    `json:"party"`
		State  string `json:"state"`
		Health string `json:"health"`
	} `json:"parties"`
	Faults []struct {
		ID string `json:"id"`
	} `json:"faults"`
	Halt *struct {
		Cause string    `json:"cause"`
		At    time.Time `json:"at"`
		By    string    `json:"by"`
	} `json:"halt"`
}

// TestHaltByHand pulls the safety lever on an n=4 cluster as an operator
// would, each command a new process: a fault by hand, 'kmschaos halt'
// heals it (every party Optimal again in 'status', which shows the halt),
// a new 'inject' and 'gameday start' are refused with exit 3 naming the
// halt, 'unhalt' lifts it and inject works again. Then the guard rail of
// a fault with --for: a second party killed on top of it beyond t, out of
// reach longer than the grace, and the background heal halts the cluster
// by itself. Bad input first: halt with no cluster, unhalt when not halted.
func TestHaltByHand(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	kmschaos := kc.run

	// No cluster: one line, exit 2, nothing done.
	none := kmschaos(time.Minute, 2, "halt", "--run", "00000000")
	g.Expect(strings.TrimSpace(string(none.Err.Contents()))).To(MatchRegexp(`^Error: no cluster to attach to: run 00000000 is not running[^\n]*$`))
	g.Expect(none.Out.Contents()).To(BeEmpty())

	run := kc.upDetached()
	status := func(g Gomega) haltStatusJSON {
		out, err := exec.Command(kc.bin, "status", "--run", run, "--output", "json").Output()
		g.Expect(err).NotTo(HaveOccurred())
		var st haltStatusJSON
		g.Expect(json.Unmarshal(out, &st)).To(Succeed(), "%s", out)
		return st
	}
	optimal := func(g Gomega, st haltStatusJSON) {
		for _, p := range st.Parties {
			g.Expect(p.State).To(Equal("running"), "party %d", p.Party)
			g.Expect(p.Health).To(Equal("Optimal"), "party %d", p.Party)
		}
	}

	un := kmschaos(time.Minute, 0, "unhalt", "--run", run)
	g.Expect(un.Out).To(gbytes.Say(`cluster ` + run + ` is not halted: nothing to lift`))

	// A fault by hand, then the lever.
	id := strings.TrimSpace(string(kmschaos(time.Minute, 0, "inject", "kill", "--party", "2", "--run", run).Out.Contents()))
	g.Expect(status(g).Parties[1].State).To(Equal("exited"))
	h := kmschaos(3*time.Minute, 0, "halt", "--cause", "drill: the room lost power", "--run", run)
	out := string(h.Out.Contents())
	t.Logf("kmschaos halt:\n%s", out)
	g.Expect(out).To(MatchRegexp(`cluster ` + run + ` halted at \d\d:\d\d:\d\d by person: drill: the room lost power\n`))
	g.Expect(out).To(ContainSubstring("healed " + id + ": "))
	g.Expect(out).To(ContainSubstring("healed everything: the cluster is back to its baseline"))
	st := status(g)
	optimal(g, st)
	g.Expect(st.Faults).To(BeEmpty())
	g.Expect(st.Halt).NotTo(BeNil())
	g.Expect(st.Halt.Cause).To(Equal("drill: the room lost power"))
	g.Expect(st.Halt.By).To(Equal("person"))
	g.Expect(st.Halt.At).To(BeTemporally("~", time.Now(), 3*time.Minute))
	g.Expect(kmschaos(time.Minute, 0, "status", "--run", run).Out).To(gbytes.Say(`HALTED at [0-9-]+ [0-9:]+ by person: drill: the room lost power\nNo fault is injected until 'kmschaos unhalt'`))

	// Refused while halted: exit 3, one line naming the halt; nothing done.
	refusal := `^Error: the cluster is halted \(halted at \d\d:\d\d:\d\d by person: drill: the room lost power\): no fault is injected until ` + "`kmschaos unhalt`" + `$`
	for _, args := range [][]string{
		{"inject", "pause", "--party", "1"},
		{"gameday", "start", "--seed", "1", "--report", t.TempDir()},
	} {
		r := kmschaos(time.Minute, 3, append(args, "--run", run)...)
		g.Expect(strings.TrimSpace(string(r.Err.Contents()))).To(MatchRegexp(refusal), "kmschaos %v", args)
	}
	st = status(g)
	optimal(g, st)
	g.Expect(st.Faults).To(BeEmpty(), "a refused injection left a fault")

	// Lifted: inject works again.
	un = kmschaos(time.Minute, 0, "unhalt", "--run", run)
	g.Expect(un.Out).To(gbytes.Say(`cluster ` + run + `: halt lifted \(it was halted at [0-9:]+ by person: drill: the room lost power\)`))
	g.Expect(status(g).Halt).To(BeNil())
	id = strings.TrimSpace(string(kmschaos(time.Minute, 0, "inject", "pause", "--party", "1", "--run", run).Out.Contents()))
	g.Expect(status(g).Faults).To(ConsistOf(HaveField("ID", id)))
	kmschaos(2*time.Minute, 0, "heal", id, "--run", run)

	// The guard rail of a fault with --for: party 3 killed for 10 minutes
	// with a grace of 3s, then party 4 killed beyond t: more than t parties
	// out of reach, and the fault's background process halts the cluster.
	kmschaos(time.Minute, 0, "inject", "kill", "--party", "3", "--for", "10m", "--grace", "3s", "--run", run)
	kmschaos(time.Minute, 0, "inject", "kill", "--party", "4", "--beyond-threshold", "--run", run)
	g.Eventually(func(g Gomega) {
		st := status(g)
		g.Expect(st.Halt).NotTo(BeNil())
		g.Expect(st.Halt.By).To(Equal("guard"))
		g.Expect(st.Halt.Cause).To(MatchRegexp(`^[234] parties out of reach \(\[[0-9 ]+\]\) for \d+s > grace 3s: more than t=1$`))
		g.Expect(st.Faults).To(BeEmpty())
		optimal(g, st)
	}).WithTimeout(3*time.Minute).WithPolling(2*time.Second).Should(Succeed(), "the guard of the fault with --for did not halt the cluster")
	r := kmschaos(time.Minute, 3, "inject", "pause", "--party", "1", "--run", run)
	g.Expect(string(r.Err.Contents())).To(MatchRegexp(`by guard: \d parties out of reach`))
	g.Expect(kmschaos(time.Minute, 0, "unhalt", "--run", run).Out).To(gbytes.Say(regexp.QuoteMeta("halt lifted")))
}
