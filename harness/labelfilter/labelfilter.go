// Package labelfilter parses the label-filter expressions the suite takes
// through -ginkgo.label-filter, so the CLI selects scenarios with the same
// words without linking the test framework:
//
//	a label alone        network        (case-insensitive)
//	a pattern            /^thresh/      (a Go regexp, case-sensitive)
//	not, and, or         ! && || and , (an or)
//	grouping             ( )
//
// Precedence is Ginkgo's: ! binds tightest, then &&, then || and ",".
// Ginkgo's label sets ("key: containsAny {…}") are refused: the
// catalog's labels have no keys.
package labelfilter

import (
	"fmt"
	"regexp"
	"strings"
)

// Filter says whether a scenario with these labels is selected.
type Filter func(labels []string) bool

// operators end a label; ':' is refused inside one (a label set).
const operators = "&|!,()/"

// Parse reads expr. An empty expression selects everything.
func Parse(expr string) (Filter, error) {
	if expr == "" {
		return func([]string) bool { return true }, nil
	}
	p := &parser{in: []rune(expr)}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.in) {
		switch r := p.in[p.i]; r {
		case ')':
			return nil, p.fail("a ')' with no '(' before it")
		case '&', '|':
			return nil, p.fail("'%c' alone: did you mean '%c%c'?", r, r, r)
		}
		return nil, p.fail("an operator is missing before %q", string(p.in[p.i:]))
	}
	return f, nil
}

type parser struct {
	in []rune
	i  int
}

func (p *parser) fail(format string, a ...any) error {
	return fmt.Errorf("%s (at character %d)", fmt.Sprintf(format, a...), p.i+1)
}

func (p *parser) space() {
	for p.i < len(p.in) && p.in[p.i] == ' ' {
		p.i++
	}
}

// peek reports whether the next token starts with s.
func (p *parser) peek(s string) bool {
	p.space()
	rest := p.in[p.i:]
	if len(rest) < len(s) { // the operators are ASCII: a byte a rune
		return false
	}
	return string(rest[:len(s)]) == s
}

func (p *parser) or() (Filter, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.peek("||"):
			p.i += 2
		case p.peek(","):
			p.i++
		default:
			return left, nil
		}
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(labels []string) bool { return l(labels) || right(labels) }
	}
}

func (p *parser) and() (Filter, error) {
	left, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek("&&") {
		p.i += 2
		right, err := p.not()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(labels []string) bool { return l(labels) && right(labels) }
	}
	return left, nil
}

func (p *parser) not() (Filter, error) {
	if p.peek("!") {
		p.i++
		f, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(labels []string) bool { return !f(labels) }, nil
	}
	return p.operand()
}

func (p *parser) operand() (Filter, error) {
	p.space()
	if p.i == len(p.in) {
		return nil, p.fail("the expression ends where a label is expected")
	}
	switch r := p.in[p.i]; r {
	case '(':
		p.i++
		if p.peek(")") {
			return nil, p.fail("an empty '()'")
		}
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peek(")") {
			return nil, p.fail("a '(' is not closed")
		}
		p.i++
		return f, nil
	case '/':
		end := p.i + 1
		for end < len(p.in) && p.in[end] != '/' {
			end++
		}
		if end == len(p.in) {
			return nil, p.fail("a /pattern/ is not closed")
		}
		pattern := string(p.in[p.i+1 : end])
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, p.fail("the pattern %q: %v", pattern, err)
		}
		p.i = end + 1
		return func(labels []string) bool {
			for _, l := range labels {
				if re.MatchString(l) {
					return true
				}
			}
			return false
		}, nil
	case '&', '|':
		if p.i+1 < len(p.in) && p.in[p.i+1] == r {
			return nil, p.fail("'%c%c' has no label before it", r, r)
		}
		return nil, p.fail("'%c' alone: did you mean '%c%c'?", r, r, r)
	case ',', ')':
		return nil, p.fail("%q where a label is expected", r)
	}
	start := p.i
	for p.i < len(p.in) && !strings.ContainsRune(operators, p.in[p.i]) {
		p.i++
	}
	label := strings.TrimSpace(string(p.in[start:p.i]))
	if strings.ContainsRune(label, ':') {
		p.i = start
		return nil, p.fail("label sets (key: operation) are not supported: the catalog's labels have no keys")
	}
	if label == "" {
		p.i = start
		return nil, p.fail("an empty label")
	}
	want := strings.ToLower(label)
	return func(labels []string) bool {
		for _, l := range labels {
			if strings.ToLower(l) == want {
				return true
			}
		}
		return false
	}, nil
}
