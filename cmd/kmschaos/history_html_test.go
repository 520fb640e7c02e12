package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/results"
)

// trendScenarios are twelve scenarios as the catalog names them, with
// their usual TTD and TTR.
var trendScenarios = []struct {
	name, section string
	ttd, ttr      time.Duration
}{
	{"a refused client link is reported as [FAIL] Cannot connect, fast", "Connectivity Issues", 400 * time.Millisecond, 3 * time.Second},
	{"a peer's DNS name stops resolving and the mesh degrades", "Connectivity Issues", 2 * time.Second, 14 * time.Second},
	{"a partitioned party rejoins after the link heals", "Connectivity Issues", 3 * time.Second, 22 * time.Second},
	{"one party killed: the quorum holds, the party restarts", "Process Failures", 1500 * time.Millisecond, 9 * time.Second},
	{"a party killed mid-signing: the quorum signs again", "Process Failures", 1800 * time.Millisecond, 12 * time.Second},
	{"t+1 parties killed: signing stops, then recovers", "Process Failures", 1200 * time.Millisecond, 35 * time.Second},
	{"a party's memory limit: OOM-killed and restarted", "Resource Exhaustion", 6 * time.Second, 18 * time.Second},
	{"a full disk on one party: writes fail, then resume", "Resource Exhaustion", 4 * time.Second, 26 * time.Second},
	{"CPU starved party: slow, never wrong", "Resource Exhaustion", 8 * time.Second, 5 * time.Second},
	{"a clock skewed by 90 s is flagged by the peers", "Time and Certificates", 2500 * time.Millisecond, 7 * time.Second},
	{"an expired peer certificate is refused and renewed", "Time and Certificates", 1 * time.Second, 16 * time.Second},
	{"a node evicted from the cluster is rescheduled", "Time and Certificates", 0, 0}, // kubernetes only: skipped here
}

// trendStore records eight runs of the twelve scenarios, twelve hours
// apart, through a results.Session as the suite does, into a fresh store
// under dir: the two oldest without a report path (recorded by an older
// kmschaos), the others with their report.html written under
// dir/reports/N, naming the run. "a party killed mid-signing" fails in
// two runs (flaky); the DNS scenario recovers slower from release 1.4.2.
// It returns the store and the runs' ids, oldest first.
func trendStore(t *testing.T, dir string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(dir, "results.db")
	rnd := rand.New(rand.NewPCG(7, 11))
	jitter := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) * (0.75 + rnd.Float64()/2)).Round(10 * time.Millisecond)
	}
	var ids []string
	for k := range 8 {
		release := fmt.Sprintf("1.4.%d", k/2)
		started := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC).Add(time.Duration(k) * 12 * time.Hour)
		r := &report.Run{Seed: uint64(1000 + k), N: 4, T: 1, Backend: "docker", Machine: "ci-runner-2", Started: started, Duration: 14 * time.Minute}
		for _, sc := range trendScenarios {
			row := report.Scenario{Name: sc.name, Section: sc.section, Started: started, Duration: 40 * time.Second, RecoveredBy: report.ByGuide, Keys: report.KeysIntact}
			switch {
			case sc.ttd == 0:
				row.Skipped = "the docker backend cannot evict a node"
			case strings.HasPrefix(sc.name, "a party killed mid-signing") && (k == 3 || k == 6):
				row.TTD, row.Detected, row.Error = jitter(sc.ttd), true, "the quorum did not sign again within 60s"
			default:
				ttr := sc.ttr
				if strings.Contains(sc.name, "DNS") && k >= 4 {
					ttr = 2 * ttr // the regression a release brought
				}
				row.TTD, row.TTR, row.Detected, row.Recovered, row.Passed = jitter(sc.ttd), jitter(ttr), true, true, true
			}
			r.Scenarios = append(r.Scenarios, row)
		}
		s, err := results.Begin(ctx, db, map[string]string{"release": release, "ci": "nightly"}, "")
		if err != nil {
			t.Fatal(err)
		}
		page := ""
		if k >= 2 {
			r.RecordedAs = s.ID()
			page = filepath.Join(dir, "reports", fmt.Sprint(k), "report.html")
			if err := r.WriteHTML(page); err != nil {
				t.Fatal(err)
			}
		}
		id, err := s.Finish(ctx, r, "kmschaos/party:3f2a9c01", page)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return db, ids
}

// history --html writes the page: a chart per scenario and measure, the
// flaky scenario named, each point linked to its run's report or row.
func TestHistoryWritesTrendsPage(t *testing.T) {
	dir := t.TempDir()
	db, ids := trendStore(t, dir)
	page := filepath.Join(dir, "trends.html")
	out, errOut, code := cli(t, "history", "--db", db, "--label", "ci=nightly", "--html", page)
	if code != 0 || errOut != "" || out != "trends of 8 runs and 12 scenarios in "+db+": "+page+"\n" {
		t.Fatalf("history --html: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	root, err := html.Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	var charts, toReport, toRow int
	for n := range root.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		a := map[string]string{}
		for _, kv := range n.Attr {
			a[kv.Key] = kv.Val
		}
		switch {
		case n.Data == "svg" && a["class"] == "chart":
			charts++
		case n.Data == "a" && a["data-run"] != "":
			switch a["href"] {
			case "reports/" + fmt.Sprint(indexOf(ids, a["data-run"])) + "/report.html#run-" + a["data-run"]:
				toReport++
			case "#run-" + a["data-run"]:
				toRow++
				if i := indexOf(ids, a["data-run"]); i >= 2 {
					t.Errorf("run %d (%s) has a report, yet its point links its row", i, a["data-run"])
				}
			default:
				t.Errorf("a point of run %s links %q", a["data-run"], a["href"])
			}
		}
	}
	if charts != 24 || toReport != 2*12*6 || toRow != 2*12*2 {
		t.Errorf("%d charts, %d points to reports, %d to rows; want 24, 144, 48", charts, toReport, toRow)
	}
	for _, want := range []string{"Flaky: <a href=\"#sc-3\">a party killed mid-signing: the quorum signs again</a>", "release=1.4.3"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the page lacks %q:\n%s", want, b)
		}
	}
	// Nothing matches: the page says so, and is still written.
	_, _, code = cli(t, "history", "--db", db, "--since", "2027-01-01", "--html", page)
	if b, _ := os.ReadFile(page); code != 0 || !strings.Contains(string(b), "No run recorded in <code>"+db+"</code> matches") {
		t.Errorf("an empty page: exit %d\n%s", code, b)
	}
	// --html with --output json is bad input.
	if out, code := cliOut(t, "history", "--db", db, "--html", page, "--output", "json"); code != 2 || !strings.Contains(out, "--html and --output json: give one") {
		t.Errorf("--html --output json: exit %d, %q", code, out)
	}
}

func indexOf(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}
