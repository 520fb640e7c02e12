package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// TestTrendsPageInTheBrowser opens the page 'history --html' writes of
// eight recorded runs in a headless Chromium, from file:// as a reader
// does: every chart is drawn (its SVG has a size, its points are there),
// and a point of the newest run leads to that run's report, which names
// the run. The page's screenshot goes into the report directory
// (reports/trends/trends.png; docs/img/trends.png is one).
func TestTrendsPageInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser; skipped with -short")
	}
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		if os.Getenv("KMSCHAOS_SETUP_BROWSER") == "1" {
			t.Fatal("no chromium to drive, though the set-up was asked to install it (KMSCHAOS_SETUP_BROWSER=1)")
		}
		t.Skip("no chromium to drive: 'make setup' with KMSCHAOS_SETUP_BROWSER=1 installs Debian's chromium")
	}
	dir := t.TempDir()
	db, ids := trendStore(t, dir)
	page := filepath.Join(dir, "trends.html")
	if _, errOut, code := cli(t, "history", "--db", db, "--html", page); code != 0 {
		t.Fatalf("history --html: exit %d, %s", code, errOut)
	}

	// Chromium's singleton socket goes into TMPDIR: the test's own,
	// removed after chromium has gone (cleanups run last in, first out).
	tmp := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1360, 900), chromedp.Env("TMPDIR="+tmp))...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(tab, 2*time.Minute)
	defer cancel()
	await := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			text, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body ? document.body.innerText : document.documentElement.outerHTML`))
			t.Fatalf("%s: %v; the page shows:\n%s", what, err, text)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page)); err != nil {
		t.Fatal(err)
	}
	// 12 scenarios × TTD and TTR, each drawn with a size; 11 of them
	// (the evicted node is skipped) with 8 points each.
	await("every chart drawn", `(() => {
		const charts = [...document.querySelectorAll('svg.chart')];
		return charts.length === 24 && charts.every(s => { const r = s.getBoundingClientRect(); return r.width > 100 && r.height > 30; })
			&& charts.filter(s => s.querySelectorAll('circle').length === 8).length === 24
			&& [...document.querySelectorAll('svg.chart circle')].every(c => c.getBoundingClientRect().width > 0);
	})()`)
	shots := os.Getenv("KMSCHAOS_REPORT_DIR")
	if shots == "" {
		root, err := localcluster.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		shots = filepath.Join(root, "reports")
	}
	shots = filepath.Join(shots, "trends")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: a PNG
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shots, "trends.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", filepath.Join(shots, "trends.png"))

	// The newest run's point of the first chart leads to its report,
	// which names the run.
	newest := ids[len(ids)-1]
	want := "file://" + filepath.Join(dir, "reports", "7", "report.html") + "#run-" + newest
	point := `document.querySelector('svg.chart a[data-run="` + newest + `"]')`
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new URL(`+point+`.getAttribute('href'), document.baseURI).href`)); err != nil || got != want {
		t.Fatalf("the newest run's point links %q (%v), want %q", got, err, want)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`svg.chart a[data-run="`+newest+`"] circle`)); err != nil {
		t.Fatal(err)
	}
	// The report replaces the page: awaited by its element, which
	// survives the navigation (a script polled would not).
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#run-"+newest)); err != nil {
		t.Fatalf("the run's report, naming the run: %v", err)
	}
	if at, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.getElementById("run-`+newest+`").innerText`)); err != nil || at != want+" Recorded as\nrun "+newest+" kmschaos history "+newest {
		t.Errorf("after the click: %q (%v), want the report at %s saying it is of run %s", at, err, want, newest)
	}
}
