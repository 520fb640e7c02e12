package literal

import (
	"fmt"
	"path"
	"strings"

	"github.com/kmschaos/kmschaos/harness/guide"
)

// WorkDir is the working directory blocks run in: the party's, where
// its keys/ and config/ are.
const WorkDir = "/app/kms"

// Use is one change the mapping made for a line of the guide.
type Use struct {
	Line    int    // of the guide file
	Kind    string // name, path or command
	Guide   string // what the guide says
	Cluster string // what runs
	Why     string
}

// Script is a block ready to run: the prelude the mapping makes (links,
// functions) and the block's text with the guide's names replaced. A block
// holding unsafe text has Unsafe set and must not run.
type Script struct {
	Block   *guide.Node
	Prelude string
	Body    string
	Mapped  []Use
	Unsafe  *Unsafe
	// OwnNamespaces: run it in a toolbox that does not share the party's
	// namespaces (the block stops parties).
	OwnNamespaces bool
}

// Mapped tells whether the mapping touched guide line l.
func (s *Script) MappedAt(l int) []Use {
	var out []Use
	for _, u := range s.Mapped {
		if u.Line == l {
			out = append(out, u)
		}
	}
	return out
}

// Prepare applies the mapping to block b of g for the run's variables. It
// refuses a block that still holds a <placeholder> afterwards, naming the
// guide's line, and a mapping value using a variable vars lacks.
func Prepare(g *guide.Guide, b *guide.Node, m *Mapping, vars map[string]string) (*Script, error) {
	if b.Kind != guide.KindBlock {
		return nil, fmt.Errorf("%s is a %s, not a code block", b.Address, b.Kind)
	}
	s := &Script{Block: b}
	for i := range m.Unsafe {
		if strings.Contains(guide.Normalize(b.Text), guide.Normalize(m.Unsafe[i].Text)) {
			s.Unsafe = &m.Unsafe[i]
			s.Body = b.Text
			return s, nil
		}
	}
	expand := func(v string) (string, error) {
		var missing []string
		out := varRef.ReplaceAllStringFunc(v, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			val, ok := vars[name]
			if !ok {
				missing = append(missing, name)
			}
			return val
		})
		if len(missing) > 0 {
			return "", fmt.Errorf("%s: the mapping uses {{%s}}, which this run does not set", m.File, strings.Join(missing, "}}, {{"))
		}
		return out, nil
	}
	lines := strings.Split(b.Text, "\n")
	var prelude []string
	if c, ok := vars["container"]; ok {
		prelude = append(prelude, "KMS_CONTAINER="+shellQuote(c))
	}
	links := map[string]bool{}
	funcs := map[string]bool{}
	for j, raw := range lines {
		gl := b.Line + 1 + j // the fence is b.Line
		code := codeOf(raw)
		if strings.TrimSpace(code) == "" {
			continue
		}
		line := raw
		for _, n := range m.Names {
			val, err := expand(n.Cluster)
			if err != nil {
				return nil, err
			}
			switch {
			case n.Guide != "" && strings.Contains(code, n.Guide):
				line = strings.ReplaceAll(line, n.Guide, val)
				s.Mapped = append(s.Mapped, Use{gl, "name", n.Guide, val, n.Why})
			case n.re != nil && n.re.MatchString(code):
				for _, hit := range n.re.FindAllString(code, -1) {
					s.Mapped = append(s.Mapped, Use{gl, "name", hit, n.re.ReplaceAllString(hit, val), n.Why})
				}
				line = n.re.ReplaceAllString(line, val)
			}
		}
		for i := range m.Paths {
			p := &m.Paths[i]
			if !p.in(code) {
				continue
			}
			val, err := expand(p.Cluster)
			if err != nil {
				return nil, err
			}
			s.Mapped = append(s.Mapped, Use{gl, "path", p.Guide, val, p.Why})
			if !links[p.Guide] {
				links[p.Guide] = true
				at := p.Guide
				if !path.IsAbs(at) {
					at = path.Join(WorkDir, at)
				}
				prelude = append(prelude, fmt.Sprintf("mkdir -p %s && ln -sfn %s %s", shellQuote(path.Dir(at)), shellQuote(val), shellQuote(at)))
			}
		}
		for i := range m.Commands {
			c := &m.Commands[i]
			if !c.in(code) {
				continue
			}
			fn, err := expand(c.Function)
			if err != nil {
				return nil, err
			}
			s.Mapped = append(s.Mapped, Use{gl, "command", c.Name, "a shell function (" + m.File + ")", c.Why})
			s.OwnNamespaces = s.OwnNamespaces || c.OwnNamespaces
			if !funcs[c.Name] {
				funcs[c.Name] = true
				prelude = append(prelude, strings.TrimRight(fn, "\n"))
			}
		}
		if p := guide.Placeholder.FindString(codeOf(line)); p != "" { // it must never reach a shell
			return nil, &guide.InputError{File: g.File, Line: gl, Text: strings.TrimSpace(raw),
				Msg: fmt.Sprintf("%s has no mapping in %s: the block is not run", p, m.File)}
		}
		lines[j] = line
	}
	s.Prelude = strings.Join(prelude, "\n")
	s.Body = strings.Join(lines, "\n")
	return s, nil
}

// codeOf is a line without its comment.
func codeOf(l string) string {
	t := strings.TrimSpace(l)
	if strings.HasPrefix(t, "#") {
		return ""
	}
	if i := strings.Index(l, " #"); i >= 0 && !strings.ContainsAny(l[:i], `"'`) {
		return l[:i]
	}
	return l
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
