// Package docs is the documentation for people; its test keeps the links
// of README.md and of every page here pointing at files and headings that
// exist, so that moving a section cannot leave a reader at a dead end.
package docs

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// page is one Markdown file: the links it makes and the anchors its
// headings get.
type page struct {
	links   []string
	anchors map[string]bool
}

func read(path string) (page, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return page{}, err
	}
	doc := goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser().Parse(text.NewReader(src))
	p := page{anchors: map[string]bool{}}
	seen := map[string]int{}
	err = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			p.links = append(p.links, string(n.Destination))
		case *ast.Image:
			p.links = append(p.links, string(n.Destination))
		case *ast.Heading:
			s := slug(plain(n, src))
			if k := seen[s]; k > 0 { // GitHub numbers a repeated heading's anchor
				p.anchors[fmt.Sprintf("%s-%d", s, k)] = true
			} else {
				p.anchors[s] = true
			}
			seen[s]++
		}
		return ast.WalkContinue, nil
	})
	return p, err
}

// plain is a heading's text as rendered: code spans' text kept, markup gone.
func plain(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
		case *ast.String:
			b.Write(c.Value)
		default:
			b.WriteString(plain(c, src))
		}
	}
	return b.String()
}

// slug is the anchor GitHub gives a heading: lower case, every character
// but letters, digits, '-' and '_' dropped, each space a '-'.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.M, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// broken lists every relative link of the pages whose file, or whose
// #anchor in a Markdown file, does not exist. Links with a scheme (https:,
// mailto:) are not followed.
func broken(pages []string) ([]string, error) {
	var bad []string
	cache := map[string]page{}
	load := func(path string) (page, error) {
		if p, ok := cache[path]; ok {
			return p, nil
		}
		p, err := read(path)
		cache[path] = p
		return p, err
	}
	for _, from := range pages {
		p, err := load(from)
		if err != nil {
			return nil, err
		}
		for _, dest := range p.links {
			u, err := url.Parse(dest)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s: link %q: %v", from, dest, err))
				continue
			}
			if u.Scheme != "" || u.Host != "" {
				continue
			}
			target := from
			if u.Path != "" {
				target = filepath.Join(filepath.Dir(from), u.Path)
				if _, err := os.Stat(target); err != nil {
					bad = append(bad, fmt.Sprintf("%s: link %q: no file %s", from, dest, target))
					continue
				}
			}
			if u.Fragment == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			t, err := load(target)
			if err != nil {
				return nil, err
			}
			if !t.anchors[u.Fragment] {
				bad = append(bad, fmt.Sprintf("%s: link %q: no heading #%s in %s", from, dest, u.Fragment, target))
			}
		}
	}
	return bad, nil
}

// Every link of README.md and of the pages here leads somewhere.
func TestTheLinksOfTheReadmeAndTheDocsResolve(t *testing.T) {
	pages, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{filepath.Join("..", "README.md")}, pages...)
	bad, err := broken(pages)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// The check itself can fail: a missing file, a missing heading, a heading
// of another page, each is named; what exists passes.
func TestABrokenLinkIsNamed(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("other.md", "# Other\n\n## What a verdict means, and how each can go red\n\n## `make check`: the lane\n\n## Twice\n\n## Twice\n")
	from := write("from.md", "# From\n\n## Here\n\n"+
		"[ok](other.md#what-a-verdict-means-and-how-each-can-go-red) [code](other.md#make-check-the-lane) "+
		"[second](other.md#twice-1) [self](#here) [web](https://example.com/x#y) [dir](.)\n\n"+
		"[gone](missing.md) [no heading](other.md#nowhere) [not here](#there) [third](other.md#twice-2)\n\n"+
		"```\n[in code](not-a-link.md)\n```\n")
	bad, err := broken([]string{from})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`link "missing.md": no file`,
		`link "other.md#nowhere": no heading #nowhere`,
		`link "#there": no heading #there`,
		`link "other.md#twice-2": no heading #twice-2`,
	}
	if len(bad) != len(want) {
		t.Errorf("%d broken links, want %d:\n%s", len(bad), len(want), strings.Join(bad, "\n"))
	}
	for _, w := range want {
		found := false
		for _, b := range bad {
			found = found || strings.Contains(b, w)
		}
		if !found {
			t.Errorf("not named: %s\nin:\n%s", w, strings.Join(bad, "\n"))
		}
	}
}
