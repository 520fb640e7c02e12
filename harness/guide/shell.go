package guide

import (
	"regexp"
	"strings"
)

// unit is one command of a shell block: lines line..end of the block's
// content (1-based), text joined on one line.
type unit struct {
	line, end int
	text      string
}

var heredoc = regexp.MustCompile(`<<-?\s*['"]?[A-Za-z_]`)

// splitCommands cuts a shell block into the commands an operator runs one
// by one: blank and comment lines dropped, trailing comments cut, lines
// ending in a backslash joined to the next, and a compound command (for,
// while, until, if, case, { }) kept whole up to its done/fi/esac/}. A block
// that is a script (#! first) or feeds a heredoc is one unit, the block
// itself: script is true and there are no units.
func splitCommands(content []string) (units []unit, script bool) {
	for i, l := range content {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "#!") && i == firstNonBlank(content) {
			return nil, true
		}
		if heredoc.MatchString(stripComment(l)) && !strings.Contains(l, "<<<") {
			return nil, true
		}
	}
	var cur *unit
	var parts []string
	depth := 0
	for i, l := range content {
		code := strings.TrimSpace(stripComment(l))
		if code == "" {
			continue
		}
		if cur == nil {
			cur = &unit{line: i + 1}
		}
		cur.end = i + 1
		continued := strings.HasSuffix(code, `\`)
		code = strings.TrimSuffix(code, `\`)
		parts = append(parts, code)
		depth += nesting(code)
		if continued || depth > 0 {
			continue
		}
		depth = 0
		cur.text = Normalize(strings.Join(parts, " "))
		units = append(units, *cur)
		cur, parts = nil, nil
	}
	if cur != nil { // an unfinished compound or continuation: keep what is there
		cur.text = Normalize(strings.Join(parts, " "))
		units = append(units, *cur)
	}
	return units, false
}

func firstNonBlank(lines []string) int {
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			return i
		}
	}
	return -1
}

// stripComment cuts a # comment that starts a word outside quotes.
func stripComment(l string) string {
	var quote byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\\':
			i++
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
			return l[:i]
		}
	}
	return l
}

// nesting is how many compound commands a line opens minus how many it
// closes, counting keywords in command position outside quotes.
func nesting(code string) int {
	d := 0
	cmdPos := true
	for _, w := range words(code) {
		switch w {
		case ";", "&", "&&", "|", "||", "do", "then", "else", "elif", "(":
			cmdPos = true
			continue
		case "{":
			d++
			cmdPos = true
			continue
		}
		if cmdPos {
			switch w {
			case "for", "while", "until", "if", "case":
				d++
			case "done", "fi", "esac", "}":
				d--
			}
		}
		cmdPos = false
	}
	return d
}

// words splits a line into shell words and the operators ; & && | ||,
// keeping quoted text and $( ) inside their word.
func words(s string) []string {
	var out []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			out = append(out, w.String())
			w.Reset()
		}
	}
	var quote byte
	paren := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			w.WriteByte(c)
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
			w.WriteByte(c)
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			paren++
			w.WriteString("$(")
			i++
		case c == ')' && paren > 0:
			paren--
			w.WriteByte(c)
		case paren > 0:
			w.WriteByte(c)
		case c == ' ' || c == '\t':
			flush()
		case c == ';' || c == '&' || c == '|':
			flush()
			if i+1 < len(s) && s[i+1] == c && c != ';' {
				out = append(out, string([]byte{c, c}))
				i++
			} else {
				out = append(out, string(c))
			}
		default:
			w.WriteByte(c)
		}
	}
	flush()
	return out
}
