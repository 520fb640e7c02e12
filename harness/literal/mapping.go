// Package literal runs the troubleshooting guide's shell blocks as written,
// through bash in an operator's toolbox on a party's host
// (cluster.OpenToolbox), with the guide's names resolved to the cluster by
// an explicit mapping table (fixtures/guide/mapping.yaml), and reports per
// line what happened: ran, failed, tool absent, needs a terminal, unsafe.
// Nothing is rewritten silently: every command a mapping touches is marked
// mapped, with the mapping's reason.
package literal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kmschaos/kmschaos/harness/guide"
)

// Vars are the run's variables a mapping value may use.
var Vars = []string{"party", "n", "t", "api_port", "p2p_port", "metrics_port", "container", "container_prefix",
	"host", "peer_host", "uid", "priv", "pub", "backup", "config", "backup_config"}

// Mapping is the table of fixtures/guide/mapping.yaml.
type Mapping struct {
	File     string    `yaml:"-"`
	Names    []Name    `yaml:"names"`
	Paths    []Path    `yaml:"paths"`
	Commands []Command `yaml:"commands"`
	Unsafe   []Unsafe  `yaml:"unsafe"`
	Tools    []Tool    `yaml:"tools"`
}

// Name replaces a name of the guide in a block's text: a literal Guide
// text, or a regular expression Pattern whose groups Cluster may use ($1).
type Name struct {
	Guide   string `yaml:"guide"`
	Pattern string `yaml:"pattern"`
	Cluster string `yaml:"cluster"`
	Why     string `yaml:"why"`
	Line    int    `yaml:"-"`
	re      *regexp.Regexp
}

// Path makes a path of the guide exist (a symbolic link to Cluster).
type Path struct {
	Guide   string `yaml:"guide"`
	Cluster string `yaml:"cluster"`
	Why     string `yaml:"why"`
	Line    int    `yaml:"-"`
	re      *regexp.Regexp
}

// in tells whether a line of code names the path as a whole word.
func (p *Path) in(code string) bool {
	if p.re == nil {
		p.re = regexp.MustCompile(`(^|[\s"'=(])` + regexp.QuoteMeta(p.Guide) + `($|[\s"'/;)|*])`)
	}
	return p.re.MatchString(code)
}

// Command defines a command of a deployment the cluster is not, as a shell
// function.
type Command struct {
	Name     string `yaml:"name"`
	Why      string `yaml:"why"`
	Function string `yaml:"function"`
	// OwnNamespaces: a block using the command stops parties, so it runs
	// in a toolbox with its own namespaces, not inside the party's.
	OwnNamespaces bool `yaml:"own_namespaces"`
	Line          int  `yaml:"-"`
	re            *regexp.Regexp
}

// in tells whether a line of code calls the command.
func (c *Command) in(code string) bool {
	if c.re == nil {
		c.re = regexp.MustCompile(`(^|[\s;&|("])` + regexp.QuoteMeta(c.Name) + `(\s|$)`)
	}
	return c.re.MatchString(code)
}

// Unsafe is text that never runs on a shared host.
type Unsafe struct {
	Text string `yaml:"text"`
	Why  string `yaml:"why"`
	Line int    `yaml:"-"`
}

// Tool is a tool the toolbox lacks, with the reason.
type Tool struct {
	Name string `yaml:"name"`
	Why  string `yaml:"why"`
	Line int    `yaml:"-"`
}

// LoadMapping reads and validates a mapping table.
func LoadMapping(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseMapping(path, data)
}

var varRef = regexp.MustCompile(`\{\{\s*([a-zA-Z_]+)\s*\}\}`)

// ParseMapping decodes a mapping table, refusing unknown keys, entries
// without a reason and unknown variables, with the file, line and text.
func ParseMapping(file string, data []byte) (*Mapping, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, data, err)
	}
	m := &Mapping{File: file}
	if len(doc.Content) == 0 {
		return nil, &guide.InputError{File: file, Line: 1, Msg: "an empty mapping table"}
	}
	root := doc.Content[0]
	if err := known(file, data, root, "mapping table", "names", "paths", "commands", "unsafe", "tools"); err != nil {
		return nil, err
	}
	var errs []error
	bad := func(line int, format string, a ...any) {
		errs = append(errs, &guide.InputError{File: file, Line: line, Text: lineOf(data, line), Msg: fmt.Sprintf(format, a...)})
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i].Value, root.Content[i+1]
		if val.Kind != yaml.SequenceNode {
			bad(val.Line, "%s must be a list", key)
			continue
		}
		for _, item := range val.Content {
			var fields []string
			var dst any
			switch key {
			case "names":
				m.Names = append(m.Names, Name{Line: item.Line})
				fields, dst = []string{"guide", "pattern", "cluster", "why"}, &m.Names[len(m.Names)-1]
			case "paths":
				m.Paths = append(m.Paths, Path{Line: item.Line})
				fields, dst = []string{"guide", "cluster", "why"}, &m.Paths[len(m.Paths)-1]
			case "commands":
				m.Commands = append(m.Commands, Command{Line: item.Line})
				fields, dst = []string{"name", "why", "function", "own_namespaces"}, &m.Commands[len(m.Commands)-1]
			case "unsafe":
				m.Unsafe = append(m.Unsafe, Unsafe{Line: item.Line})
				fields, dst = []string{"text", "why"}, &m.Unsafe[len(m.Unsafe)-1]
			case "tools":
				m.Tools = append(m.Tools, Tool{Line: item.Line})
				fields, dst = []string{"name", "why"}, &m.Tools[len(m.Tools)-1]
			}
			if err := known(file, data, item, strings.TrimSuffix(key, "s")+" entry", fields...); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := item.Decode(dst); err != nil {
				bad(item.Line, "%v", err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	checkVars := func(line int, s string) {
		for _, v := range varRef.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(Vars, v[1]) {
				bad(line, "unknown variable {{%s}} (known: %s)", v[1], strings.Join(Vars, ", "))
			}
		}
	}
	for i := range m.Names {
		n := &m.Names[i]
		switch {
		case (n.Guide == "") == (n.Pattern == ""):
			bad(n.Line, "a name needs exactly one of guide or pattern")
		case n.Cluster == "" || n.Why == "":
			bad(n.Line, "a name needs cluster and why")
		case n.Pattern != "":
			re, err := regexp.Compile(n.Pattern)
			if err != nil {
				bad(n.Line, "pattern: %v", err)
			}
			n.re = re
		}
		checkVars(n.Line, n.Cluster)
	}
	for i := range m.Paths {
		p := &m.Paths[i]
		if p.Guide == "" || p.Cluster == "" || p.Why == "" {
			bad(p.Line, "a path needs guide, cluster and why")
		}
		checkVars(p.Line, p.Cluster)
		p.in("") // compile its pattern now: Prepare may run concurrently
	}
	for i := range m.Commands {
		m.Commands[i].in("")
	}
	for _, c := range m.Commands {
		if c.Name == "" || c.Why == "" || !strings.Contains(c.Function, c.Name+"()") {
			bad(c.Line, "a command needs name, why and a function that defines %s()", c.Name)
		}
		checkVars(c.Line, c.Function)
	}
	for _, u := range m.Unsafe {
		if strings.TrimSpace(u.Text) == "" || u.Why == "" {
			bad(u.Line, "an unsafe entry needs text and why")
		}
	}
	for _, t := range m.Tools {
		if t.Name == "" || t.Why == "" {
			bad(t.Line, "a tool needs name and why")
		}
	}
	return m, errors.Join(errs...)
}

// ToolWhy is the reason the toolbox lacks a tool, "" if the table does not
// say.
func (m *Mapping) ToolWhy(name string) string {
	for _, t := range m.Tools {
		if t.Name == name {
			return t.Why
		}
	}
	return ""
}

func known(file string, data []byte, n *yaml.Node, what string, keys ...string) error {
	if n.Kind != yaml.MappingNode {
		return &guide.InputError{File: file, Line: n.Line, Text: lineOf(data, n.Line), Msg: what + " must be a mapping"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(keys, k.Value) {
			return &guide.InputError{File: file, Line: k.Line, Text: lineOf(data, k.Line),
				Msg: fmt.Sprintf("unknown key %q in a %s (%s)", k.Value, what, strings.Join(keys, ", "))}
		}
	}
	return nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlError(file string, data []byte, err error) error {
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		_, _ = fmt.Sscan(m[1], &line)
	}
	return &guide.InputError{File: file, Line: line, Text: lineOf(data, line), Msg: "not valid YAML (" + strings.TrimPrefix(err.Error(), "yaml: ") + ")"}
}

func lineOf(data []byte, line int) string {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return ""
	}
	return strings.TrimSpace(string(lines[line-1]))
}
