// Package runbook runs the guide's resolution and emergency procedures as
// named steps with postconditions. Runbooks are data: YAML files under
// runbooks/ that a user writes without Go. Every runbook is validated
// completely when it is loaded (patterns compiled, placeholders, party
// lists, sizes and names checked), so that nothing about its shape can go
// wrong once a fault is injected. A step that fails, or one after which
// key material is gone, is reported as a defect of the runbook, naming
// the step.
package runbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"go.yaml.in/yaml/v3"

	"github.com/kmschaos/kmschaos/harness/guide"
)

// Origins of a runbook: who wrote the procedure that recovers the cluster.
const (
	// OriginGuide: the guide's procedure as written (files named
	// *-as-written, and those that run the guide's own steps unchanged).
	OriginGuide = "guide"
	// OriginRepaired: our repair of a procedure the guide gets wrong.
	OriginRepaired = "repaired"
	// OriginHarness: a procedure that only undoes the harness's own fault.
	OriginHarness = "harness"
	// OriginOperations: a procedure from the real KMS's operations pages
	// (zama-ai/kms docs/operations: kubectl, helm), as an operator of a
	// Kubernetes deployment runs it, not from the troubleshooting guide.
	OriginOperations = "operations"
)

// Runbook is one procedure.
type Runbook struct {
	Name        string `yaml:"name"`
	Guide       string `yaml:"guide"` // where the guide gives it
	Description string `yaml:"description"`
	// Origin says whose procedure this is: OriginGuide, OriginRepaired,
	// OriginHarness or OriginOperations; the scorecard's "recovered by" is
	// read from it.
	Origin string `yaml:"origin"`
	// Renews declares the key objects the runbook replaces on purpose, so
	// that the audit after the scenario accepts them and nothing else:
	// RenewsEpoch (kms-init with a fresh epoch id sets up a new PRSS epoch
	// on every party; the faulted parties' old one may be gone) and
	// RenewsCertificate (the faulted parties' peer-link certificate is
	// re-issued for the same key).
	Renews []string `yaml:"renews"`
	// Baseline declares the resources the runbook changes on purpose
	// (BaselineMemory, BaselineCPUs): once it has run whole, the limits its
	// engine update steps set become the new baseline of the parties they
	// changed, so the audit holds them to the new value instead of
	// reporting a fault left behind.
	Baseline []string `yaml:"baseline"`
	// Vars are variables beyond the built-in ones (Builtins) that the
	// caller must supply (Env.Vars), e.g. targets, observer.
	Vars   []string `yaml:"vars"`
	Steps  []Step   `yaml:"steps"`
	Source string   `yaml:"-"` // file it was read from

	valid bool
}

// What a runbook may declare as a new baseline (Runbook.Baseline).
const (
	BaselineMemory = "memory"
	BaselineCPUs   = "cpus"
)

// What a runbook may renew (Runbook.Renews).
const (
	RenewsEpoch       = "prss-epoch"
	RenewsCertificate = "tls-certificate"
)

// Step is one action and what must hold after it. Exactly one of Exec,
// Engine, Heal and Wait, or none when the step only checks.
type Step struct {
	Name   string  `yaml:"name"`
	Guide  string  `yaml:"guide"` // the guide's words or command
	Exec   *Exec   `yaml:"exec"`
	Engine *Engine `yaml:"engine"`
	// Heal undoes the injected fault: what the guide leaves to people
	// ("contact the network coordinator", "fix the firewall").
	Heal bool `yaml:"heal"`
	// Wait is a pause the procedure itself prescribes (the guide's
	// "sleep 10"), not a way to wait for a condition: use Expect for that.
	Wait Duration `yaml:"wait"`
	// UndoesFault: the step undoes the harness's own injected fault (the
	// harness's filler file, hosts entry, pause, limit) rather than doing
	// what the guide says. Heal implies it.
	UndoesFault bool `yaml:"undoes_fault"`
	// Diagnostic: the step only shows something to the operator and judges
	// nothing (any exit status, no output check). Such a step must say so,
	// and is reported as checking nothing.
	Diagnostic bool   `yaml:"diagnostic"`
	Expect     Expect `yaml:"expect"`
	// Cites are the parts of the guide the step executes or stands for;
	// `kmschaos guide check` matches them against the guide (drift, gaps).
	Cites []guide.Citation `yaml:"cites"`
	// Capture reads values off the step's output, as an operator reads a
	// node's name off kubectl's: each variable's regular expression has
	// one group, and its first match is {{name}} in the steps after it.
	Capture map[string]string `yaml:"capture"`

	captures map[string]*regexp.Regexp // compiled by Validate
}

// Exec runs a command in a container.
type Exec struct {
	// In: party (default); keeper, the operator's debug pod; or operator,
	// the operator's own machine, where kubectl and helm run as written
	// against the run's cluster and namespace (Kubernetes only: on another
	// backend the step is unsupported and its scenario skipped).
	In      string   `yaml:"in"`
	Party   string   `yaml:"party"` // which party's container (default {{party}})
	User    string   `yaml:"user"`  // party or root (default: party in a party container, root in the keeper)
	Command []string `yaml:"command"`
}

// Engine is a container engine operation on parties, as docker or
// docker-compose does it.
type Engine struct {
	// Action: stop (SIGTERM, then SIGKILL after timeout), start, restart,
	// kill, pause, unpause, update (memory, cpus), remove (rm -f),
	// recreate (up -d), down (stop and remove), purge (the party's keys
	// volume removed and created empty, as down --volumes does), prune
	// (remove the cluster's stopped containers), inspect (docker inspect:
	// status, restarts, OOM kill, memory and CPU limits against the
	// cluster's baseline, one line per party; the step's output).
	Action  string   `yaml:"action"`
	Parties string   `yaml:"parties"` // {{party}} (default), all, 1-4, 1,3,5, {{targets}}
	Timeout Duration `yaml:"timeout"` // stop, restart, down (default 10 s)
	Memory  string   `yaml:"memory"`  // update: e.g. 256m
	CPUs    string   `yaml:"cpus"`    // update: e.g. 2, or {{cpus}} (the baseline)
}

// Expect is a step's postcondition. Exit, Output and NotOutput judge the
// step's own output (an exec's, or an engine inspect's); the others are
// polled until they hold or Within passes.
type Expect struct {
	Exit      *int     `yaml:"exit"`       // exit status of the command (0)
	AnyExit   bool     `yaml:"any_exit"`   // any exit status will do (then judge the output, or declare a diagnostic)
	Output    string   `yaml:"output"`     // regular expression the output must match
	NotOutput string   `yaml:"not_output"` // regular expression it must not match
	Optimal   bool     `yaml:"optimal"`    // every party reports Optimal
	Health    string   `yaml:"health"`     // status of {{party}}'s health check: Optimal|Healthy
	Decrypt   string   `yaml:"decrypt"`    // parties through which a fresh value decrypts right
	Restarted string   `yaml:"restarted"`  // parties whose containers (re)started during the step
	Readable  string   `yaml:"readable"`   // parties whose user can read every key file of theirs
	Within    Duration `yaml:"within"`     // bound of the polled conditions (default 90 s)

	output, notOutput *regexp.Regexp // compiled by Validate
}

// Duration reads "10s", "1m30s".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like 10s): %w", n.Line, n.Value, err)
	}
	*d = Duration(v)
	return nil
}

// Load reads and validates a runbook file.
func Load(path string) (*Runbook, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, raw)
}

// Parse decodes a runbook strictly (unknown keys are errors) and validates
// it; name is the file it came from, for the messages.
func Parse(name string, raw []byte) (*Runbook, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var rb Runbook
	if err := dec.Decode(&rb); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty runbook", name)
		}
		return nil, fmt.Errorf("%s: %s", name, atSteps(raw, err))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: one runbook per file: a second YAML document follows", name)
	}
	rb.Source = name
	if err := rb.Validate(); err != nil {
		return nil, err
	}
	return &rb, nil
}

var lineRef = regexp.MustCompile(`line (\d+): `)

// atSteps names the step of each line a decoding error points at, so that
// a type error reads like a validation error: line 9: step 2 "Stop": ...
func atSteps(raw []byte, err error) string {
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return err.Error()
	}
	var steps []*yaml.Node
	doc := root.Content[0].Content
	for k := 0; k+1 < len(doc); k += 2 {
		if doc[k].Value == "steps" && doc[k+1].Kind == yaml.SequenceNode {
			steps = doc[k+1].Content
		}
	}
	return lineRef.ReplaceAllStringFunc(err.Error(), func(ref string) string {
		line, _ := strconv.Atoi(lineRef.FindStringSubmatch(ref)[1])
		for k := len(steps) - 1; k >= 0; k-- {
			if steps[k].Line <= line {
				name := ""
				if steps[k].Kind == yaml.MappingNode {
					for j := 0; j+1 < len(steps[k].Content); j += 2 {
						if steps[k].Content[j].Value == "name" {
							name = steps[k].Content[j+1].Value
						}
					}
				}
				return fmt.Sprintf("%sstep %d %q: ", ref, k+1, name)
			}
		}
		return ref
	})
}

// Problem is one thing wrong with a runbook.
type Problem struct {
	Step     int    // 1-based; 0 for the runbook itself
	StepName string //
	Field    string // e.g. expect.output, engine.parties
	Err      error
}

func (p Problem) Error() string {
	if p.Step == 0 {
		return fmt.Sprintf("%s: %v", p.Field, p.Err)
	}
	return fmt.Sprintf("step %d %q: %s: %v", p.Step, p.StepName, p.Field, p.Err)
}

// InvalidError lists everything wrong with a runbook, one line each,
// every line naming the file, the step and the field.
type InvalidError struct {
	File     string
	Problems []Problem
}

func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Problems))
	for k, p := range e.Problems {
		lines[k] = e.File + ": " + p.Error()
	}
	return strings.Join(lines, "\n")
}

var healthStates = map[string]bool{"Optimal": true, "Healthy": true, "Degraded": true, "Unhealthy": true}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Validate checks the whole runbook and compiles its patterns. It returns
// an *InvalidError naming every problem.
func (rb *Runbook) Validate() error {
	v := validator{rb: rb, declared: map[string]bool{}, used: map[string]bool{}}
	v.runbook()
	for k := range rb.Steps {
		v.step(k+1, &rb.Steps[k])
	}
	for _, name := range rb.Vars {
		if v.declared[name] && !v.used[name] {
			v.add(0, "", "vars", fmt.Errorf("%s is declared but no step uses {{%s}}", name, name))
		}
	}
	for _, c := range v.captured {
		if !v.used[c.name] {
			v.add(c.step, c.stepName, "capture."+c.name, fmt.Errorf("no later step uses {{%s}}", c.name))
		}
	}
	if len(v.problems) > 0 {
		file := rb.Source
		if file == "" {
			file = "runbook " + strconv.Quote(rb.Name)
		}
		return &InvalidError{File: file, Problems: v.problems}
	}
	rb.valid = true
	return nil
}

type validator struct {
	rb             *Runbook
	declared, used map[string]bool
	captured       []capturedVar
	problems       []Problem
	stepNo         int
	stepName       string
}

func (v *validator) add(step int, name, field string, err error) {
	v.problems = append(v.problems, Problem{Step: step, StepName: name, Field: field, Err: err})
}

// fail records a problem of the step being checked.
func (v *validator) fail(field string, format string, a ...any) {
	v.add(v.stepNo, v.stepName, field, fmt.Errorf(format, a...))
}

// known tells whether a placeholder may be used in this runbook.
func (v *validator) known(name string) error {
	if builtin[name] || v.declared[name] {
		v.used[name] = true
		return nil
	}
	return fmt.Errorf("unknown variable {{%s}}: not built in and not declared under vars:", name)
}

// text checks the placeholders of a string field.
func (v *validator) text(field, s string) {
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		if err := v.known(m[1]); err != nil {
			v.fail(field, "%v", err)
		}
	}
}

func (v *validator) runbook() {
	rb := v.rb
	top := func(field, format string, a ...any) { v.add(0, "", field, fmt.Errorf(format, a...)) }
	if rb.Name == "" {
		top("name", "missing")
	}
	switch rb.Origin {
	case OriginGuide, OriginRepaired, OriginHarness, OriginOperations:
	case "":
		top("origin", "missing: say who wrote the procedure (guide, repaired, harness or operations)")
	default:
		top("origin", "%q: must be guide, repaired, harness or operations", rb.Origin)
	}
	if strings.HasSuffix(strings.TrimSuffix(filepath.Base(rb.Source), ".yaml"), "-as-written") && rb.Origin != OriginGuide {
		top("origin", "%q: a runbook as written is the guide's (origin: guide)", rb.Origin)
	}
	for k, what := range rb.Renews {
		if what != RenewsEpoch && what != RenewsCertificate {
			top(fmt.Sprintf("renews[%d]", k), "%q: must be %s or %s", what, RenewsEpoch, RenewsCertificate)
		}
	}
	for k, what := range rb.Baseline {
		field := fmt.Sprintf("baseline[%d]", k)
		switch {
		case what != BaselineMemory && what != BaselineCPUs:
			top(field, "%q: must be %s or %s", what, BaselineMemory, BaselineCPUs)
		case !slices.ContainsFunc(rb.Steps, func(s Step) bool { return s.sets(what) }):
			top(field, "%s is declared a new baseline but no engine update step sets it", what)
		}
	}
	for k, name := range rb.Vars {
		field := fmt.Sprintf("vars[%d]", k)
		switch {
		case !identifier.MatchString(name):
			top(field, "%q is not a variable name (lower case letters, digits, _)", name)
		case builtin[name]:
			top(field, "%s is built in: do not declare it", name)
		case v.declared[name]:
			top(field, "%s is declared twice", name)
		}
		v.declared[name] = true
	}
	v.stepNo, v.stepName = 0, ""
	v.text("name", rb.Name)
	v.text("guide", rb.Guide)
	v.text("description", rb.Description)
	if len(rb.Steps) == 0 {
		top("steps", "no steps")
	}
	names := map[string]int{}
	undoes := false
	for k, s := range rb.Steps {
		if s.Name == "" {
			continue
		}
		if first, dup := names[s.Name]; dup {
			v.add(k+1, s.Name, "name", fmt.Errorf("the same name as step %d: step names must be unique (reports and expected defects name steps)", first))
		} else {
			names[s.Name] = k + 1
		}
		undoes = undoes || s.Heal || s.UndoesFault
	}
	if rb.Origin == OriginHarness && len(rb.Steps) > 0 && !undoes {
		top("origin", "harness, but no step undoes the fault (heal: true or undoes_fault: true)")
	}
}

func (v *validator) step(no int, s *Step) {
	v.stepNo, v.stepName = no, s.Name
	if s.Name == "" {
		v.fail("name", "missing")
	}
	v.text("name", s.Name)
	v.text("guide", s.Guide)
	actions := 0
	if s.Exec != nil {
		actions++
		v.exec(s.Exec)
	}
	if s.Engine != nil {
		actions++
		v.engine(s.Engine)
	}
	if s.Heal {
		actions++
	}
	if s.Wait > 0 {
		actions++
	}
	if s.Wait < 0 {
		v.fail("wait", "negative duration %s", time.Duration(s.Wait))
	}
	if actions > 1 {
		v.fail("step", "two actions: give one of exec, engine, heal, wait")
	}
	v.expect(s, actions)
	v.capture(s)
	for k, c := range s.Cites {
		v.cite(fmt.Sprintf("cites[%d]", k), c)
	}
}

// cite checks what a citation must say without the guide at hand; its
// address and text are matched against the guide by guide.Check.
func (v *validator) cite(field string, c guide.Citation) {
	if strings.TrimSpace(c.Address) == "" {
		v.fail(field+".address", "missing: the address of the step, block or command line cited")
	}
	if strings.TrimSpace(c.Text) == "" {
		v.fail(field+".text", "missing: the text cited (a command's exact text, or a part of a block or step)")
	}
	switch c.How {
	case guide.HowVerbatim, guide.HowMapped, guide.HowSubstitute:
	case "":
		v.fail(field+".how", "missing: verbatim, mapped or substitute")
	default:
		v.fail(field+".how", "%q: must be verbatim, mapped or substitute", c.How)
	}
	if (c.How == guide.HowMapped || c.How == guide.HowSubstitute) && strings.TrimSpace(c.Why) == "" {
		v.fail(field+".why", "missing: a %s citation says what stands for what", c.How)
	}
}

func (v *validator) exec(x *Exec) {
	if len(x.Command) == 0 {
		v.fail("exec.command", "missing")
	}
	for k, a := range x.Command {
		v.text(fmt.Sprintf("exec.command[%d]", k), a)
	}
	switch x.In {
	case "", "party":
		if x.Party != "" {
			v.party("exec.party", x.Party, true)
		}
	case "keeper":
		if x.Party != "" {
			v.fail("exec.party", "a keeper exec runs in the keeper, not in a party")
		}
	case "operator":
		if x.Party != "" || x.User != "" {
			v.fail("exec.in", "an operator's command runs on the operator's machine: no exec.party, no exec.user")
		}
		if len(x.Command) > 0 && x.Command[0] != "kubectl" && x.Command[0] != "helm" {
			v.fail("exec.command", "%q: an operator's command is kubectl or helm", x.Command[0])
		}
	default:
		v.fail("exec.in", "%q: must be party, keeper or operator", x.In)
	}
	if x.User != "" && x.User != "party" && x.User != "root" {
		v.fail("exec.user", "%q: must be party or root", x.User)
	}
}

func (v *validator) engine(g *Engine) {
	action, known := engineActions[g.Action]
	if !known {
		v.fail("engine.action", "unknown action %q", g.Action)
	}
	if g.Parties != "" {
		v.party("engine.parties", g.Parties, false)
	}
	if g.Timeout < 0 {
		v.fail("engine.timeout", "negative duration %s", time.Duration(g.Timeout))
	} else if g.Timeout > 0 && known && !action.timed {
		v.fail("engine.timeout", "%s takes no timeout (only stop, restart, down)", g.Action)
	}
	if g.Action != "update" {
		if g.Memory != "" || g.CPUs != "" {
			v.fail("engine.memory", "memory and cpus are for action update, not %s", g.Action)
		}
		return
	}
	if g.Memory == "" && g.CPUs == "" {
		v.fail("engine", "update without memory or cpus changes nothing")
	}
	if g.Memory != "" {
		v.text("engine.memory", g.Memory)
		if !varRef.MatchString(g.Memory) {
			if err := checkMemory(g.Memory); err != nil {
				v.fail("engine.memory", "%v", err)
			}
		}
	}
	if g.CPUs != "" {
		v.text("engine.cpus", g.CPUs)
		if !varRef.MatchString(g.CPUs) {
			if _, err := parseCPUs(g.CPUs); err != nil {
				v.fail("engine.cpus", "%v", err)
			}
		}
	}
}

func checkMemory(s string) error {
	b, err := units.RAMInBytes(s)
	if err != nil {
		return fmt.Errorf("%q is not a memory size (like 256m): %v", s, err)
	}
	if b <= 0 {
		return fmt.Errorf("%q: a memory limit must be positive", s)
	}
	return nil
}

func parseCPUs(s string) (float64, error) {
	c, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || c <= 0 || math.IsInf(c, 0) || math.IsNaN(c) {
		return 0, fmt.Errorf("cpus %q: must be a positive number (like 1.5)", s)
	}
	return c, nil
}

// party checks a party list field; one: it must name one party.
func (v *validator) party(field, spec string, one bool) {
	if strings.TrimSpace(spec) == "" {
		v.fail(field, "empty party list")
		return
	}
	var unknown error
	err := checkPartyList(spec, func(name string) error {
		if err := v.known(name); err != nil && unknown == nil {
			unknown = err
		}
		return nil
	})
	if unknown != nil {
		v.fail(field, "%v", unknown)
	}
	if err != nil {
		v.fail(field, "%v", err)
		return
	}
	if one && (strings.Contains(spec, ",") || strings.Contains(spec, "-") || strings.TrimSpace(spec) == "all") {
		v.fail(field, "%q: must name one party", spec)
	}
}

func (v *validator) expect(s *Step, actions int) {
	x := &s.Expect
	polled := x.Optimal || x.Health != "" || x.Decrypt != "" || x.Restarted != "" || x.Readable != ""
	inspect := s.Engine != nil && s.Engine.Action == "inspect"
	if (x.Exit != nil || x.AnyExit) && s.Exec == nil {
		v.fail("expect.exit", "exit and any_exit judge a command: the step needs an exec")
	}
	if x.Exit != nil && x.AnyExit {
		v.fail("expect.any_exit", "exit and any_exit together: give one")
	}
	if x.Exit != nil && (*x.Exit < 0 || *x.Exit > 255) {
		v.fail("expect.exit", "%d is not an exit status (0..255)", *x.Exit)
	}
	for _, re := range []struct {
		field, src string
		dst        **regexp.Regexp
	}{{"expect.output", x.Output, &x.output}, {"expect.not_output", x.NotOutput, &x.notOutput}} {
		if re.src == "" {
			continue
		}
		if s.Exec == nil && !inspect {
			v.fail(re.field, "judges a step's output: the step needs an exec or an engine inspect")
		}
		if varRef.MatchString(re.src) {
			v.fail(re.field, "placeholders are not expanded in a regular expression")
		}
		r, err := regexp.Compile(re.src)
		if err != nil {
			v.fail(re.field, "%v", err)
			continue
		}
		*re.dst = r
	}
	if x.Health != "" {
		for _, h := range strings.Split(x.Health, "|") {
			if !healthStates[h] {
				v.fail("expect.health", "%q: statuses are Optimal, Healthy, Degraded, Unhealthy (alternatives joined by |)", h)
			}
		}
	}
	for _, f := range []struct{ field, spec string }{{"expect.decrypt", x.Decrypt}, {"expect.restarted", x.Restarted}, {"expect.readable", x.Readable}} {
		if f.spec != "" {
			v.party(f.field, f.spec, false)
		}
	}
	if x.Within < 0 {
		v.fail("expect.within", "negative duration %s", time.Duration(x.Within))
	} else if x.Within > 0 && !polled {
		v.fail("expect.within", "bounds the polled conditions (optimal, health, decrypt, restarted, readable), and the step has none")
	}
	judged := x.Output != "" || x.NotOutput != ""
	checksNothing := (s.Exec != nil && x.AnyExit || inspect) && !judged && !polled
	switch {
	case actions == 0 && !polled:
		v.fail("step", "does nothing and checks nothing")
	case checksNothing && !s.Diagnostic:
		v.fail("expect", "checks nothing (any exit status, no output check): judge its output with output or not_output, or declare it diagnostic: true")
	case s.Diagnostic && !checksNothing:
		v.fail("diagnostic", "a diagnostic reads without judging (an exec with any_exit, or an engine inspect, and no expectations); this step does more")
	}
}

// capturedVar is a variable a step captures, for the check that a later
// step uses it.
type capturedVar struct {
	name, stepName string
	step           int
}

// capture checks and compiles the step's captures, which the steps after
// it may then use.
func (v *validator) capture(s *Step) {
	inspect := s.Engine != nil && s.Engine.Action == "inspect"
	for _, name := range slices.Sorted(maps.Keys(s.Capture)) {
		field := "capture." + name
		switch {
		case s.Exec == nil && !inspect:
			v.fail(field, "reads a step's output: the step needs an exec or an engine inspect")
		case !identifier.MatchString(name):
			v.fail(field, "%q is not a variable name (lower case letters, digits, _)", name)
		case builtin[name]:
			v.fail(field, "%s is built in: a capture may not replace it", name)
		case v.declared[name]:
			v.fail(field, "%s is declared already (under vars: or by an earlier capture)", name)
		}
		src := s.Capture[name]
		if varRef.MatchString(src) {
			v.fail(field, "placeholders are not expanded in a regular expression")
		}
		r, err := regexp.Compile(src)
		if err != nil {
			v.fail(field, "%v", err)
			continue
		}
		if r.NumSubexp() != 1 {
			v.fail(field, "/%s/ has %d groups: give one, around the value to read", src, r.NumSubexp())
			continue
		}
		if s.captures == nil {
			s.captures = map[string]*regexp.Regexp{}
		}
		s.captures[name] = r
		v.declared[name] = true
		v.captured = append(v.captured, capturedVar{name, s.Name, v.stepNo})
	}
}

// read sets the step's captured variables from its output.
func (s Step) read(out string, v map[string][]string) error {
	for _, name := range slices.Sorted(maps.Keys(s.captures)) {
		re := s.captures[name]
		m := re.FindStringSubmatch(out)
		if m == nil || m[1] == "" {
			return fmt.Errorf("capture %s: /%s/ finds nothing in the output: %s", name, re, lastLine(out))
		}
		v[name] = []string{m[1]}
	}
	return nil
}

// sets tells whether the step is an engine update of the resource
// (BaselineMemory or BaselineCPUs).
func (s Step) sets(what string) bool {
	if s.Engine == nil || s.Engine.Action != "update" {
		return false
	}
	return what == BaselineMemory && s.Engine.Memory != "" || what == BaselineCPUs && s.Engine.CPUs != ""
}

// ChecksNothing tells whether the step is a declared diagnostic that
// judges nothing.
func (s Step) ChecksNothing() bool { return s.Diagnostic }

// UndoesHarnessFault tells whether the step undoes the harness's own
// fault (heal, or undoes_fault) instead of doing what the guide says.
func (s Step) UndoesHarnessFault() bool { return s.Heal || s.UndoesFault }

// CheckVars tells whether the caller supplies every variable the runbook
// declares, with a value. Call it before injecting a fault: Run calls it
// before its first step.
func (rb *Runbook) CheckVars(supplied map[string]string) error {
	var missing []string
	for _, name := range rb.Vars {
		if strings.TrimSpace(supplied[name]) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("runbook %q needs variables the caller did not supply: %s", rb.Name, strings.Join(missing, ", "))
	}
	return nil
}

// Command renders a step's action for the report.
func (s Step) Command() string {
	switch {
	case s.Exec != nil:
		in := s.Exec.In
		if in == "" {
			in = "party"
		}
		return fmt.Sprintf("[%s] %s", in, strings.Join(s.Exec.Command, " "))
	case s.Engine != nil:
		return fmt.Sprintf("[engine] %s %s", s.Engine.Action, s.Engine.Parties)
	case s.Heal:
		return "[heal the injected fault]"
	case s.Wait > 0:
		return fmt.Sprintf("[wait] %s", time.Duration(s.Wait))
	}
	return "[check]"
}
