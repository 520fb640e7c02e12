package runbook

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/harness/guide"
)

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
	return fmt.Errorf("unknown variable {{%s}}: not built in and not declared under vars:", name) //nolint:staticcheck // ST1005: it names the YAML key, vars:
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
		undoes = undoes || s.UndoesHarnessFault()
	}
	if rb.Origin == OriginHarness && len(rb.Steps) > 0 && !undoes {
		top("origin", "harness, but no step undoes the fault (heal: true, escalate or undoes_fault: true)")
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
	if s.Escalate != "" {
		actions++
		v.text("escalate", s.Escalate)
	}
	if s.Wait > 0 {
		actions++
	}
	if s.Wait < 0 {
		v.fail("wait", "negative duration %s", time.Duration(s.Wait))
	}
	if actions > 1 {
		v.fail("step", "two actions: give one of exec, engine, heal, escalate, wait")
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
			if _, err := parseMemory(g.Memory); err != nil {
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
		if s.Exec == nil && !s.inspects() {
			v.fail(re.field, "judges a step's output: the step needs an exec or an engine inspect")
		}
		*re.dst = v.pattern(re.field, re.src)
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
	} else if x.Within > 0 && !x.polled() {
		v.fail("expect.within", "bounds the polled conditions (optimal, health, decrypt, restarted, readable), and the step has none")
	}
	v.judges(s, actions)
}

// judges checks that the step judges something, or declares that it only
// shows something (diagnostic), and not both.
func (v *validator) judges(s *Step, actions int) {
	x := s.Expect
	judged := x.Output != "" || x.NotOutput != ""
	checksNothing := (s.Exec != nil && x.AnyExit || s.inspects()) && !judged && !x.polled()
	switch {
	case actions == 0 && !x.polled():
		v.fail("step", "does nothing and checks nothing")
	case checksNothing && !s.Diagnostic:
		v.fail("expect", "checks nothing (any exit status, no output check): judge its output with output or not_output, or declare it diagnostic: true")
	case s.Diagnostic && !checksNothing:
		v.fail("diagnostic", "a diagnostic reads without judging (an exec with any_exit, or an engine inspect, and no expectations); this step does more")
	}
}

// pattern compiles a regular expression field; nil when it does not
// compile.
func (v *validator) pattern(field, src string) *regexp.Regexp {
	if varRef.MatchString(src) {
		v.fail(field, "placeholders are not expanded in a regular expression")
	}
	r, err := regexp.Compile(src)
	if err != nil {
		v.fail(field, "%v", err)
		return nil
	}
	return r
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
	for _, name := range slices.Sorted(maps.Keys(s.Capture)) {
		field := "capture." + name
		switch {
		case s.Exec == nil && !s.inspects():
			v.fail(field, "reads a step's output: the step needs an exec or an engine inspect")
		case !identifier.MatchString(name):
			v.fail(field, "%q is not a variable name (lower case letters, digits, _)", name)
		case builtin[name]:
			v.fail(field, "%s is built in: a capture may not replace it", name)
		case v.declared[name]:
			v.fail(field, "%s is declared already (under vars: or by an earlier capture)", name)
		}
		src := s.Capture[name]
		r := v.pattern(field, src)
		if r == nil {
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
