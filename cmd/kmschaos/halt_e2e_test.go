package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

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
// by itself. A game day whose background process is dead: the lever heals
// its hidden fault and ends it, halted, its report saying so. A 'kmschaos
// run' in progress: it stops on the halt, heals and exits 3. Bad input
// first: halt with no cluster, unhalt when not halted.
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

	// A game day whose background process is dead: the lever heals its
	// hidden fault all the same and, pulled by the facilitator, ends it.
	dir := t.TempDir()
	kmschaos(time.Minute, 0, "gameday", "start", "--seed", "5", "--faults", "1", "--every", "1s", "--limit", "10m", "--kinds", "kill", "--report", dir, "--run", run)
	var gd struct {
		State    string `json:"state"`
		Injected int    `json:"injected"`
		PID      int    `json:"runner_pid"`
		Halt     *struct {
			Cause string `json:"cause"`
			By    string `json:"by"`
		} `json:"halt"`
	}
	gdStatus := func(g Gomega) {
		out, err := exec.Command(kc.bin, "gameday", "status", "--output", "json", "--run", run).Output()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(json.Unmarshal(out, &gd)).To(Succeed())
	}
	g.Eventually(func(g Gomega) {
		gdStatus(g)
		g.Expect(gd.Injected).To(Equal(1))
	}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed())
	g.Expect(syscall.Kill(gd.PID, syscall.SIGKILL)).To(Succeed())
	g.Eventually(func() error { return syscall.Kill(gd.PID, 0) }).WithTimeout(30 * time.Second).Should(MatchError(syscall.ESRCH))
	h = kmschaos(3*time.Minute, 0, "halt", "--cause", "the runner died", "--run", run)
	g.Expect(h.Out).To(gbytes.Say(`game day \w+ ended, halted; its report says so`))
	gdStatus(g)
	g.Expect(gd.State).To(Equal("halted"))
	g.Expect(gd.Halt).NotTo(BeNil())
	g.Expect(gd.Halt.Cause).To(Equal("the runner died"))
	reports, err := filepath.Glob(filepath.Join(dir, "gameday-*.txt"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(reports).To(HaveLen(1))
	b, err := os.ReadFile(reports[0])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(b)).To(MatchRegexp(`\nHALTED \+[0-9.ms]+ by person: the runner died\n`))
	g.Expect(string(b)).To(MatchRegexp(`recovered\s+NOT RECOVERED: healed by the harness`))
	g.Eventually(func(g Gomega) { optimal(g, status(g)) }).WithTimeout(time.Minute).WithPolling(2 * time.Second).Should(Succeed())
	kmschaos(time.Minute, 0, "unhalt", "--run", run)

	// A 'kmschaos run' in progress stops when the lever is pulled: it
	// heals, says HALTED and exits 3; a new run is refused (exit 3).
	rs := kc.start("run", "t parties killed: the cluster stays correct and live; starting them recovers", "--seed", "1", "--report", t.TempDir(), "--run", run)
	g.Eventually(rs.Out).WithTimeout(time.Minute).Should(gbytes.Say(`1/1 t parties killed`))
	kmschaos(3*time.Minute, 0, "halt", "--cause", "stop the run", "--run", run)
	g.Eventually(rs).WithTimeout(3*time.Minute).Should(gexec.Exit(3), "run did not stop on the halt:\n%s\n%s", rs.Out.Contents(), rs.Err.Contents())
	t.Logf("kmschaos run, halted:\n%s", rs.Out.Contents())
	g.Expect(string(rs.Out.Contents())).To(MatchRegexp(`FAIL t parties killed[^\n]*\n\s+stopped by the halt, its faults healed: `), "the scenario was not stopped")
	g.Expect(string(rs.Out.Contents())).To(MatchRegexp(`HALTED after 1 of 1 scenarios: halted at [0-9:]+ by person: stop the run; everything healed`))
	g.Eventually(func(g Gomega) { optimal(g, status(g)) }).WithTimeout(time.Minute).WithPolling(2 * time.Second).Should(Succeed())
	again := kmschaos(time.Minute, 3, "run", "t parties killed: the cluster stays correct and live; starting them recovers", "--report", t.TempDir(), "--run", run)
	g.Expect(strings.TrimSpace(string(again.Err.Contents()))).To(MatchRegexp(`^Error: the cluster is halted \(halted at [0-9:]+ by person: stop the run\)`))
	kmschaos(time.Minute, 0, "unhalt", "--run", run)
}
