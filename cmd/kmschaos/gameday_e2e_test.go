package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/kmschaos/kmschaos/cluster/docker"
	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// revealJSON is the part of 'gameday reveal --output json' the test reads.
type revealJSON []struct {
	Kind        string    `json:"kind"`
	Party       int       `json:"party"`
	InjectedAt  time.Time `json:"injected_at"`
	RecoveredBy string    `json:"recovered_by"`
}

type gamedayStatusJSON struct {
	State    string `json:"state"`
	Injected int    `json:"injected"`
	PID      int    `json:"runner_pid"`
}

// TestScriptedGameDay plays two game days on an n=4 cluster, every
// command a new kmschaos process as people would type them. In the first
// a scripted player reads 'kmschaos status' as an operator would, sees
// the party that is down, diagnoses it and runs the repaired coordinated
// restart with 'runbook run': the report scores the diagnosis right and
// the recovery the players'. In the second nobody acts: the harness heals
// the fault at --limit and the report says "not recovered". After each,
// the background process is gone and the cluster is at its baseline; at
// the end nothing of the run is left on the engine. In the second the
// background process is killed mid-game and a later 'gameday status'
// continues the game day with a new one.
func TestScriptedGameDay(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	bin, kmschaos := kc.bin, kc.run
	start := time.Now()
	// Made before the cluster: the cleanup's abort needs the key in them,
	// and cleanups run last-made first.
	dir, dir2 := t.TempDir(), t.TempDir()
	// Whatever happened: no game day process may outlive the test.
	run := kc.upDetached([]string{"gameday", "abort"})
	t.Logf("cluster %s up in %s", run, time.Since(start).Round(time.Second))

	reveal := func(g Gomega) revealJSON {
		out, err := exec.Command(bin, "gameday", "reveal", "--output", "json", "--run", run).Output()
		g.Expect(err).NotTo(HaveOccurred())
		var r revealJSON
		g.Expect(json.Unmarshal(out, &r)).To(Succeed())
		return r
	}
	gdStatus := func() gamedayStatusJSON {
		s := kmschaos(time.Minute, 0, "gameday", "status", "--output", "json", "--run", run)
		var st gamedayStatusJSON
		g.Expect(json.Unmarshal(s.Out.Contents(), &st)).To(Succeed(), "%s", s.Out.Contents())
		return st
	}
	// The background process ends with its game day.
	runnerGone := func(pid int) {
		g.Expect(pid).To(BeNumerically(">", 0))
		g.Eventually(func() error { return syscall.Kill(pid, 0) }).WithTimeout(30*time.Second).Should(MatchError(syscall.ESRCH), "gameday run (pid %d) outlived its game day", pid)
	}
	baseline := func() {
		g.Eventually(func(g Gomega) {
			out, err := exec.Command(bin, "status", "--run", run, "--output", "json").Output()
			g.Expect(err).NotTo(HaveOccurred())
			var st statusJSON
			g.Expect(json.Unmarshal(out, &st)).To(Succeed())
			g.Expect(st.Faults).To(BeEmpty())
			g.Expect(st.Links).To(BeEmpty())
			for _, p := range st.Parties {
				g.Expect(p.State).To(Equal("running"), "party %d", p.Party)
				g.Expect(p.Health).To(Equal("Optimal"), "party %d", p.Party)
			}
		}).WithTimeout(90 * time.Second).WithPolling(2 * time.Second).Should(Succeed())
	}

	// What a player reads in the keeper (docker exec cat).
	keeperRecords := func(prefix string) string {
		c, err := docker.Attach(context.Background(), run)
		g.Expect(err).NotTo(HaveOccurred())
		recs, err := c.Records(context.Background(), prefix)
		g.Expect(err).NotTo(HaveOccurred())
		var all []string
		for _, b := range recs {
			all = append(all, string(b))
		}
		return strings.Join(all, "\n")
	}

	// Game day 1: a player who finds the fault and repairs it.
	gd := time.Now()
	// The limit bounds the player, not the test (the repair ends the
	// fault): the player's six commands and a coordinated restart with its
	// checks took 40-85 s on 2 cores, so 60 s let the harness win races.
	s := kmschaos(time.Minute, 0, "gameday", "start", "--seed", "11", "--faults", "1", "--every", "1s", "--limit", "3m", "--kinds", "kill", "--report", dir, "--tag", "drill=e2e", "--run", run)
	g.Expect(s.Out).To(gbytes.Say(`the truth \(facilitator only, mode 0600\): (\S+)\n`))
	sealed := regexpFind(`the truth \(facilitator only, mode 0600\): (\S+)`, string(s.Out.Contents()))
	fi, err := os.Stat(sealed)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	g.Expect(filepath.Dir(sealed)).To(Equal(dir))
	id := regexpFind(`game day (\w+) started`, string(s.Out.Contents()))
	key := filepath.Join(dir, "gameday-"+id+".key")
	g.Expect(s.Out).To(gbytes.Say(`its key \(facilitator only, mode 0600[^)]*\): ` + regexp.QuoteMeta(key) + `\n`))
	fi, err = os.Stat(key)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	// A second game day on the same cluster is refused, in one line.
	again := kmschaos(time.Minute, 2, "gameday", "start", "--seed", "1", "--run", run)
	g.Expect(strings.TrimSpace(string(again.Err.Contents()))).To(MatchRegexp(`^Error: a game day is already running on cluster ` + run + `[^\n]*$`))

	// The player looks as an operator does: which party is not running?
	var down, alive int
	g.Eventually(func(g Gomega) {
		out, err := exec.Command(bin, "status", "--run", run, "--output", "json").Output()
		g.Expect(err).NotTo(HaveOccurred())
		var st statusJSON
		g.Expect(json.Unmarshal(out, &st)).To(Succeed())
		down, alive = 0, 0
		for _, p := range st.Parties {
			if p.State != "running" {
				down = p.Party
			} else {
				alive = p.Party
			}
		}
		g.Expect(down).NotTo(BeZero())
		g.Expect(st.Faults).To(BeEmpty(), "status lists a hidden fault as a fault by hand")
	}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())
	t.Logf("game day 1: party %d down %s after start", down, time.Since(gd).Round(time.Millisecond))
	g.Expect(kmschaos(time.Minute, 0, "status", "--run", run).Out).To(gbytes.Say(`Links: not shown while game day \w+ runs`))
	bad := kmschaos(time.Minute, 2, "gameday", "diagnose", "--party", "9", "--kind", "kill", "--run", run)
	g.Expect(bad.Err).To(gbytes.Say(`--party 9 is out of range: the cluster has parties 1 to 4`))
	bad = kmschaos(time.Minute, 2, "gameday", "diagnose", "--party", "1", "--kind", "kil", "--run", run)
	g.Expect(bad.Err).To(gbytes.Say(`unknown fault kind "kil": did you mean "kill"\?`))
	wrong := kmschaos(time.Minute, 0, "gameday", "diagnose", "--party", strconvI(alive), "--kind", "pause", "a first guess", "--run", run)
	g.Expect(wrong.Out).To(gbytes.Say(`recorded at \+`))
	right := kmschaos(time.Minute, 0, "gameday", "diagnose", "--party", strconvI(down), "--kind", "kill", "the party exited, 137", "--run", run)
	// The player is not told the verdict (nor is the keeper: below).
	g.Expect(string(right.Out.Contents())).To(MatchRegexp(`^recorded at \+[0-9.ms]+: party \d, kill \(scored against the truth at the end\)\n$`))
	rb := kmschaos(3*time.Minute, 0, "runbook", "run", "runbooks/coordinated-restart.yaml", "--party", strconvI(alive), "--run", run)
	g.Expect(rb.Out).To(gbytes.Say(`PASS runbook coordinated-restart`))
	g.Eventually(func(g Gomega) {
		g.Expect(reveal(g)).To(ConsistOf(HaveField("RecoveredBy", "players")))
	}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())
	pid := gdStatus().PID
	end := kmschaos(3*time.Minute, 0, "gameday", "end", "--run", run)
	report := string(end.Out.Contents())
	t.Logf("game day 1 report:\n%s", report)
	g.Expect(report).To(ContainSubstring("(kill on party " + strconvI(down) + ")"))
	g.Expect(report).To(MatchRegexp(`diagnosed\s+right, [0-9.]+m?s after the injection`))
	g.Expect(report).To(MatchRegexp(`wrong diagnoses 1\n`))
	g.Expect(report).To(MatchRegexp(`recovered\s+by the players, [0-9.m]+s after the injection`))
	g.Expect(report).To(ContainSubstring("coordinated-restart on party " + strconvI(alive) + ": PASS"))
	g.Expect(report).To(ContainSubstring("key material: intact"))
	g.Expect(report).To(ContainSubstring("left on the cluster after the game day: nothing"))
	g.Expect(report).To(MatchRegexp(`ops in all: [1-9]\d* ok / \d+ failed / 0 wrong`))
	html, err := os.ReadFile(filepath.Join(dir, "gameday-"+regexpFind(`game day (\w+) on cluster`, report)+".html"))
	g.Expect(err).NotTo(HaveOccurred())
	// The game day's own page: the cluster's real size, a row and a
	// lane for the one fault, the players' lane labelled with their first
	// diagnosis (the right one, a second later, would overlap it: its
	// label is on hover).
	g.Expect(report).To(ContainSubstring("cluster: n = 4, t = 1, on docker\n"))
	g.Expect(report).To(MatchRegexp(`\n  fault 1 \(kill on party ` + strconvI(down) + `\): diagnosed right after \S+, recovered by the players after \S+\n`))
	g.Expect(string(html)).To(ContainSubstring(`<dd id="cluster">n = 4, t = 1</dd>`))
	g.Expect(strings.Count(string(html), `<tr class="f-good">`)).To(Equal(1))
	g.Expect(string(html)).To(And(ContainSubstring(">fault 1</text>"), ContainSubstring(">players</text>"), ContainSubstring(">✗ pause p"+strconvI(alive)+"</text>"),
		ContainSubstring("<title>✓ kill p"+strconvI(down)+" [ok]\ndiagnosis: party "+strconvI(down)+" kill: right (fault 1)")))
	// Recorded in the results store: the fault's row passed, by the
	// players, with their TTD, under the label start was given.
	recorded := regexpFind(`recorded as run (\w+) in the results store`, report)
	g.Expect(recorded).NotTo(BeEmpty(), "the game day's end says where it was recorded")
	hist := string(kmschaos(time.Minute, 0, "history", "--label", "drill=e2e", "--section", "game day").Out.Contents())
	g.Expect(hist).To(And(ContainSubstring(recorded), MatchRegexp(`game day: kill\n\s+PASS\s+TTD [0-9.ms]+\s+TTR [0-9.m]+s\s+run `+recorded)))
	runnerGone(pid)
	// The diagnoses the keeper holds carry no verdict.
	g.Expect(keeperRecords("gameday-diag-")).To(And(ContainSubstring(`"kind":"kill"`), Not(ContainSubstring(`"right"`)), Not(ContainSubstring(`"fault"`))))
	baseline()

	// Game day 2: nobody acts. The harness heals at the limit.
	gd = time.Now()
	s = kmschaos(time.Minute, 0, "gameday", "start", "--seed", "12", "--faults", "1", "--every", "1s", "--limit", "8s", "--kinds", "kill", "--report", dir2, "--run", run)
	id2 := regexpFind(`game day (\w+) started`, string(s.Out.Contents()))
	// The background process is killed once the fault is in: the game day
	// lives in the cluster, and the next 'gameday status' starts a new
	// process that continues it (and heals the fault, overdue by then).
	g.Eventually(gdStatus).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(HaveField("Injected", 1))
	first := gdStatus().PID
	g.Expect(syscall.Kill(first, syscall.SIGKILL)).To(Succeed())
	runnerGone(first)
	g.Eventually(func() string {
		s := kmschaos(time.Minute, 0, "gameday", "status", "--run", run)
		return string(s.Err.Contents())
	}).WithTimeout(60 * time.Second).WithPolling(2 * time.Second).Should(ContainSubstring("background process had stopped"))
	g.Eventually(gdStatus).WithTimeout(30*time.Second).WithPolling(time.Second).Should(HaveField("PID", Not(Equal(first))), "no new background process took over")
	g.Eventually(func(g Gomega) {
		g.Expect(reveal(g)).To(ConsistOf(HaveField("RecoveredBy", "harness")))
	}).WithTimeout(45 * time.Second).WithPolling(time.Second).Should(Succeed())
	t.Logf("game day 2: healed by the harness %s after start", time.Since(gd).Round(time.Millisecond))
	// What a player reads in the keeper while it runs names no fault.
	rec := keeperRecords("gameday")
	g.Expect(rec).To(ContainSubstring(`"id":"` + id2 + `"`))
	g.Expect(rec).NotTo(Or(ContainSubstring(`"kill"`), ContainSubstring("gd-"+id2+"-1"), ContainSubstring(`"faults"`), ContainSubstring(`"right"`)))
	// Without the key, what tells the truth is refused in one line.
	key2 := filepath.Join(dir2, "gameday-"+id2+".key")
	g.Expect(os.Rename(key2, key2+".away")).To(Succeed())
	refused := kmschaos(time.Minute, 2, "gameday", "reveal", "--run", run)
	g.Expect(os.Rename(key2+".away", key2)).To(Succeed())
	g.Expect(strings.TrimSpace(string(refused.Err.Contents()))).To(Equal("Error: only the facilitator who started game day " + id2 + " can reveal it: " + key2 + " is not readable (no such file or directory)"))
	pid = gdStatus().PID
	end = kmschaos(3*time.Minute, 0, "gameday", "end", "--run", run)
	report = string(end.Out.Contents())
	t.Logf("game day 2 report:\n%s", report)
	g.Expect(report).To(ContainSubstring("NOT diagnosed right"))
	g.Expect(report).To(MatchRegexp(`recovered\s+NOT RECOVERED: healed by the harness [0-9.m]+s after the injection`))
	g.Expect(report).To(ContainSubstring("runbooks the players ran (0)"))
	g.Expect(report).To(ContainSubstring("a runner died"))
	g.Expect(report).To(ContainSubstring("left on the cluster after the game day: nothing"))
	// Recorded by the background process that took over: FAIL, no TTD.
	recorded = regexpFind(`recorded as run (\w+) in the results store`, report)
	g.Expect(recorded).NotTo(BeEmpty(), "the game day's end says where it was recorded")
	hist = string(kmschaos(time.Minute, 0, "history", recorded).Out.Contents())
	g.Expect(hist).To(MatchRegexp(`game day: kill\n\s+FAIL\s+TTD -\s+TTR [0-9.m]+s\s+run ` + recorded))
	runnerGone(pid)
	baseline()
	g.Expect(gdStatus().State).To(Equal("ended"))
	t.Logf("both game days in %s", time.Since(start).Round(time.Second))
}

func strconvI(i int) string { return strconv.Itoa(i) }

// regexpFind is the first group of re in s, "" if none.
func regexpFind(re, s string) string {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestGameDayWrongValueHalts plays a game day on an n=4 cluster where,
// once its hidden fault is in, one party starts lying as coordinator
// (kms-server --test-only-lie, as the meta-specs make it), every command
// a new kmschaos process. The workload meets the lie and the game day's
// wrong-decryption guard halts it at once: its hidden fault is healed,
// the game day ends "halted", 'gameday status' and 'status' show the halt
// by the guard with its cause, new faults are refused (exit 3), and the
// report says HALTED, lists the wrong value with who saw it and fails the
// game day: 'gameday end' exits 1, the JSON's verdict is FAIL.
func TestGameDayWrongValueHalts(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	dir := t.TempDir() // before the cluster: the cleanup's abort needs the key in it
	run := kc.upDetached([]string{"gameday", "abort"})

	// The hidden fault leaves every party serving (a corrupt backup), so
	// that the lie, not an outage beyond t, is what the guard meets: a
	// party down while the liar restarts took both out of reach past the
	// grace once, and the reachability rail rightly halted first.
	kc.run(time.Minute, 0, "gameday", "start", "--seed", "3", "--faults", "1", "--every", "1s", "--limit", "10m", "--kinds", "backup-corrupt", "--report", dir, "--run", run)
	var truth revealJSON
	g.Eventually(func(g Gomega) {
		out, err := exec.Command(kc.bin, "gameday", "reveal", "--output", "json", "--run", run).Output()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(json.Unmarshal(out, &truth)).To(Succeed())
		g.Expect(truth).To(HaveLen(1))
		g.Expect(truth[0].InjectedAt).NotTo(BeZero())
	}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed())
	faulted := truth[0].Party
	liar := faulted%4 + 1
	c, err := docker.Attach(context.Background(), run)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.RecreateWith(context.Background(), liar, "--test-only-lie")).To(Succeed())

	// The guard halts the game day, and the runner ends it.
	var st struct {
		State string `json:"state"`
		PID   int    `json:"runner_pid"`
		Halt  *struct {
			Cause string `json:"cause"`
			By    string `json:"by"`
		} `json:"halt"`
	}
	wrong := `^wrong decryption: party ` + strconvI(liar) + ` returned \d+ for \d+ \(seen by the workload at [0-9:.]+\)$`
	g.Eventually(func(g Gomega) {
		out, err := exec.Command(kc.bin, "gameday", "status", "--output", "json", "--run", run).Output()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(json.Unmarshal(out, &st)).To(Succeed())
		g.Expect(st.State).To(Equal("halted"))
	}).WithTimeout(2*time.Minute).WithPolling(time.Second).Should(Succeed(), "the wrong-decryption guard did not halt the game day")
	g.Expect(st.Halt).NotTo(BeNil())
	g.Expect(st.Halt.By).To(Equal("guard"))
	g.Expect(st.Halt.Cause).To(MatchRegexp(wrong))
	g.Expect(kc.run(time.Minute, 0, "gameday", "status", "--run", run).Out).To(gbytes.Say(`halted, .*\n(.*\n)*HALTED at [0-9-]+ [0-9:]+ by guard: wrong decryption: party ` + strconvI(liar)))
	g.Eventually(func() error { return syscall.Kill(st.PID, 0) }).WithTimeout(30*time.Second).Should(MatchError(syscall.ESRCH), "gameday run outlived its halted game day")
	// Every hidden fault healed; what an operator sees: the halt, and
	// every party back.
	g.Expect(json.Unmarshal(kc.run(time.Minute, 0, "gameday", "reveal", "--output", "json", "--run", run).Out.Contents(), &truth)).To(Succeed())
	g.Expect(truth).To(ConsistOf(HaveField("RecoveredBy", "harness")))
	var ost haltStatusJSON
	g.Expect(json.Unmarshal(kc.run(time.Minute, 0, "status", "--output", "json", "--run", run).Out.Contents(), &ost)).To(Succeed())
	g.Expect(ost.Halt).NotTo(BeNil())
	g.Expect(ost.Halt.Cause).To(MatchRegexp(wrong))
	for _, p := range ost.Parties {
		g.Expect(p.State).To(Equal("running"), "party %d", p.Party)
		g.Expect(p.Health).To(Equal("Optimal"), "party %d", p.Party)
	}
	refused := kc.run(time.Minute, 3, "inject", "pause", "--party", strconvI(faulted), "--run", run)
	g.Expect(string(refused.Err.Contents())).To(ContainSubstring("the cluster is halted (halted at "))

	end := kc.run(3*time.Minute, 1, "gameday", "end", "--run", run)
	report := string(end.Out.Contents())
	t.Logf("report:\n%s", report)
	g.Expect(report).To(MatchRegexp(`game day \w+ on cluster ` + run + `: halted,`))
	g.Expect(report).To(MatchRegexp(`\nHALTED \+[0-9.ms]+ by guard: wrong decryption: party ` + strconvI(liar) + ` returned \d+ for \d+ \(seen by the workload at [0-9:.]+\)\n`))
	g.Expect(report).To(MatchRegexp(`recovered\s+NOT RECOVERED: healed by the harness`))
	g.Expect(report).To(MatchRegexp(`WRONG: party ` + strconvI(liar) + ` returned \d+ for \d+ \(seen by the workload at `))
	g.Expect(report).To(MatchRegexp(`WRONG decryptions: \d+, whoever saw them: the game day FAILED`))
	g.Expect(string(end.Err.Contents())).To(MatchRegexp(`Error: game day \w+ FAILED: \d+ WRONG decryptions: party ` + strconvI(liar) + ` returned`))
	// The JSON report's verdict, and the halt in it.
	base := strings.TrimSuffix(regexpFind(`report: (\S+)\.txt,`, report), ".txt")
	var j struct {
		Passed bool   `json:"passed"`
		Error  string `json:"error"`
	}
	b, err := os.ReadFile(base + ".json")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(json.Unmarshal(b, &j)).To(Succeed())
	g.Expect(j.Passed).To(BeFalse())
	g.Expect(j.Error).To(ContainSubstring("WRONG decryptions"))
	g.Expect(string(b)).To(ContainSubstring(`"by": "guard"`))
}
