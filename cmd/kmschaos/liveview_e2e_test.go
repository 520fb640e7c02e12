package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// chromiumPath finds the browser the set-up installs (scripts/bootstrap.sh,
// Debian's chromium). Its absence fails the test: only -short skips it
// (dockertest.Require, before).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium to drive: 'make setup' with KMSCHAOS_SETUP_BROWSER=1 (make test sets it) installs Debian's chromium; -short skips this test")
	return ""
}

// TestLiveViewInTheBrowser plays a scripted game day at n=4 with both
// pages of 'gameday serve' open in a real headless Chromium: the players'
// page shows every party Optimal, then, once the hidden kill is in, the
// killed party down and its peers Healthy, and nothing of the fault; the
// facilitator's shows the fault on, with its target once revealed. HALT
// in the facilitator's page heals every fault: both pages show the halt,
// the fault healed by the harness, every party Optimal again. Screenshots
// of both views go into the report directory. Bad input on the way: serve
// with no game day, a wrong or missing token, serve after the game day.
func TestLiveViewInTheBrowser(t *testing.T) {
	dockertest.Require(t)
	chromium := chromiumPath(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	shots := os.Getenv("KMSCHAOS_REPORT_DIR")
	if shots == "" {
		shots = filepath.Join(kc.root, "reports")
	}
	shots = filepath.Join(shots, "liveview")
	g.Expect(os.MkdirAll(shots, 0o755)).To(Succeed())
	dir := t.TempDir()
	run := kc.upDetached([]string{"gameday", "abort"})

	// No game day yet: one line, exit 2, nothing listens.
	none := kc.run(time.Minute, 2, "gameday", "serve", "--listen", "127.0.0.1:0", "--run", run)
	g.Expect(strings.TrimSpace(string(none.Err.Contents()))).To(Equal("Error: no game day on cluster " + run + ": start one with 'kmschaos gameday start'"))
	g.Expect(none.Out.Contents()).To(BeEmpty())

	kc.run(time.Minute, 0, "gameday", "start", "--seed", "5", "--faults", "1", "--every", "40s", "--limit", "10m", "--kinds", "kill", "--report", dir, "--run", run)
	serve := kc.start("gameday", "serve", "--listen", "127.0.0.1:0", "--run", run)
	t.Cleanup(func() {
		serve.Interrupt()
		select {
		case <-serve.Exited:
		case <-time.After(30 * time.Second):
			serve.Kill()
		}
	})
	g.Eventually(serve.Out).WithTimeout(time.Minute).Should(gbytes.Say(`facilitator \(yours alone\): (\S+)\n`))
	out := string(serve.Out.Contents())
	playersURL := regexpFind(`players \(share this\): +(\S+)`, out)
	facilitatorURL := regexpFind(`facilitator \(yours alone\): (\S+)`, out)
	base := strings.TrimSuffix(playersURL, "/")

	// The facilitator's view without its token, or with another: 403.
	for _, u := range []string{base + "/facilitator", base + "/facilitator?token=wrong", base + "/facilitator/events?token="} {
		resp, err := http.Get(u)
		g.Expect(err).NotTo(HaveOccurred())
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusForbidden), "GET %s", u)
		g.Expect(string(body)).NotTo(ContainSubstring("kill"), "GET %s", u)
	}

	// Chromium keeps its singleton socket in a folder of TMPDIR that it
	// leaves behind when it is killed, as the test ends it: the test's
	// own temp dir, removed after chromium has gone (cleanups run last
	// in, first out).
	tmp := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1600, 1000), chromedp.Env("TMPDIR="+tmp))...)
	t.Cleanup(cancelAlloc) // ends chromium
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	g.Expect(chromedp.Do(browser)).To(Succeed()) // starts it
	players, cancelPlayers := chromedp.NewContext(browser)
	t.Cleanup(cancelPlayers)
	facilitator, cancelFacilitator := chromedp.NewContext(browser)
	t.Cleanup(cancelFacilitator)

	// await holds until the page's expression is true, or fails saying
	// what the page showed by then.
	await := func(tab context.Context, within time.Duration, what, expr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, within+5*time.Second)
		defer cancel()
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(200*time.Millisecond)))
		if err != nil {
			text, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v; the page shows:\n%s", what, err, text)
		}
	}
	text := func(tab context.Context) string {
		s, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
		g.Expect(err).NotTo(HaveOccurred())
		return s
	}
	screenshot := func(tab context.Context, name string) {
		b, err := chromedp.Run(tab, chromedp.FullScreenshot(100)) // 100: a PNG, not a JPEG
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(os.WriteFile(filepath.Join(shots, name), b, 0o644)).To(Succeed())
		t.Logf("screenshot: %s", filepath.Join(shots, name))
	}
	grades := `[...document.querySelectorAll('#parties .party')].map(p => p.dataset.grade)`

	g.Expect(chromedp.Do(players, chromedp.Navigate(playersURL))).To(Succeed())
	g.Expect(chromedp.Do(facilitator, chromedp.Navigate(facilitatorURL))).To(Succeed())
	await(players, 30*time.Second, "every party Optimal before the fault", grades+`.join() === "Optimal,Optimal,Optimal,Optimal"`)
	await(facilitator, 30*time.Second, "the hidden fault listed, due", `document.querySelector('#faults tr[data-fault="1"]')?.dataset.state === "due"`)

	// The fault comes: the facilitator sees it on, and where once revealed.
	await(facilitator, 90*time.Second, "the hidden fault on", `document.querySelector('#faults tr[data-fault="1"]')?.dataset.state === "on"`)
	_, err := chromedp.Run(facilitator, chromedp.Click("#reveal"))
	g.Expect(err).NotTo(HaveOccurred())
	target, err := chromedp.Run(facilitator, chromedp.Evaluate[string](`document.querySelector('#faults tr[data-fault="1"] .target').textContent`))
	g.Expect(err).NotTo(HaveOccurred())
	var down int
	_, err = fmt.Sscanf(target, "party %d", &down)
	g.Expect(err).NotTo(HaveOccurred(), "target %q", target)
	g.Expect(text(facilitator)).To(ContainSubstring("kill on party %d", down))

	// The players see what an operator sees: that party down, its peers
	// Healthy, the quorum at 3 of 4; and nothing of the fault.
	await(players, 90*time.Second, fmt.Sprintf("party %d down and its peers Healthy", down),
		fmt.Sprintf(`%s.join() === %q`, grades, strings.Join(func() []string {
			gs := []string{"Healthy", "Healthy", "Healthy", "Healthy"}
			gs[down-1] = "none"
			return gs
		}(), ",")))
	await(players, 30*time.Second, "the quorum at 3 of 4", `document.querySelector('#quorum .quorum')?.dataset.grade === "Healthy"`)
	g.Expect(text(players)).To(ContainSubstring("3 of 4 parties answer: Healthy"))
	g.Expect(text(players)).To(ContainSubstring("DOWN"))
	html, err := chromedp.Run(players, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	g.Expect(err).NotTo(HaveOccurred())
	for _, truth := range []string{"kill", "SIGKILL", "fault 1", "data-fault"} {
		g.Expect(html).NotTo(ContainSubstring(truth), "the players' page shows %q", truth)
	}
	screenshot(players, "players.png")
	screenshot(facilitator, "facilitator.png")

	// HALT: every fault healed, both pages say so.
	_, err = chromedp.Run(facilitator, chromedp.Click("#halt"))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = chromedp.Run(facilitator, chromedp.Click("#halt-confirm"))
	g.Expect(err).NotTo(HaveOccurred())
	await(facilitator, 30*time.Second, "the halt's banner", `!document.getElementById('halt-banner').hidden`)
	g.Expect(text(facilitator)).To(ContainSubstring("HALTED"))
	g.Expect(text(facilitator)).To(ContainSubstring("the facilitator pulled the halt in the live view"))
	await(players, 30*time.Second, "the halt's banner for the players", `!document.getElementById('halt-banner').hidden`)
	await(facilitator, 2*time.Minute, "every fault healed, the game day ended, halted",
		`[...document.querySelectorAll('#faults tr[data-fault]')].every(r => r.dataset.state === "healed") && document.getElementById('stage').textContent === "halted"`)
	await(players, 3*time.Minute, "every party Optimal again", grades+`.join() === "Optimal,Optimal,Optimal,Optimal"`)
	screenshot(facilitator, "facilitator-halted.png")
	st := kc.run(time.Minute, 0, "gameday", "status", "--output", "json", "--run", run)
	var gs gamedayStatusJSON
	g.Expect(json.Unmarshal(st.Out.Contents(), &gs)).To(Succeed())
	g.Expect(gs.State).To(Equal("halted"))

	// A game day over is nothing to serve: one line, exit 2.
	over := kc.run(time.Minute, 2, "gameday", "serve", "--listen", "127.0.0.1:0", "--run", run)
	g.Expect(strings.TrimSpace(string(over.Err.Contents()))).To(MatchRegexp(`^Error: game day \w+ on cluster ` + run + ` has halted: nothing to watch live \(its report: \S+\)$`))
}
