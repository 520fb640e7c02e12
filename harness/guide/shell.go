package guide

import (
	"bytes"
	"errors"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// unit is one command of a shell block: lines line..end of the block's
// content (1-based), bytes from..to of it, and its text: those bytes with
// comments and line continuations cut and whitespace collapsed.
type unit struct {
	line, end int
	from, to  uint
	text      string
}

// Placeholder is a <name> the guide writes for a value the reader fills
// in (<GRPC_PORT>, <pid>). To a shell it is two redirections, and often
// not valid ones; a block holding one must not run as it is.
var Placeholder = regexp.MustCompile(`<[A-Za-z_][A-Za-z0-9_-]*>`)

// shellError is a block the shell parser refuses: the line of the block's
// content it points at, and what it says.
type shellError struct {
	line int
	msg  string
}

// splitCommands parses a shell block with mvdan.cc/sh's bash parser and
// cuts it into the commands an operator runs one by one: each top-level
// statement (a compound command, a pipeline or a && chain whole, however
// many lines it takes), joined by the statements that start on the line
// the one before ends on (a; b), so that every command starts on a line
// of its own. A block that is a script (#! first) or feeds a heredoc is
// one unit, the block itself: script is true and there are no units.
func splitCommands(content string) (units []unit, script bool, err *shellError) {
	f, err := parseShell(content)
	if err != nil {
		return nil, false, err
	}
	if strings.HasPrefix(strings.TrimSpace(content), "#!") || feedsHeredoc(f) {
		return nil, true, nil
	}
	for _, st := range f.Stmts {
		if n := len(units); n > 0 && int(st.Pos().Line()) == units[n-1].end { // a; b
			units[n-1].end, units[n-1].to = int(st.End().Line()), st.End().Offset()
			continue
		}
		units = append(units, unit{line: int(st.Pos().Line()), end: int(st.End().Line()), from: st.Pos().Offset(), to: st.End().Offset()})
	}
	cut := cuts(content, f)
	kept := units[:0]
	for _, u := range units {
		if u.text = Normalize(keep(content[u.from:u.to], cut[u.from:u.to])); u.text != "" { // not a stray \f
			kept = append(kept, u)
		}
	}
	return kept, false, nil
}

// parseShell parses a block as bash, its placeholders read as words: each
// <name> is masked by a word of the same length, so that offsets, lines
// and the text taken from the block stay as the guide writes them.
func parseShell(content string) (*syntax.File, *shellError) {
	masked := []byte(content)
	for _, m := range Placeholder.FindAllStringIndex(content, -1) {
		if m[0] > 0 && content[m[0]-1] == '<' { // <<EOF>: a heredoc's word
			continue
		}
		masked[m[0]], masked[m[1]-1] = '_', '_'
	}
	for {
		f, err := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(masked), "")
		if err != nil {
			return nil, parseError(err)
		}
		// mvdan.cc/sh takes a backslash ending a comment for a line
		// continuation; to bash it is text, and the newline ends the
		// command. Mask it too, and parse again.
		again := false
		syntax.Walk(f, func(n syntax.Node) bool {
			if c, ok := n.(*syntax.Comment); ok && strings.HasSuffix(c.Text, "\\\n") && masked[c.End().Offset()-2] == '\\' {
				masked[c.End().Offset()-2], again = ' ', true
			}
			return true
		})
		if !again {
			return f, nil
		}
	}
}

func parseError(err error) *shellError {
	var pe syntax.ParseError
	var le syntax.LangError
	switch {
	case errors.As(err, &pe):
		return &shellError{int(pe.Pos.Line()), pe.Text}
	case errors.As(err, &le):
		return &shellError{int(le.Pos.Line()), strings.TrimPrefix(le.Error(), le.Pos.String()+": ")}
	}
	return &shellError{1, err.Error()}
}

func feedsHeredoc(f *syntax.File) bool {
	found := false
	syntax.Walk(f, func(n syntax.Node) bool {
		if r, ok := n.(*syntax.Redirect); ok && (r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc) {
			found = true
		}
		return !found
	})
	return found
}

// cuts marks the bytes of a block that are not a command's text: its
// comments, and each backslash-newline outside single quotes, which the
// shell removes (a line continuation).
func cuts(content string, f *syntax.File) []bool {
	cut := make([]bool, len(content))
	quoted := make([]bool, len(content))
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Comment:
			for i := n.Pos().Offset(); i < n.End().Offset(); i++ {
				cut[i] = true
			}
		case *syntax.SglQuoted:
			for i := n.Pos().Offset(); i < n.End().Offset(); i++ {
				quoted[i] = true
			}
		}
		return true
	})
	for i := 1; i < len(content); i++ {
		if content[i] != '\n' || content[i-1] != '\\' || cut[i-1] || quoted[i-1] {
			continue
		}
		run := 0
		for j := i - 1; j >= 0 && content[j] == '\\'; j-- {
			run++
		}
		if run%2 == 1 {
			cut[i-1], cut[i] = true, true
		}
	}
	return cut
}

// keep is s without the bytes cut marks.
func keep(s string, cut []bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if !cut[i] {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
