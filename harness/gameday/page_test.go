package gameday

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/report"
)

// played is a game day at n=4 as 'end' finds it: two faults (the players
// recovered the first; the harness healed the second at the limit), two
// diagnoses (one right, one wrong), two runbooks, and a wrong value one of
// the runbooks saw.
func played() (*State, []Diagnosis, []Note) {
	start := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	at := start.Add
	s := &State{Header: Header{ID: "abc123", Run: "r42", Started: start, Ended: at(10 * time.Minute)},
		Cluster: Cluster{N: 4, T: 1, Backend: "docker"}, Seed: 7, Every: 2 * time.Minute, Limit: 5 * time.Minute,
		Faults: []Fault{
			{Kind: "kill", Party: 2, Name: "kill party 2", Parties: []int{2}, Tag: "gd-abc123-1", At: 2 * time.Minute,
				InjectedAt: at(2 * time.Minute), RecoveredAt: at(3 * time.Minute), RecoveredBy: ByPlayers, Ops: report.Ops{OK: 90, Failed: 12}},
			{Kind: "memory", Party: 3, Name: "party 3 restarted with a 8 MiB memory limit", Parties: []int{3}, Tag: "gd-abc123-2", At: 4 * time.Minute,
				InjectedAt: at(4 * time.Minute), RecoveredAt: at(9 * time.Minute), RecoveredBy: ByHarness, Ops: report.Ops{OK: 400, Failed: 80}},
		},
		Ops: report.Ops{OK: 1200, Failed: 92}, Keys: report.KeysIntact,
		Events: []report.Event{
			{At: 2 * time.Minute, Lane: report.LaneFaults, Label: "inject fault 1", Status: report.Warn},
			{At: 2 * time.Minute, End: 3 * time.Minute, Lane: report.LaneFaults, Label: "fault 1", Status: report.Warn},
			{At: 3 * time.Minute, Lane: report.LaneProbes, Label: "fault 1 recovered by the players", Status: report.OK},
		},
	}
	diags := []Diagnosis{
		{At: at(2*time.Minute + 20*time.Second), Party: 2, Kind: "kill", Text: "party 2 exited 137"},
		{At: at(5 * time.Minute), Party: 3, Kind: "pause", Text: "party 3 does not answer"},
	}
	notes := []Note{
		{At: at(2*time.Minute + 50*time.Second), Took: 20 * time.Second, Runbook: "coordinated-restart", Party: 1, Passed: true},
		{At: at(6 * time.Minute), Took: 30 * time.Second, Runbook: "start-parties", Party: 3, Passed: false, Detail: "party 3 exited 137 again",
			Wrongs: []oracle.Wrong{{At: at(6 * time.Minute), Party: 3, Sent: 42, Got: 43, By: "probe: decrypts right"}}},
	}
	return s, diags, notes
}

// The text says first that a value was wrong, then what was not found or
// not recovered, then what was; the cluster's real size; a block per
// fault with who recovered it.
func TestReportTextSaysTheWorstFirst(t *testing.T) {
	s, diags, notes := played()
	var b bytes.Buffer
	WriteText(&b, s, diags, notes)
	text := b.String()
	lines := strings.Split(text, "\n")
	if lines[1] != "cluster: n = 4, t = 1, on docker" {
		t.Errorf("second line %q, want the cluster's size and backend", lines[1])
	}
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "the game day ") })
	if i < 0 || lines[i] != "the game day FAILED: a decryption returned a WRONG value" {
		t.Fatalf("no verdict line saying the wrong value:\n%s", text)
	}
	for k, want := range []string{
		"! WRONG decryptions: 1, whoever saw them: the game day FAILED: party 3 returned 43 for 42 (seen by the players' runbook start-parties on party 3: probe: decrypts right at 09:06:00.000)",
		"! fault 2 (memory on party 3): NOT diagnosed right, NOT RECOVERED: healed by the harness after 5m0s",
		"! 1 wrong diagnosis",
		"  fault 1 (kill on party 2): diagnosed right after 20s, recovered by the players after 1m0s",
	} {
		if got := lines[i+1+k]; got != want {
			t.Errorf("summary line %d:\n got %q\nwant %q", k+1, got, want)
		}
	}
	for _, want := range []string{
		"fault 1: kill party 2 (kill on party 2)\n  injected        +2m0s\n  diagnosed       right, 20s after the injection\n  wrong diagnoses 0\n  recovered       by the players, 1m0s after the injection\n  ops             90 ok / 12 failed / 0 wrong while it was on",
		"  wrong diagnoses 1\n  recovered       NOT RECOVERED: healed by the harness 5m0s after the injection",
		"runbooks the players ran (2):",
		"escalations to the coordinator (0, 0 wrong):",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q:\n%s", want, text)
		}
	}
}

// The JSON has the same content, in documented fields a script can read.
func TestReportJSONFields(t *testing.T) {
	s, diags, notes := played()
	b, err := JSON(s, diags, notes)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Cluster struct {
			N       int    `json:"n"`
			T       int    `json:"t"`
			Backend string `json:"backend"`
		} `json:"cluster"`
		Passed  bool `json:"passed"`
		Summary []struct {
			Bad  bool   `json:"bad"`
			Text string `json:"text"`
		} `json:"summary"`
		Faults []struct {
			Kind       string `json:"kind"`
			Target     string `json:"target"`
			InjectedAt string `json:"injected_at"`
			FirstRight int64  `json:"first_right_ns"`
			Wrong      int    `json:"wrong_diagnoses"`
			TTR        int64  `json:"ttr_ns"`
			By         string `json:"by"`
			Ops        struct {
				OK, Failed, Wrong int
			} `json:"ops"`
		} `json:"faults"`
		Diagnoses   []map[string]any `json:"diagnoses"`
		Runbooks    []map[string]any `json:"runbooks"`
		Escalations []map[string]any `json:"escalations"`
		Wrong       int              `json:"wrong"`
		Keys        string           `json:"keys"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if j.Cluster.N != 4 || j.Cluster.T != 1 || j.Cluster.Backend != "docker" || j.Passed || j.Wrong != 1 || j.Keys != "intact" {
		t.Errorf("cluster %+v, passed %v, wrong %d, keys %q", j.Cluster, j.Passed, j.Wrong, j.Keys)
	}
	if len(j.Summary) == 0 || !j.Summary[0].Bad || !strings.HasPrefix(j.Summary[0].Text, "WRONG decryptions: 1") {
		t.Errorf("summary %+v: a wrong value is not said first", j.Summary)
	}
	if len(j.Faults) != 2 || j.Faults[0].Target != "party 2" || j.Faults[0].FirstRight != int64(20*time.Second) || j.Faults[0].By != "the players" ||
		j.Faults[1].Wrong != 1 || j.Faults[1].TTR != int64(5*time.Minute) || j.Faults[1].By != "NOT RECOVERED: healed by the harness" || j.Faults[1].Ops.Failed != 80 {
		t.Errorf("faults %+v", j.Faults)
	}
	if len(j.Diagnoses) != 2 || len(j.Runbooks) != 2 || j.Escalations == nil {
		t.Errorf("%d diagnoses, %d runbooks, escalations %v (want [] until there are some)", len(j.Diagnoses), len(j.Runbooks), j.Escalations)
	}
}

// The page as a reader meets it, parsed: the verdict and the wrong value
// first, a row per fault, a lane per fault and the players' lane
// labelled with what they said, the cluster's real size; nothing fetched.
func TestReportPage(t *testing.T) {
	s, diags, notes := played()
	path := filepath.Join(t.TempDir(), "gameday.html")
	workload := []report.Event{{At: time.Minute, Lane: report.LaneWorkload, Label: "decrypt #1", Status: report.OK}}
	if err := WriteHTML(path, Build(s, diags, notes), workload); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, external := range []string{"<script", "<link", "src=", "http://", "https://", "@import"} {
		if bytes.Contains(raw, []byte(external)) {
			t.Errorf("the page has %q: it must open offline, alone", external)
		}
	}
	doc, err := html.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := text(byID(t, doc, "cluster")); got != "n = 4, t = 1" {
		t.Errorf("cluster %q, want n = 4, t = 1", got)
	}
	if got := text(byID(t, doc, "backend")); got != "docker" {
		t.Errorf("backend %q", got)
	}
	verdict := find(doc, func(n *html.Node) bool { return hasClass(n, "verdict") })
	if len(verdict) != 1 || !hasClass(verdict[0], "bad") || !strings.Contains(text(verdict[0]), "WRONG") {
		t.Errorf("the verdict does not say the wrong value")
	}
	summary := find(byID(t, doc, "summary"), func(n *html.Node) bool { return n.Data == "li" })
	if len(summary) != 4 || !hasClass(summary[0], "bad") || !strings.HasPrefix(text(summary[0]), "WRONG decryptions: 1") || hasClass(summary[3], "bad") {
		t.Errorf("summary: %d lines, the first %q", len(summary), text(summary[0]))
	}
	rows := find(byID(t, doc, "faults"), func(n *html.Node) bool { return n.Data == "tr" && n.Parent.Data == "tbody" })
	if len(rows) != 2 {
		t.Fatalf("%d fault rows, want 2", len(rows))
	}
	cells := func(tr *html.Node) []string {
		var out []string
		for _, td := range find(tr, func(n *html.Node) bool { return n.Data == "td" }) {
			out = append(out, text(td))
		}
		return out
	}
	if got, want := cells(rows[0]), []string{"1", "kill", "party 2", "+2m0s", "right, after 20.0 s", "0", "after 1 min 00 s", "the players", "90 / 12 / 0"}; !slices.Equal(got, want) {
		t.Errorf("row 1: %q\nwant %q", got, want)
	}
	if got, want := cells(rows[1]), []string{"2", "memory", "party 3", "+4m0s", "NOT diagnosed right", "1", "after 5 min 00 s", "NOT RECOVERED: healed by the harness", "400 / 80 / 0"}; !slices.Equal(got, want) {
		t.Errorf("row 2: %q\nwant %q", got, want)
	}
	var lanes, labels []string
	for _, n := range find(doc, func(n *html.Node) bool { return n.Data == "text" }) {
		switch {
		case hasClass(n, "lane"):
			lanes = append(lanes, text(n))
		case hasClass(n, "mark-label"):
			labels = append(labels, text(n))
		}
	}
	if want := []string{"fault 1", "fault 2", "players", "probes", "workload"}; !slices.Equal(lanes, want) {
		t.Errorf("lanes %q, want %q", lanes, want)
	}
	if want := []string{"✓ kill p2", "✗ pause p3", "WRONG value via party 3"}; !slices.Equal(labels, want) {
		t.Errorf("the players' lane says %q, want %q", labels, want)
	}
	if runbooks := find(byID(t, doc, "runbooks"), func(n *html.Node) bool { return n.Data == "tr" && n.Parent.Data == "tbody" }); len(runbooks) != 2 {
		t.Errorf("%d runbooks on the page, want 2", len(runbooks))
	}
	shades := find(doc, func(n *html.Node) bool { return hasClass(n, "fault-shade") })
	if len(shades) != 2 {
		t.Errorf("%d fault windows shaded, want 2", len(shades))
	}
}

func find(n *html.Node, keep func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && keep(d) {
			out = append(out, d)
		}
	}
	return out
}

func byID(t *testing.T, doc *html.Node, id string) *html.Node {
	t.Helper()
	for d := range doc.Descendants() {
		for _, a := range d.Attr {
			if a.Key == "id" && a.Val == id {
				return d
			}
		}
	}
	t.Fatalf("no element #%s", id)
	return nil
}

func hasClass(n *html.Node, class string) bool {
	for _, a := range n.Attr {
		if a.Key == "class" && slices.Contains(strings.Fields(a.Val), class) {
			return true
		}
	}
	return false
}

// text is what a reader sees of n: its text, spaces folded.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode && (d.Parent == nil || d.Parent.Data != "title") {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// The escalations as the page and the text tell them: the right one with
// the fault the coordinator undid, the wrong one as changing nothing, each
// with what the players asked.
func TestReportEscalations(t *testing.T) {
	s, diags, notes := played()
	at := s.Started.Add
	s.Faults[1].RecoveredBy = ByCoordinator
	s.Escalations = []Escalation{
		{At: at(5 * time.Minute), Party: 1, Ask: "party 1 cannot reach anyone"},
		{At: at(6 * time.Minute), Party: 3, Ask: "check party 3's links", Healed: []int{2}},
	}
	var b bytes.Buffer
	WriteText(&b, s, diags, notes)
	for _, want := range []string{
		"escalations to the coordinator (2, 1 wrong):",
		`party 1: WRONG: nothing to fix, nothing changed — "party 1 cannot reach anyone"`,
		`party 3: right: the coordinator undid fault 2 — "check party 3's links"`,
		"recovered       by the players, through the coordinator",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the text lacks %q:\n%s", want, b.String())
		}
	}
	path := filepath.Join(t.TempDir(), "gameday.html")
	if err := WriteHTML(path, Build(s, diags, notes), nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	rows := find(byID(t, doc, "escalations"), func(n *html.Node) bool { return n.Data == "tr" && n.Parent.Data == "tbody" })
	if len(rows) != 2 {
		t.Fatalf("%d escalation rows on the page, want 2", len(rows))
	}
	if got := text(rows[0]); !strings.Contains(got, "WRONG: nothing to fix") || !strings.Contains(got, "party 1 cannot reach anyone") {
		t.Errorf("the wrong escalation's row reads %q", got)
	}
	if got := text(rows[1]); !strings.Contains(got, "right: the coordinator undid fault 2") {
		t.Errorf("the right escalation's row reads %q", got)
	}
	faults := find(byID(t, doc, "faults"), func(n *html.Node) bool { return n.Data == "tr" && n.Parent.Data == "tbody" })
	if got := text(faults[1]); !strings.Contains(got, "the players, through the coordinator") {
		t.Errorf("fault 2's row reads %q, want it recovered through the coordinator", got)
	}
}
