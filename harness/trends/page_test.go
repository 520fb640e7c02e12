package trends

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// render writes the page of in and parses it back, as a reader's
// browser would get it.
func render(t *testing.T, in Input) (*html.Node, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trends.html")
	if err := Write(path, Build(in)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := html.Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return root, string(b)
}

func elements(root *html.Node, keep func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for n := range root.Descendants() {
		if n.Type == html.ElementNode && keep(n) {
			out = append(out, n)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode && d.Parent.Data != "style" && d.Parent.Data != "title" {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestPageHasChartsLinksAndNothingFetched(t *testing.T) {
	root, page := render(t, sample("/ci"))
	charts := elements(root, func(n *html.Node) bool { return n.Data == "svg" && strings.Contains(attr(n, "class"), "chart") })
	if len(charts) != 6 {
		t.Errorf("%d charts, want a TTD and a TTR chart for each of 3 scenarios", len(charts))
	}
	// Every point is a link: to its run's report, or to its run's row.
	rows := map[string]bool{}
	for _, tr := range elements(root, func(n *html.Node) bool { return n.Data == "tr" && strings.HasPrefix(attr(n, "id"), "run-") }) {
		rows["#"+attr(tr, "id")] = true
	}
	links := elements(root, func(n *html.Node) bool { return n.Data == "a" && attr(n, "data-run") != "" })
	if len(links) != 2*(4+2+4) {
		t.Errorf("%d linked points, want one per verdict per chart (20)", len(links))
	}
	for _, a := range links {
		href, run := attr(a, "href"), attr(a, "data-run")
		switch run {
		case "rrr444444444", "rrr333333333":
			if href != "reports/"+run[3:4]+"/report.html#run-"+run {
				t.Errorf("point of run %s links %q, want its report", run, href)
			}
		default:
			if href != "#run-"+run || !rows[href] {
				t.Errorf("point of run %s links %q, want its row (rows: %v)", run, href, rows)
			}
		}
	}
	for _, n := range elements(root, func(n *html.Node) bool { return n.Data == "script" || n.Data == "link" || n.Data == "img" }) {
		t.Errorf("the page loads <%s>: it should carry everything inline", n.Data)
	}
	for _, bad := range []string{"http://", "https://", "ZgotmplZ"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	// The summary, the sections and the definitions a reader needs.
	body := text(root)
	for _, want := range []string{"Flaky: kill one party (3 passed, 1 failed)", "a later run may have replaced it"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	// Rows and definitions, cell by cell.
	var lines []string
	for _, n := range elements(root, func(n *html.Node) bool { return n.Data == "tr" || n.Data == "dt" || n.Data == "dd" }) {
		var cells []string
		for c := range n.ChildNodes() {
			if c.Type == html.ElementNode {
				cells = append(cells, text(c))
			}
		}
		if n.Data != "tr" {
			cells = []string{text(n)}
		}
		lines = append(lines, strings.Join(cells, " | "))
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{"Process | 2 | 3 | 1 | 2 | 75 % | 1 | 50 %", "All sections | 3 | 7 | 1 | 2 | 88 % | 1 | 33 %",
		"Flaky\na scenario that both passed and failed over the runs shown", "kill one party FLAKY | 3/4 passed · 1 failed"} {
		if !strings.Contains(all, want) {
			t.Errorf("the page lacks the row %q:\n%s", want, all)
		}
	}
}

func TestPageSaysWhenNoRunMatches(t *testing.T) {
	in := sample("/ci")
	in.Runs, in.Scenarios = nil, nil
	in.Filter.Backend = "kubernetes"
	root, _ := render(t, in)
	if n := elements(root, func(n *html.Node) bool { return n.Data == "svg" }); len(n) != 0 {
		t.Errorf("no runs, yet %d charts", len(n))
	}
	if body := text(root); !strings.Contains(body, "No run recorded in results.db matches --backend kubernetes --limit 4.") {
		t.Errorf("the empty page says: %s", body)
	}
}
