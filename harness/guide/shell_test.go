package guide

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// blockCommands parses block as the one bash block of a guide and lists
// its commands as "first-last: text" (lines of the block), or "script"
// for a block that is one unit.
func blockCommands(block string) ([]string, error) {
	g, err := Parse("g.md", []byte("## A\n\n```bash\n"+block+"```\n"))
	if err != nil {
		return nil, err
	}
	blk := g.Lookup("A > block 1")
	if blk.Script {
		return []string{"script"}, nil
	}
	var out []string
	for _, c := range blk.Children {
		out = append(out, fmt.Sprintf("%d-%d: %s", c.Line-blk.Line, c.EndLine-blk.Line, c.Text))
	}
	return out, nil
}

// How a shell block is cut into the commands an operator runs one by one:
// each case is a block and its commands (lines of the block, text with
// comments and continuations gone, whitespace collapsed).
func TestShellBlockCommands(t *testing.T) {
	cases := []struct {
		name, block string
		want        []string
	}{
		{"comments and blanks", "# a\n\nls -l  # list\necho '#not a comment'\n",
			[]string{"3-3: ls -l", "4-4: echo '#not a comment'"}},
		{"continuation", "kms-init \\\n  --a 1 \\\n  --b 2\nwait\n",
			[]string{"1-3: kms-init --a 1 --b 2", "4-4: wait"}},
		{"continuation inside a word: the shell joins it", "echo foo\\\nbar\n",
			[]string{"1-2: echo foobar"}},
		{"an escaped backslash ends the line", "echo \\\\\nls\n",
			[]string{`1-1: echo \\`, "2-2: ls"}},
		{"a comment's backslash continues nothing", "ls # a \\\npwd\n",
			[]string{"1-1: ls", "2-2: pwd"}},
		{"backslash-newline in single quotes is text", "echo 'a\\\nb'\n",
			[]string{`1-2: echo 'a\ b'`}},
		{"if", "if true; then\n  x\nfi\n",
			[]string{"1-3: if true; then x fi"}},
		{"for with a background job", "for i in 1 2; do\n  y &\ndone\nwait\n",
			[]string{"1-3: for i in 1 2; do y & done", "4-4: wait"}},
		{"while with a redirection", "while read l; do\n  echo \"$l\"\ndone < f\n",
			[]string{`1-3: while read l; do echo "$l" done < f`}},
		{"case", "case $1 in\n  a) x ;;\n  *) y ;;\nesac\n",
			[]string{"1-4: case $1 in a) x ;; *) y ;; esac"}},
		{"comments inside a compound", "for i in 1 2; do\n  # say it\n  echo $i  # and again\ndone\n",
			[]string{"1-4: for i in 1 2; do echo $i done"}},
		{"function", "f() {\n  x\n}\nf\n",
			[]string{"1-3: f() { x }", "4-4: f"}},
		{"pipe", "ps aux | grep kms\n",
			[]string{"1-1: ps aux | grep kms"}},
		{"pipe continued on the next line", "ps aux |\n  grep kms\n",
			[]string{"1-2: ps aux | grep kms"}},
		{"and chain", "make && make install || echo failed\n",
			[]string{"1-1: make && make install || echo failed"}},
		{"and chain continued on the next line", "make &&\n  make install\n",
			[]string{"1-2: make && make install"}},
		{"two on a line are one command", "a; b\nc &\n",
			[]string{"1-1: a; b", "2-2: c &"}},
		{"a quoted string over two lines", "echo \"a\nb\"\n",
			[]string{"1-2: echo \"a b\""}},
		{"a subshell over lines", "(\n  cd /x\n  make\n)\n",
			[]string{"1-4: ( cd /x make )"}},
		{"a command substitution over lines", "x=$(\n  ls\n)\necho $x\n",
			[]string{"1-3: x=$( ls )", "4-4: echo $x"}},
		{"placeholders", "kms-health-check live --endpoint localhost:<GRPC_PORT> | grep -A 10 \"KEY\"\njmap -dump:live <pid>\n",
			[]string{`1-1: kms-health-check live --endpoint localhost:<GRPC_PORT> | grep -A 10 "KEY"`, "2-2: jmap -dump:live <pid>"}},
		{"a redirection is not a placeholder", "sort <in >out\n",
			[]string{"1-1: sort <in >out"}},
		{"script", "#!/bin/bash\nls\n", []string{"script"}},
		{"heredoc", "cat <<EOF\nx\nEOF\n", []string{"script"}},
		{"heredoc with a dash and quotes", "cat <<-'EOF' > f\n\tx\n\tEOF\n", []string{"script"}},
		{"heredoc written to a file", "cat <<EOF>out\nx\nEOF\n", []string{"script"}},
		{"here-string is not a heredoc", "grep x <<< \"$v\"\n",
			[]string{`1-1: grep x <<< "$v"`}},
		{"a quoted << is not a heredoc", "echo \"<<EOF\"\n",
			[]string{`1-1: echo "<<EOF"`}},
	}
	for _, c := range cases {
		got, err := blockCommands(c.block)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: %q (error %v), want %q", c.name, got, err, c.want)
		}
	}
}

// A block the shell parser refuses is input the guide tools refuse: the
// guide's file and line, the parser's words, the offending line.
func TestShellBlockNotShell(t *testing.T) {
	cases := []struct {
		name, block string
		line        int // of the guide (the block's first line is 4)
		msg, text   string
	}{
		{"unclosed quote", "ls\necho \"oops\nls\n", 5, "reached EOF without closing quote `\"`", `echo "oops`},
		{"a pipe to nothing", "ls\nps aux |\n", 5, "`|` must be followed by a statement", "ps aux |"},
		{"fi without if", "ls\nfi\n", 5, "`fi` can only be used to end an `if`", "fi"},
		{"unfinished compound", "for i in 1 2; do\n  echo $i\n", 4, "must end with", "for i in 1 2; do"},
	}
	for _, c := range cases {
		_, err := blockCommands(c.block)
		var ie *InputError
		ok := errors.As(err, &ie)
		if !ok || ie.File != "g.md" || ie.Line != c.line || !strings.Contains(ie.Msg, c.msg) || ie.Text != c.text {
			t.Errorf("%s: %v, want g.md:%d: … %s …: %q", c.name, err, c.line, c.msg, c.text)
		}
	}
}

// FuzzShellBlock feeds the splitter arbitrary blocks: it must never panic
// or loop, a refusal names a line of the block, and what it accepts is
// commands in order, each starting on a line after the one before ends,
// within the block, with text. The seeds are the shipped guide's blocks.
func FuzzShellBlock(f *testing.F) {
	for _, b := range parseFixture(f).OfKind(KindBlock) {
		f.Add(strings.TrimSuffix(b.Text, "\n"))
	}
	f.Add("for i in 1; do # a \\\n  x\ndone; y\n")
	f.Fuzz(func(t *testing.T, block string) {
		lines := strings.Count(block, "\n") + 1
		units, script, err := splitCommands(block)
		if err != nil {
			if err.line < 1 || err.line > lines || err.msg == "" {
				t.Fatalf("refused at line %d of %d: %q", err.line, lines, err.msg)
			}
			return
		}
		if script && len(units) > 0 {
			t.Fatalf("a script with %d commands", len(units))
		}
		last := 0
		for _, u := range units {
			if u.line <= last || u.end < u.line || u.end > lines || u.text == "" {
				t.Fatalf("command %+v after line %d, in %d lines", u, last, lines)
			}
			last = u.end
		}
	})
}
