// Package guide reads the operators' troubleshooting guide as data: its
// heading tree, its fenced code blocks and the shell commands in them, and
// its numbered procedure steps, each with a stable address and a digest of
// its text. Runbook steps cite those addresses; Check says which parts of
// the guide no runbook covers (a gap), which cited text the guide no
// longer has (drift) and which it has at another address now (moved).
//
// Addresses: headings joined with " > " (a document's single leading
// level-1 heading is its title and is left out), then a bold label such as
// "Resolution Steps:" that heads the lists after it, then numbered steps as
// "N. Title", then "block K" (the K-th code block in that scope) and
// "line L" (the line of a block's content where a command starts):
//
//	Emergency Procedures > Data Recovery > 1. Key Material Recovery > block 1 > line 4
package guide

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Kind is what a node of the guide is.
type Kind string

// Kinds of nodes.
const (
	KindSection Kind = "section" // a heading, or a bold label under one
	KindStep    Kind = "step"    // an item of a numbered list
	KindBlock   Kind = "block"   // a code block
	KindCommand Kind = "command" // a command of a shell block
)

// Sep joins the parts of an address.
const Sep = " > "

// Node is one addressable part of the guide.
type Node struct {
	Kind    Kind
	Address string
	// Section is the heading path the node is under: the table groups by it.
	Section string
	Parent  *Node // the enclosing step or block, nil under a heading
	// Line and EndLine are 1-based lines of the guide file.
	Line, EndLine int
	Title         string // section and step: the title; block: the info string
	Number        int    // step: its number
	// Text is the node's text: a block's content as written, a command's
	// as written with its comments and line continuations cut and
	// whitespace collapsed (a compound command on one line), a step's
	// item as written.
	Text   string
	Digest string // of the text with whitespace collapsed
	// Script: a block that runs as one script (#!, a heredoc); it has no
	// command children, the block is the unit.
	Script bool
	// Resolution: a step of a resolution or recovery procedure, which a
	// runbook must cite (or the exclusions list); diagnostic steps need not.
	Resolution bool
	// Label: a section that is a bold label, not a heading.
	Label    bool
	Children []*Node
}

// Guide is a parsed guide.
type Guide struct {
	File   string
	Title  string
	Digest string // of the whole file
	Nodes  []*Node
	index  map[string]*Node
}

// Lookup returns the node at an address, or nil.
func (g *Guide) Lookup(address string) *Node { return g.index[address] }

// OfKind returns the nodes of a kind, in document order.
func (g *Guide) OfKind(k Kind) []*Node {
	var out []*Node
	for _, n := range g.Nodes {
		if n.Kind == k {
			out = append(out, n)
		}
	}
	return out
}

// InputError is input the guide tools refuse: the file, the line and the
// offending text.
type InputError struct {
	File string
	Line int
	Text string
	Msg  string
}

func (e *InputError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Text == "" {
		return fmt.Sprintf("%s: %s", loc, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %q", loc, e.Msg, e.Text)
}

// ParseFile reads and parses a guide file.
func ParseFile(path string) (*Guide, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// Parse parses a guide. goldmark accepts any text as Markdown, so Parse
// refuses what cannot be a guide: an empty file, text that is not UTF-8, a
// fenced block that is never closed (the rest of the file would silently
// become code), a shell block that is not shell, and two parts with the
// same address.
func Parse(file string, src []byte) (*Guide, error) {
	p := &parser{file: file, src: src, g: &Guide{File: file, index: map[string]*Node{}}, blocks: map[string]int{}}
	p.lineStarts()
	if err := p.notText(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(src)
	p.g.Digest = hex.EncodeToString(sum[:6])
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	if err := p.document(doc); err != nil {
		return nil, err
	}
	return p.g, nil
}

// notText refuses a source that is not text: empty, with a NUL byte, or
// not UTF-8.
func (p *parser) notText() error {
	if len(bytes.TrimSpace(p.src)) == 0 {
		return &InputError{File: p.file, Msg: "empty guide"}
	}
	if i := bytes.IndexByte(p.src, 0); i >= 0 {
		return &InputError{File: p.file, Line: p.lineOf(i), Msg: "a NUL byte: not a text file"}
	}
	if utf8.Valid(p.src) {
		return nil
	}
	off := 0
	for off < len(p.src) {
		r, size := utf8.DecodeRune(p.src[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	line := p.lineOf(off)
	return &InputError{File: p.file, Line: line, Text: strings.ToValidUTF8(p.lineText(line), "\uFFFD"), Msg: "not UTF-8"}
}

type parser struct {
	file   string
	src    []byte
	starts []int // byte offset of each line
	g      *Guide

	title    ast.Node
	headings []heading      // the open heading path
	label    string         // the bold label heading the lists after it
	blocks   map[string]int // code blocks seen per scope
}

type heading struct {
	level int
	text  string
}

func (p *parser) lineStarts() {
	p.starts = []int{0}
	for i, b := range p.src {
		if b == '\n' && i+1 < len(p.src) {
			p.starts = append(p.starts, i+1)
		}
	}
}

// lineOf is the 1-based line of a byte offset.
func (p *parser) lineOf(off int) int {
	return sort.Search(len(p.starts), func(i int) bool { return p.starts[i] > off })
}

func (p *parser) lineText(line int) string {
	if line < 1 || line > len(p.starts) {
		return ""
	}
	end := len(p.src)
	if line < len(p.starts) {
		end = p.starts[line]
	}
	return strings.TrimRight(string(p.src[p.starts[line-1]:end]), "\r\n")
}

func (p *parser) document(doc ast.Node) error {
	// A single level-1 heading before all others is the title.
	var first ast.Node
	h1 := 0
	for c := doc.FirstChild(); c != nil; c = c.NextSibling() {
		if h, ok := c.(*ast.Heading); ok {
			if first == nil {
				first = h
			}
			if h.Level == 1 {
				h1++
			}
		}
	}
	if h, ok := first.(*ast.Heading); ok && h.Level == 1 && h1 == 1 {
		p.title = h
		p.g.Title = inlineText(h, p.src)
	}
	return p.children(doc, nil)
}

// scope is the address blocks and steps are under: the heading path, the
// label, the enclosing steps.
func (p *parser) scope(parent *Node) string {
	if parent != nil {
		return parent.Address
	}
	return join(p.sectionPath(), p.label)
}

func (p *parser) sectionPath() string {
	parts := make([]string, len(p.headings))
	for i, h := range p.headings {
		parts[i] = h.text
	}
	return strings.Join(parts, Sep)
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + Sep + b
}

func (p *parser) children(n ast.Node, parent *Node) error {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if err := p.node(c, parent); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) node(n ast.Node, parent *Node) error {
	switch n := n.(type) {
	case *ast.Heading:
		if n == p.title {
			return nil
		}
		for len(p.headings) > 0 && p.headings[len(p.headings)-1].level >= n.Level {
			p.headings = p.headings[:len(p.headings)-1]
		}
		p.headings = append(p.headings, heading{n.Level, inlineText(n, p.src)})
		p.label = ""
		return p.add(&Node{Kind: KindSection, Address: p.sectionPath(), Title: inlineText(n, p.src), Line: p.lineOf(n.Pos())})
	case *ast.Paragraph:
		if parent == nil {
			if l, ok := label(n, p.src); ok {
				p.label = l
				return p.add(&Node{Kind: KindSection, Label: true, Address: p.scope(nil), Title: l, Line: p.lineOf(n.Pos())})
			}
		}
	case *ast.List:
		if !n.IsOrdered() {
			for item := n.FirstChild(); item != nil; item = item.NextSibling() {
				if err := p.children(item, parent); err != nil {
					return err
				}
			}
			return nil
		}
		num := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			if err := p.step(item, num, parent); err != nil {
				return err
			}
			num++
		}
		return nil
	case *ast.FencedCodeBlock:
		return p.block(n, n.Language(p.src), parent)
	case *ast.CodeBlock:
		return p.block(n, nil, parent)
	case *ast.Blockquote:
		return p.children(n, parent)
	}
	return nil
}

// label reports whether a paragraph is a bold label ("**Resolution
// Steps:**", "**System Information**:"), which heads the lists after it.
func label(para *ast.Paragraph, src []byte) (string, bool) {
	em, ok := para.FirstChild().(*ast.Emphasis)
	if !ok || em.Level != 2 {
		return "", false
	}
	var rest strings.Builder
	for c := em.NextSibling(); c != nil; c = c.NextSibling() {
		rest.WriteString(inlineText(c, src))
	}
	s, after := strings.TrimSpace(inlineText(em, src)), strings.TrimSpace(rest.String())
	if !(strings.HasSuffix(s, ":") && after == "") && after != ":" {
		return "", false
	}
	return strings.TrimSpace(strings.TrimSuffix(s, ":")), true
}

var resolutionLabel = regexp.MustCompile(`(?i)resolution|optimi[sz]ation|recovery|procedure`)

func (p *parser) step(item ast.Node, num int, parent *Node) error {
	title := stepTitle(item, p.src)
	lo, hi := span(item)
	s := &Node{Kind: KindStep, Number: num, Title: title, Parent: parent,
		Address: join(p.scope(parent), fmt.Sprintf("%d. %s", num, title)),
		Line:    p.lineOf(item.Pos()), EndLine: p.lineOf(max(hi-1, 0))}
	if lo < hi {
		s.Text = string(p.src[lo:hi])
	}
	// Steps of a resolution list, of an unlabelled list straight under a
	// heading (the emergency procedures), or under such a step.
	switch {
	case parent != nil:
		s.Resolution = parent.Resolution
	case p.label == "":
		s.Resolution = true
	default:
		s.Resolution = resolutionLabel.MatchString(p.label)
	}
	if err := p.add(s); err != nil {
		return err
	}
	if parent != nil {
		parent.Children = append(parent.Children, s)
	}
	if err := p.children(item, s); err != nil {
		return err
	}
	for _, c := range s.Children { // a block's closing fence is not in the item's lines
		s.EndLine = max(s.EndLine, c.EndLine)
	}
	return nil
}

// stepTitle is the first bold text of an item, or its first line.
func stepTitle(item ast.Node, src []byte) string {
	first := item.FirstChild()
	if first == nil {
		return ""
	}
	if em, ok := first.FirstChild().(*ast.Emphasis); ok && em.Level == 2 {
		return strings.TrimSuffix(strings.TrimSpace(inlineText(em, src)), ":")
	}
	var b strings.Builder
	for c := first.FirstChild(); c != nil; c = c.NextSibling() {
		b.WriteString(inlineText(c, src))
		if t, ok := c.(*ast.Text); ok && (t.SoftLineBreak() || t.HardLineBreak()) {
			break
		}
	}
	return strings.TrimSuffix(strings.TrimSpace(b.String()), ":")
}

// span is the byte range of the source lines under a node.
func span(n ast.Node) (lo, hi int) {
	lo, hi = -1, -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || c.Type() != ast.TypeBlock {
			return ast.WalkContinue, nil
		}
		lines := c.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			if lo < 0 || seg.Start < lo {
				lo = seg.Start
			}
			if seg.Stop > hi {
				hi = seg.Stop
			}
		}
		return ast.WalkContinue, nil
	})
	if lo < 0 {
		return 0, 0
	}
	return lo, hi
}

var shellInfo = map[string]bool{"bash": true, "sh": true, "shell": true, "zsh": true}

func (p *parser) block(n ast.Node, info []byte, parent *Node) error {
	scope := p.scope(parent)
	p.blocks[scope]++
	lines := n.Lines()
	var content []string
	var b strings.Builder
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		v := string(seg.Value(p.src))
		b.WriteString(v)
		content = append(content, strings.TrimRight(v, "\r\n"))
	}
	open := p.lineOf(n.Pos())
	blk := &Node{Kind: KindBlock, Parent: parent, Title: string(info), Text: b.String(),
		Address: join(scope, fmt.Sprintf("block %d", p.blocks[scope])), Line: open}
	first := open + 1 // the first content line
	if lines.Len() > 0 {
		first = p.lineOf(lines.At(0).Start)
	}
	if _, fenced := n.(*ast.FencedCodeBlock); fenced {
		closeLine := first + len(content)
		if !p.closes(open, closeLine) {
			return &InputError{File: p.file, Line: open, Text: p.lineText(open), Msg: "code block never closed (no closing fence)"}
		}
		blk.EndLine = closeLine
	} else {
		first = open
		blk.EndLine = open + len(content) - 1
	}
	if shellInfo[strings.ToLower(string(info))] {
		if err := p.commands(blk, content, first); err != nil {
			return err
		}
	}
	if err := p.add(blk); err != nil {
		return err
	}
	if parent != nil {
		parent.Children = append(parent.Children, blk)
	}
	for _, c := range blk.Children {
		if err := p.add(c); err != nil {
			return err
		}
	}
	return nil
}

// commands adds a shell block's commands to it (first is the guide line
// of its content's first line), or marks it a script. A block the shell
// parser refuses is refused, naming the guide's line.
func (p *parser) commands(blk *Node, content []string, first int) error {
	units, script, err := splitCommands(strings.Join(content, "\n"))
	if err != nil {
		line := first + err.line - 1
		return &InputError{File: p.file, Line: line, Text: strings.TrimSpace(p.lineText(line)),
			Msg: "a shell block the shell parser (mvdan.cc/sh, as bash) refuses: " + err.msg}
	}
	blk.Script = script
	for _, u := range units {
		blk.Children = append(blk.Children, &Node{Kind: KindCommand, Parent: blk, Text: u.text,
			Address: join(blk.Address, fmt.Sprintf("line %d", u.line)),
			Line:    first + u.line - 1, EndLine: first + u.end - 1})
	}
	return nil
}

// closes reports whether line closeLine is a fence closing the one opened
// on line open: the same character, at least as many of them.
func (p *parser) closes(open, closeLine int) bool {
	fence := func(line int) (byte, int, string) {
		s := strings.TrimLeft(p.lineText(line), " \t>") // in a list item or a quote
		s = strings.TrimLeft(s, " \t")
		if s == "" || (s[0] != '`' && s[0] != '~') {
			return 0, 0, s
		}
		n := 0
		for n < len(s) && s[n] == s[0] {
			n++
		}
		return s[0], n, s[n:]
	}
	oc, on, _ := fence(open)
	cc, cn, rest := fence(closeLine)
	return closeLine <= len(p.starts) && oc != 0 && cc == oc && cn >= on && strings.TrimSpace(rest) == ""
}

func (p *parser) add(n *Node) error {
	n.Section = p.sectionPath()
	if n.Kind == KindSection {
		n.Text = n.Title
	}
	if n.EndLine < n.Line {
		n.EndLine = n.Line
	}
	n.Digest = digest(n.Text)
	if old, dup := p.g.index[n.Address]; dup {
		return &InputError{File: p.file, Line: n.Line, Text: n.Address,
			Msg: fmt.Sprintf("two parts of the guide have the same address (the other is on line %d)", old.Line)}
	}
	p.g.index[n.Address] = n
	p.g.Nodes = append(p.g.Nodes, n)
	return nil
}

// Normalize collapses runs of whitespace to one space: citations and
// digests ignore indentation and line breaks.
func Normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

func digest(s string) string {
	sum := sha256.Sum256([]byte(Normalize(s)))
	return hex.EncodeToString(sum[:6])
}

// inlineText is the plain text of a node's inline content.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}
