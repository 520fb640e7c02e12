package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/docker"
	"github.com/kmschaos/kmschaos/internal/dockertest"
	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// statusJSON is the part of 'status --output json' the test reads.
type statusJSON struct {
	Run     string `json:"run"`
	Parties []struct {
		Party      int    `json:"party"`
		State      string `json:"state"`
		Health     string `json:"health"`
		HealthExit *int   `json:"health_exit"`
	} `json:"parties"`
	Links []struct {
		Link    string   `json:"link"`
		Enabled bool     `json:"enabled"`
		Toxics  []string `json:"toxics"`
	} `json:"links"`
	Faults []struct {
		ID   string  `json:"id"`
		Kind string  `json:"kind"`
		AgeS float64 `json:"age_s"`
	} `json:"faults"`
	BudgetLeft int `json:"budget_left"`
}

// TestEndToEndByHand drives the built kmschaos binary as a user would, each
// command a new process: up --detach, inject (and the refusals of bad
// input), status, heal, a fault that expires on its own, heal --all, down;
// then nothing of the run is left on the engine. The cluster is removed
// whether the test passes or fails.
func TestEndToEndByHand(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	bin, kmschaos := kc.bin, kc.run
	run := kc.upDetached()

	status := func() statusJSON {
		s := kmschaos(time.Minute, 0, "status", "--run", run, "--output", "json")
		var st statusJSON
		g.Expect(json.Unmarshal(s.Out.Contents(), &st)).To(Succeed(), "%s", s.Out.Contents())
		return st
	}
	st := status()
	g.Expect(st.Run).To(Equal(run))
	g.Expect(st.Parties).To(HaveLen(4))
	for _, p := range st.Parties {
		g.Expect(p.State).To(Equal("running"))
		g.Expect(p.Health).To(Equal("Optimal"), "party %d", p.Party)
		g.Expect(p.HealthExit).To(HaveValue(Equal(0)))
	}

	// The guide's blocks, as written, on party 2's host of the attached
	// cluster: one that runs, one whose tools the toolbox lacks (exit 1).
	gr := kmschaos(2*time.Minute, 1, "guide", "run", "--run", run, "--party", "2", "--show-output",
		"--block", "Issue Classification & Resolution > Key Management Issues > Diagnostic Steps > 2. Key Validation > block 1",
		"--block", "Advanced Diagnostics > Process Analysis > block 1")
	out := string(gr.Out.Contents())
	g.Expect(out).To(MatchRegexp(`2\. Key Validation > block 1 \(line \d+\), party 2: ran`), "stderr:\n%s", gr.Err.Contents())
	g.Expect(out).To(MatchRegexp(`ran\s+\d+\s+ls -la keys/\*/`))
	g.Expect(out).To(ContainSubstring("keys/PRIV-p2/"), "ls -la keys/*/ lists the party's own vaults")
	g.Expect(out).To(MatchRegexp(`tool absent\s+\d+\s+pstree -p \$\(pgrep kms\)\s+pgrep: procps is not in busybox-static`))
	kmschaos(time.Minute, 2, "guide", "run", "--run", run, "--party", "9")
	g.Expect(st.Faults).To(BeEmpty())
	g.Expect(st.BudgetLeft).To(Equal(1))

	// One fault by hand: its id on stdout, findable by a new process.
	inj := kmschaos(time.Minute, 0, "inject", "link-hang", "--link", "1-3", "--run", run)
	id := strings.TrimSpace(string(inj.Out.Contents()))
	g.Expect(id).To(MatchRegexp(`^link-hang-[0-9a-f]{6}$`))
	text := kmschaos(time.Minute, 0, "status", "--run", run)
	g.Expect(text.Out).To(gbytes.Say(`Links not at their baseline:\n\s+p1-p3\s+` + regexp.QuoteMeta(id) + ` \(timeout upstream\)`))
	g.Expect(text.Out).To(gbytes.Say(regexp.QuoteMeta(id) + `\s+link 1-3\s+\d+s\s+when healed\s+link 1->3 hangs silently`))
	g.Expect(text.Out).To(gbytes.Say(`Fault budget: 0 of t=1 parties left`))
	st = status()
	g.Expect(st.Faults).To(HaveLen(1))
	g.Expect(st.Faults[0].ID).To(Equal(id))
	g.Expect(st.BudgetLeft).To(Equal(0))
	g.Expect(st.Links).To(ContainElement(SatisfyAll(
		HaveField("Link", "p1-p3"), HaveField("Enabled", true), HaveField("Toxics", ConsistOf(id+" (timeout upstream)")))))

	// --watch streams one JSON object per line, each showing the fault.
	watch := exec.Command(bin, "status", "--run", run, "--output", "json", "--watch", "1s")
	ws, err := gexec.Start(watch, nil, nil)
	g.Expect(err).NotTo(HaveOccurred())
	for range 2 {
		g.Eventually(ws.Out).WithTimeout(time.Minute).Should(gbytes.Say(`\{"run":"` + run + `".*"faults":\[\{"id":"` + regexp.QuoteMeta(id) + `".*\n`))
	}
	g.Eventually(ws.Kill()).WithTimeout(10 * time.Second).Should(gexec.Exit())

	// Bad input: exit 2, one line, nothing injected.
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"inject", "pause", "--party", "2"}, "over the fault budget: pause (freeze) parties [2] would bring the parties faulted to [1 2], more than t=1"},
		{[]string{"inject", "kil", "--party", "2"}, `unknown fault kind "kil": did you mean "kill"?`},
		{[]string{"inject", "kill", "--party", "9"}, "party 9 is out of range: the cluster has parties 1 to 4"},
		{[]string{"inject", "link-refused", "--link", "2-2"}, "--link 2-2 is a link to itself"},
		{[]string{"heal", "link-hang-000000"}, `no active fault "link-hang-000000": active are ` + id},
		{[]string{"status", "--run", "00000000"}, "no cluster to attach to: run 00000000 is not running"},
	} {
		args := c.args
		if args[len(args)-2] != "--run" {
			args = append(args, "--run", run)
		}
		s := kmschaos(time.Minute, 2, args...)
		errLines := strings.Split(strings.TrimSpace(string(s.Err.Contents())), "\n")
		g.Expect(errLines).To(HaveLen(1), "kmschaos %v", args)
		g.Expect(errLines[0]).To(ContainSubstring(c.says))
	}
	st = status()
	g.Expect(st.Faults).To(HaveLen(1), "a refused injection left a fault")
	g.Expect(st.Parties[1].State).To(Equal("running"), "the refused pause of party 2 was done")

	// Healed by id from yet another process: back to no fault, no toxic.
	heal := kmschaos(time.Minute, 0, "heal", id, "--run", run)
	g.Expect(heal.Out).To(gbytes.Say("healed " + regexp.QuoteMeta(id)))
	st = status()
	g.Expect(st.Faults).To(BeEmpty())
	g.Expect(st.Links).To(BeEmpty())

	// A fault with --for heals itself: the party killed comes back and
	// the cluster is Optimal again, with nobody calling heal.
	inj = kmschaos(time.Minute, 0, "inject", "kill", "--party", "4", "--for", "5s", "--run", run)
	kid := strings.TrimSpace(string(inj.Out.Contents()))
	st = status()
	g.Expect(st.Faults).To(ContainElement(HaveField("ID", kid)))
	g.Expect(st.Parties[3].State).To(Equal("exited"))
	g.Eventually(func(g Gomega) {
		cmd := exec.Command(bin, "status", "--run", run, "--output", "json")
		out, err := cmd.Output()
		g.Expect(err).NotTo(HaveOccurred())
		var st statusJSON
		g.Expect(json.Unmarshal(out, &st)).To(Succeed())
		g.Expect(st.Faults).To(BeEmpty())
		for _, p := range st.Parties {
			g.Expect(p.Health).To(Equal("Optimal"), "party %d", p.Party)
		}
	}).WithTimeout(90 * time.Second).WithPolling(2 * time.Second).Should(Succeed())

	// The kill switch, over faults of several kinds beyond t.
	kmschaos(time.Minute, 0, "inject", "pause", "--party", "1", "--run", run)
	kmschaos(time.Minute, 0, "inject", "latency", "--party", "2", "--beyond-threshold", "--run", run)
	kmschaos(2*time.Minute, 0, "inject", "share-corrupt", "--party", "3", "--beyond-threshold", "--run", run)
	all := kmschaos(3*time.Minute, 0, "heal", "--all", "--run", run)
	g.Expect(all.Out).To(gbytes.Say("back to its baseline, every party Optimal"))
	st = status()
	g.Expect(st.Faults).To(BeEmpty())
	g.Expect(st.Links).To(BeEmpty())
	for _, p := range st.Parties {
		g.Expect(p.State).To(Equal("running"))
		g.Expect(p.Health).To(Equal("Optimal"), "party %d", p.Party)
	}

	down := kmschaos(3*time.Minute, 0, "down", "--run", run)
	g.Expect(down.Out).To(gbytes.Say(`removed 6 containers, 1 networks, 13 volumes`))
	g.Expect(leftovers(context.Background(), t, run)).To(BeEmpty())
}

// leftovers lists what of a run is still on the engine.
func leftovers(ctx context.Context, t *testing.T, run string) string {
	t.Helper()
	dc, err := docker.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := client.Filters{}.Add("label", cluster.LabelRun+"="+run)
	cs, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := dc.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := dc.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Items)+len(ns.Items)+len(vs.Items) == 0 {
		return ""
	}
	return strings.Join([]string{
		strings.TrimSpace(strings.Repeat("container ", len(cs.Items))),
		strings.TrimSpace(strings.Repeat("network ", len(ns.Items))),
		strings.TrimSpace(strings.Repeat("volume ", len(vs.Items))),
	}, " ")
}

// binary is the built kmschaos, run as a user would: each command a new
// process, in the module (up builds the images from it).
type binary struct {
	t         *testing.T
	g         Gomega
	bin, root string
}

// buildBinary gives the test the kmschaos binary, built once for the
// whole package from this source (TestMain removes it): every test runs
// the same program, and a link of it costs 7-9 s on 2 shared cores, once
// per test before.
func buildBinary(t *testing.T, g Gomega) *binary {
	t.Helper()
	root, err := localcluster.ModuleRoot()
	g.Expect(err).NotTo(HaveOccurred())
	built.once.Do(func() { built.bin, built.err = gexec.Build("github.com/kmschaos/kmschaos/cmd/kmschaos") })
	g.Expect(built.err).NotTo(HaveOccurred())
	return &binary{t: t, g: g, bin: built.bin, root: root}
}

// built is the package's one build of kmschaos (buildBinary).
var built struct {
	once sync.Once
	bin  string
	err  error
}

// run runs one command and awaits its exit with code.
func (c *binary) run(timeout time.Duration, code int, args ...string) *gexec.Session {
	c.t.Helper()
	s := c.start(args...)
	// The description is a func: the output as it is when it fails, not
	// as it was when the command started.
	c.g.Eventually(s).WithTimeout(timeout).Should(gexec.Exit(code), func() string {
		return fmt.Sprintf("kmschaos %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), s.Out.Contents(), s.Err.Contents())
	})
	return s
}

// start starts one command, from the repository's root.
func (c *binary) start(args ...string) *gexec.Session {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.root
	s, err := gexec.Start(cmd, nil, nil)
	c.g.Expect(err).NotTo(HaveOccurred())
	return s
}

// upDetached brings up an n=4 cluster with 'up --detach' and returns its
// run id. Pass or fail, the test ends with the commands of before (each
// with --run appended; their failure is ignored), then 'down' unless the
// test removed the run, then the proof that nothing of it is left.
func (c *binary) upDetached(before ...[]string) string {
	c.t.Helper()
	up := c.run(6*time.Minute, 0, "up", "--parties", "4", "--threshold", "1", "--detach")
	lines := strings.Split(strings.TrimSpace(string(up.Out.Contents())), "\n")
	run := lines[len(lines)-1]
	c.g.Expect(run).To(MatchRegexp(`^[0-9a-f]{8}$`), "up --detach prints the run id last:\n%s", up.Out.Contents())
	c.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		for _, args := range before {
			_ = exec.Command(c.bin, append(args, "--run", run)...).Run()
		}
		c.remove(ctx, run)
	})
	return run
}

// remove ends a test's run: 'down' unless nothing of it is left (the
// test's own down removed it: another would be refused), a sweep if down
// fails, then the proof that nothing of it is left.
func (c *binary) remove(ctx context.Context, run string) {
	c.t.Helper()
	if leftovers(ctx, c.t, run) == "" {
		return
	}
	out, err := exec.Command(c.bin, "down", "--run", run).CombinedOutput()
	if err != nil {
		c.t.Errorf("kmschaos down --run %s: %v\n%s", run, err, out)
		if dc, derr := docker.Client(ctx); derr == nil {
			_, _ = docker.Sweep(ctx, dc, docker.SweepOptions{Run: run})
		}
	}
	if left := leftovers(ctx, c.t, run); left != "" {
		c.t.Errorf("after down, run %s left %s", run, left)
	}
}
