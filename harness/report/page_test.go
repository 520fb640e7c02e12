package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The page as a reader meets it: parsed, not searched as text.
type parsedPage struct {
	root  *html.Node
	order map[*html.Node]int // document order
}

func parsePage(t *testing.T, r *Run) parsedPage {
	t.Helper()
	root, err := html.Parse(strings.NewReader(writeHTML(t, r)))
	if err != nil {
		t.Fatal(err)
	}
	p := parsedPage{root: root, order: map[*html.Node]int{}}
	for n := range root.Descendants() {
		p.order[n] = len(p.order)
	}
	return p
}

// all lists the elements under n, n included, for which keep holds.
func all(n *html.Node, keep func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && keep(n) {
		out = append(out, n)
	}
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && keep(d) {
			out = append(out, d)
		}
	}
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	for _, c := range strings.Fields(v) {
		if c == class {
			return true
		}
	}
	return false
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

// text is what a reader sees of n: its text, spaces collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func (p parsedPage) byID(t *testing.T, id string) *html.Node {
	t.Helper()
	ns := all(p.root, func(n *html.Node) bool { v, _ := attr(n, "id"); return v == id })
	if len(ns) != 1 {
		t.Fatalf("%d elements with id %q, want 1", len(ns), id)
	}
	return ns[0]
}

// The first thing the page says after its verdict is what failed and why:
// each failed scenario by name, with the start of its error and a link to
// its details, before the table of every scenario; skipped ones are not
// among the failures but listed apart, lower, with their reasons.
func TestFirstScreenSaysWhatFailedAndWhy(t *testing.T) {
	r := bigRun()
	p := parsePage(t, r)
	failed, table := p.byID(t, "failed"), p.byID(t, "scenarios")
	if p.order[failed] > p.order[table] {
		t.Error("what failed comes after the table of scenarios")
	}
	items := all(failed, tag("li"))
	var nFailed int
	for i, s := range r.Scenarios {
		switch s.Result() {
		case ResultFail:
			if nFailed >= len(items) {
				t.Errorf("%q is not listed among the failures", s.Name)
				break
			}
			li := items[nFailed]
			nFailed++
			link := all(li, tag("a"))
			if len(link) == 0 || text(link[0]) != s.Name {
				t.Errorf("failure %d reads %q, want a link named %q", nFailed, text(li), s.Name)
				continue
			}
			if href, _ := attr(link[0], "href"); href != fmt.Sprintf("#sc-%d", i) {
				t.Errorf("%q links to %q, want its details #sc-%d", s.Name, href, i)
			}
			why, _, _ := strings.Cut(s.Error, "\n")
			if want := why[:min(len(why), 60)]; !strings.Contains(text(li), want) {
				t.Errorf("failure %q says %q, want its reason %q", s.Name, text(li), want)
			}
			if len(text(li)) > len(s.Name)+maxInline+10 {
				t.Errorf("failure %q takes %d characters on the first screen", s.Name, len(text(li)))
			}
		case ResultSkip:
			if strings.Contains(text(failed), s.Name) {
				t.Errorf("the skipped %q is listed among the failures", s.Name)
			}
		}
	}
	if nFailed != 6 || len(items) != nFailed {
		t.Errorf("%d failures listed, the run has %d (want 6)", len(items), nFailed)
	}

	skipped := p.byID(t, "skipped")
	if p.order[skipped] < p.order[failed] {
		t.Error("the skipped scenarios come before the failures")
	}
	var nSkipped int
	lines := all(skipped, tag("li"))
	for _, s := range r.Scenarios {
		if s.Result() != ResultSkip {
			continue
		}
		nSkipped++
		if !slices.ContainsFunc(lines, func(li *html.Node) bool {
			return strings.Contains(text(li), s.Name) && strings.Contains(text(li), s.Skipped)
		}) {
			t.Errorf("the skipped list lacks %q with its reason", s.Name)
		}
	}
	if len(lines) != nSkipped || nSkipped != 4 {
		t.Errorf("%d skipped listed, the run has %d (want 4)", len(lines), nSkipped)
	}
}

// The section × result matrix counts every scenario once, by its
// section, and its totals are the run's tally.
func TestMatrixCountsMatchTally(t *testing.T) {
	r := bigRun()
	r.Scenarios = append(r.Scenarios, Scenario{Name: "written by hand, without a section", Passed: true})
	p := parsePage(t, r)
	tables := all(p.root, func(n *html.Node) bool { return n.Data == "table" && hasClass(n, "matrix") })
	if len(tables) != 1 {
		t.Fatalf("%d section × result matrices, want 1", len(tables))
	}
	// cells reads a row as its header and numbers.
	cells := func(tr *html.Node) (string, []int) {
		var nums []int
		for _, td := range all(tr, tag("td")) {
			n, err := strconv.Atoi(text(td))
			if err != nil {
				t.Fatalf("matrix cell %q: %v", text(td), err)
			}
			nums = append(nums, n)
		}
		return text(all(tr, tag("th"))[0]), nums
	}
	want := map[string][4]int{} // PASS, FAIL, SKIP, Total
	for _, s := range r.Scenarios {
		section := cmp.Or(s.Section, "—")
		c := want[section]
		c[map[string]int{ResultPass: 0, ResultFail: 1, ResultSkip: 2}[s.Result()]]++
		c[3]++
		want[section] = c
	}
	rows := all(all(tables[0], tag("tbody"))[0], tag("tr"))
	if len(rows) != len(want) {
		t.Errorf("%d sections in the matrix, want %d", len(rows), len(want))
	}
	for _, tr := range rows {
		section, got := cells(tr)
		if w := want[section]; fmt.Sprint(got) != fmt.Sprint(w[:]) {
			t.Errorf("section %q counts %v (PASS, FAIL, SKIP, total), want %v", section, got, w)
		}
	}
	passed, failed, skipped := r.Tally()
	if _, got := cells(all(all(tables[0], tag("tfoot"))[0], tag("tr"))[0]); fmt.Sprint(got) != fmt.Sprint([]int{passed, failed, skipped, len(r.Scenarios)}) {
		t.Errorf("matrix totals %v, Tally says %d passed, %d failed, %d skipped of %d", got, passed, failed, skipped, len(r.Scenarios))
	}
}

// Each scenario is one row that folds its details: open for a failure,
// closed for a pass or a skip; its steps' output is folded too, and
// bounded.
func TestFailedRowsOpenPassedFolded(t *testing.T) {
	r := bigRun()
	p := parsePage(t, r)
	for i, s := range r.Scenarios {
		d := p.byID(t, fmt.Sprintf("sc-%d", i))
		_, open := attr(d, "open")
		if d.Data != "details" || open != (s.Result() == ResultFail) {
			t.Errorf("%s row %q is <%s> open=%v, want <details> open only for a failure", s.Result(), s.Name, d.Data, open)
		}
		sum := all(d, tag("summary"))
		if len(sum) == 0 || !strings.Contains(text(sum[0]), s.Name) || !strings.Contains(text(sum[0]), s.Result()) {
			t.Errorf("the row of %q does not name it and its result", s.Name)
			continue
		}
		outs := all(d, func(n *html.Node) bool { return n.Data == "details" && hasClass(n, "out") })
		if len(outs) != len(s.Steps) {
			t.Errorf("%q: %d folded outputs for %d steps", s.Name, len(outs), len(s.Steps))
		}
		for _, o := range outs {
			if _, open := attr(o, "open"); open {
				t.Errorf("%q: a step's output is unfolded", s.Name)
			}
			if pre := all(o, tag("pre")); len(pre) != 1 || len(text(pre[0])) > maxOutput+50 {
				t.Errorf("%q: a step's output is not one bounded <pre>", s.Name)
			}
		}
	}
}

// The page of a catalog-sized run stays small: 1.65 MB, where the old
// page took 8.4 MB. Its 550 step outputs are bounded to maxOutput (1000
// bytes each, 0.6 MB with their markup), its 55 timelines take about
// 13 KB each (0.7 MB), and each scenario's row and details about 6 KB
// (0.35 MB); the bound leaves a tenth more. Going back to a tick per
// workload operation (+6.3 MB) or to 2000 bytes of each output (+0.4 MB)
// breaks it.
func TestBigRunPageStaysSmall(t *testing.T) {
	const bound = 1835 << 10 // 1.8 MB
	page := writeHTML(t, bigRun())
	t.Logf("the page of 55 scenarios × 10 steps × 4 KiB of output: %d bytes", len(page))
	if len(page) > bound {
		t.Errorf("the page of a catalog-sized run is %d bytes, over %d", len(page), bound)
	}
}
