package guide

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// How a runbook step carries out what it cites.
const (
	HowVerbatim   = "verbatim"   // the guide's text, run as written
	HowMapped     = "mapped"     // the same operation in this cluster's terms (docker-compose stop → engine stop)
	HowSubstitute = "substitute" // something else stands for it (the harness heals what a person would fix)
)

// Citation is what a runbook step executes or stands for in the guide.
// The runbook package embeds it in its steps as `cites:`.
type Citation struct {
	// Address of a step, a block or a command line of the guide.
	Address string `yaml:"address"`
	// Text that must still be found there: a command's exact text (as
	// the guide writes it, comments and line continuations cut, whitespace
	// collapsed), or for a block or a step a part of its text (a step's
	// title will do).
	Text string `yaml:"text"`
	How  string `yaml:"how"` // verbatim, mapped or substitute
	// Why: for mapped and substitute, what stands for what.
	Why string `yaml:"why,omitempty"`
	// Line is where the citation is in its file, for messages.
	Line int `yaml:"-"`
}

// UnmarshalYAML decodes a citation and remembers its line. Unknown keys
// are refused: a misspelt "text" would otherwise cite nothing.
func (c *Citation) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, "citation", "address", "text", "how", "why"); err != nil {
		return err
	}
	type plain Citation
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = Citation(p)
	c.Line = n.Line
	return nil
}

// RunbookCites is what a runbook cites, step by step.
type RunbookCites struct {
	Name string `yaml:"name"`
	// Guide is the runbook's free-text pointer into the guide, which
	// runbooks had before citations; Touched falls back on it for a
	// runbook that cites nothing.
	Guide string      `yaml:"guide"`
	Steps []StepCites `yaml:"steps"`
	File  string      `yaml:"-"`
}

// StepCites is one runbook step's citations.
type StepCites struct {
	Name  string     `yaml:"name"`
	Cites []Citation `yaml:"cites"`
	Line  int        `yaml:"-"`
}

// UnmarshalYAML decodes a step and remembers its line.
func (s *StepCites) UnmarshalYAML(n *yaml.Node) error {
	type plain StepCites
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = StepCites(p)
	s.Line = n.Line
	return nil
}

// ReadRunbookCites decodes the name, the step names and the citations of a
// runbook file, ignoring every other key: it reads runbooks whatever else
// their steps say.
func ReadRunbookCites(file string, data []byte) (RunbookCites, error) {
	var rb RunbookCites
	if err := yaml.Unmarshal(data, &rb); err != nil {
		return rb, yamlError(file, data, err)
	}
	rb.File = file
	if rb.Name == "" {
		rb.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	return rb, nil
}

// LoadRunbookDir reads the citations of every runbook (*.yaml, *.yml) in a
// directory, in file name order.
func LoadRunbookDir(dir string) ([]RunbookCites, error) {
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	var out []RunbookCites
	var errs []error
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		rb, err := ReadRunbookCites(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, rb)
	}
	return out, errors.Join(errs...)
}

// Exclusion is a part of the guide no runbook runs, and why.
type Exclusion struct {
	Address string `yaml:"address"`
	// Text, if given, must still be found there, as for a citation.
	Text   string `yaml:"text"`
	Reason string `yaml:"reason"`
	Line   int    `yaml:"-"`
}

// UnmarshalYAML decodes an exclusion and remembers its line. Unknown keys
// are refused here: a decoder's KnownFields does not reach a custom
// unmarshaler.
func (e *Exclusion) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, "exclusion", "address", "text", "reason"); err != nil {
		return err
	}
	type plain Exclusion
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*e = Exclusion(p)
	e.Line = n.Line
	return nil
}

// Exclusions is the exclusions file: parts of the guide that can never run
// on a container cluster. Excluding a section, a step or a block excludes
// everything under it.
type Exclusions struct {
	File    string      `yaml:"-"`
	Entries []Exclusion `yaml:"exclusions"`
}

// ReadExclusionsFile reads an exclusions file.
func ReadExclusionsFile(path string) (*Exclusions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ReadExclusions(path, data)
}

// ReadExclusions decodes an exclusions file. Unknown keys are refused (a
// misspelt "reason" must not pass), and so is an entry without an address
// or a reason.
func ReadExclusions(file string, data []byte) (*Exclusions, error) {
	ex := &Exclusions{File: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(ex); err != nil && !errors.Is(err, io.EOF) { // an empty file excludes nothing
		return nil, yamlError(file, data, err)
	}
	var errs []error
	for _, e := range ex.Entries {
		switch {
		case strings.TrimSpace(e.Address) == "":
			errs = append(errs, &InputError{File: file, Line: e.Line, Text: lineOf(data, e.Line), Msg: "exclusion without an address"})
		case strings.TrimSpace(e.Reason) == "":
			errs = append(errs, &InputError{File: file, Line: e.Line, Text: e.Address, Msg: "exclusion without a reason"})
		}
	}
	return ex, errors.Join(errs...)
}

// knownKeys refuses a mapping key not in keys. A decoder's KnownFields
// does not reach a custom unmarshaler, so these check for themselves.
func knownKeys(n *yaml.Node, what string, keys ...string) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(keys, k.Value) {
			return fmt.Errorf("line %d: unknown key %q in a %s (%s)", k.Line, k.Value, what, strings.Join(keys, ", "))
		}
	}
	return nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlError turns a YAML error into an InputError naming the line.
func yamlError(file string, data []byte, err error) error {
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return &InputError{File: file, Line: line, Text: lineOf(data, line), Msg: fmt.Sprintf("not valid YAML (%s)", msg)}
}

func lineOf(data []byte, line int) string {
	lines := strings.Split(string(data), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	return strings.TrimSpace(lines[line-1])
}
