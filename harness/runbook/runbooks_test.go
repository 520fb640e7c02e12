package runbook

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
)

func shipped(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("../../runbooks/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no runbooks found: %v", err)
	}
	return files
}

// Every runbook shipped in runbooks/ validates completely: a bad one fails
// go test, not a scenario after its fault is injected.
func TestShippedRunbooksAreValid(t *testing.T) {
	for _, f := range shipped(t) {
		rb, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".yaml"); rb.Name != want {
			t.Errorf("%s: name %q, want the file's name %q", f, rb.Name, want)
		}
		for _, s := range rb.Steps {
			if s.Expect.Output != "" && s.Expect.output == nil || s.Expect.NotOutput != "" && s.Expect.notOutput == nil {
				t.Errorf("%s: step %q: pattern not compiled at load", f, s.Name)
			}
		}
	}
}

// A valid runbook to break one field at a time.
const good = `name: x
origin: repaired
vars: [targets]
steps:
  - name: Look
    exec: {in: keeper, command: [kms-admin, ls, "{{keys}}"]}
    expect: {output: "PRIV-p\\d+"}
  - name: Restart the party
    engine: {action: restart, parties: "{{targets}}", timeout: 5s}
  - name: Grow
    engine: {action: update, memory: 256m, cpus: "{{cpus}}"}
    cites:
      - {address: "Performance Issues > Optimization Steps > 1. Scale resources", text: Scale resources, how: mapped, why: engine update}
  - name: Optimal
    expect: {optimal: true, decrypt: "1-2,4", within: 30s}
`

func TestGoodRunbookIsValid(t *testing.T) {
	rb, err := Parse("runbooks/x.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if rb.Origin != OriginRepaired || !slices.Equal(rb.Vars, []string{"targets"}) {
		t.Errorf("origin %q, vars %v", rb.Origin, rb.Vars)
	}
}

// Each bad runbook is refused at load, the message naming the file, the
// step (index and name) and the field.
func TestValidationNamesFileStepAndField(t *testing.T) {
	bad := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("test fixture lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	cases := []struct{ name, doc, want string }{
		{"bad regex", bad(`"PRIV-p\\d+"`, `"PRIV-(p"`),
			`runbooks/x.yaml: step 1 "Look": expect.output: error parsing regexp: missing closing ): ` + "`PRIV-(p`"},
		{"bad not_output regex", bad(`{output: "PRIV-p\\d+"}`, `{not_output: "[z-a]"}`),
			`runbooks/x.yaml: step 1 "Look": expect.not_output: error parsing regexp: invalid character class range`},
		{"placeholder in a regex", bad(`"PRIV-p\\d+"`, `"PRIV-p{{party}}"`),
			`runbooks/x.yaml: step 1 "Look": expect.output: placeholders are not expanded`},
		{"unknown placeholder", bad(`"{{keys}}"`, `"{{kyes}}"`),
			`runbooks/x.yaml: step 1 "Look": exec.command[2]: unknown variable {{kyes}}`},
		{"unknown placeholder in a guide", bad("  - name: Look\n", "  - name: Look\n    guide: see {{section}}\n"),
			`runbooks/x.yaml: step 1 "Look": guide: unknown variable {{section}}`},
		{"undeclared variable", bad("vars: [targets]\n", ""),
			`runbooks/x.yaml: step 2 "Restart the party": engine.parties: unknown variable {{targets}}`},
		{"declared and unused", bad("vars: [targets]", "vars: [targets, observer]"),
			`runbooks/x.yaml: vars: observer is declared but no step uses {{observer}}`},
		{"declared built-in", bad("vars: [targets]", "vars: [targets, party]"),
			`runbooks/x.yaml: vars[1]: party is built in`},
		{"empty party list (reversed range)", bad(`"1-2,4"`, `"4-1"`),
			`runbooks/x.yaml: step 4 "Optimal": expect.decrypt: party list "4-1": range 4-1 is reversed and names no party`},
		{"empty party item", bad(`"1-2,4"`, `"1,,2"`),
			`runbooks/x.yaml: step 4 "Optimal": expect.decrypt: party list "1,,2": empty item`},
		{"party out of range", bad(`"1-2,4"`, `"0-2"`),
			`runbooks/x.yaml: step 4 "Optimal": expect.decrypt: party list "0-2": party 0: ids start at 1`},
		{"party named twice", bad(`"1-2,4"`, `"1-3,2"`),
			`runbooks/x.yaml: step 4 "Optimal": expect.decrypt: party list "1-3,2": party 2 is named twice`},
		{"bad memory", bad("memory: 256m", "memory: lots"),
			`runbooks/x.yaml: step 3 "Grow": engine.memory: "lots" is not a memory size`},
		{"bad cpus", bad(`cpus: "{{cpus}}"`, `cpus: "-1"`),
			`runbooks/x.yaml: step 3 "Grow": engine.cpus: cpus "-1": must be a positive number`},
		{"duplicate step name", bad("name: Grow", "name: Look"),
			`runbooks/x.yaml: step 3 "Look": name: the same name as step 1`},
		{"any_exit without diagnostic", bad(`expect: {output: "PRIV-p\\d+"}`, `expect: {any_exit: true}`),
			`runbooks/x.yaml: step 1 "Look": expect: checks nothing (any exit status, no output check)`},
		{"diagnostic that checks", bad(`expect: {output: "PRIV-p\\d+"}`, "diagnostic: true\n    expect: {output: x}"),
			`runbooks/x.yaml: step 1 "Look": diagnostic: a diagnostic reads without judging`},
		{"two actions", bad("    engine: {action: update", "    heal: true\n    engine: {action: update"),
			`runbooks/x.yaml: step 3 "Grow": step: two actions`},
		{"unknown action", bad("action: restart", "action: explode"),
			`runbooks/x.yaml: step 2 "Restart the party": engine.action: unknown action "explode"`},
		{"timeout on an action that takes none", bad("action: restart", "action: kill"),
			`runbooks/x.yaml: step 2 "Restart the party": engine.timeout: kill takes no timeout (only stop, restart, down)`},
		{"negative timeout", bad("timeout: 5s", "timeout: -5s"),
			`runbooks/x.yaml: step 2 "Restart the party": engine.timeout: negative duration -5s`},
		{"negative within", bad("within: 30s", "within: -1s"),
			`runbooks/x.yaml: step 4 "Optimal": expect.within: negative duration -1s`},
		{"missing origin", bad("origin: repaired\n", ""), `runbooks/x.yaml: origin: missing`},
		{"bad origin", bad("origin: repaired", "origin: us"), `runbooks/x.yaml: origin: "us": must be guide, repaired, harness or operations`},
		{"harness origin, nothing undone", bad("origin: repaired", "origin: harness"), `runbooks/x.yaml: origin: harness, but no step undoes the fault`},
		{"exit without exec", bad("expect: {optimal: true,", "expect: {exit: 0, optimal: true,"),
			`runbooks/x.yaml: step 4 "Optimal": expect.exit: exit and any_exit judge a command`},
		{"step without action or check", bad("    expect: {optimal: true, decrypt: \"1-2,4\", within: 30s}\n", ""),
			`runbooks/x.yaml: step 4 "Optimal": step: does nothing and checks nothing`},
		{"bad duration", bad("timeout: 5s", "timeout: soon"),
			`runbooks/x.yaml: line 9: step 2 "Restart the party": "soon" is not a duration`},
		{"unknown key", bad("origin: repaired", "origin: repaired\nstep: []"), "runbooks/x.yaml: yaml: unmarshal errors:\n  line 3: field step not found"},
		{"unknown key in a step", bad("    exec: {in: keeper,", "    exce: 1\n    exec: {in: keeper,"),
			"runbooks/x.yaml: yaml: unmarshal errors:\n  line 6: step 1 \"Look\": field exce not found"},
		{"wrong type", bad("engine: {action: update", "engine: {action: [update]"),
			"line 11: step 3 \"Grow\": cannot unmarshal !!seq into string"},
		{"unknown how", bad("how: mapped", "how: copied"),
			`runbooks/x.yaml: step 3 "Grow": cites[0].how: "copied": must be verbatim, mapped or substitute`},
		{"citation without text", bad("text: Scale resources, ", ""),
			`runbooks/x.yaml: step 3 "Grow": cites[0].text: missing`},
		{"citation without address", bad(`address: "Performance Issues > Optimization Steps > 1. Scale resources", `, ""),
			`runbooks/x.yaml: step 3 "Grow": cites[0].address: missing`},
		{"mapped without why", bad(", why: engine update", ""),
			`runbooks/x.yaml: step 3 "Grow": cites[0].why: missing: a mapped citation says what stands for what`},
		{"substitute without why", bad("how: mapped, why: engine update", "how: substitute"),
			`runbooks/x.yaml: step 3 "Grow": cites[0].why: missing: a substitute citation says what stands for what`},
		{"unknown key in a citation", bad("how: mapped,", "how: mapped, txet: x,"),
			`runbooks/x.yaml: line 13: step 3 "Grow": unknown key "txet" in a citation`},
		{"unknown baseline resource", bad("origin: repaired\n", "origin: repaired\nbaseline: [disk]\n"),
			`runbooks/x.yaml: baseline[0]: "disk": must be memory or cpus`},
		{"baseline nothing sets", strings.Replace(bad("origin: repaired\n", "origin: repaired\nbaseline: [memory]\n"), "memory: 256m, ", "", 1),
			`runbooks/x.yaml: baseline[0]: memory is declared a new baseline but no engine update step sets it`},
		{"two documents", good + "---\nname: y\n", `runbooks/x.yaml: one runbook per file`},
		{"empty file", "", `runbooks/x.yaml: empty runbook`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("runbooks/x.yaml", []byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant %q", err, c.want)
			}
		})
	}
}

func TestAsWrittenMustBeTheGuides(t *testing.T) {
	doc := strings.Replace(good, "name: x", "name: y-as-written", 1)
	_, err := Parse("runbooks/y-as-written.yaml", []byte(doc))
	if err == nil || !strings.Contains(err.Error(), `runbooks/y-as-written.yaml: origin: "repaired": a runbook as written is the guide's`) {
		t.Errorf("got %v", err)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(good, `"PRIV-p\\d+"`, `"("`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+`: step 1 "Look": expect.output: error parsing regexp`) {
		t.Errorf("got %v", err)
	}
}

// A declared variable the caller does not supply is refused before any
// step runs.
func TestCheckVars(t *testing.T) {
	rb, err := Parse("x.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if err := rb.CheckVars(map[string]string{"targets": "2"}); err != nil {
		t.Errorf("supplied, refused: %v", err)
	}
	for _, vars := range []map[string]string{nil, {"targets": " "}, {"observer": "1"}} {
		if err := rb.CheckVars(vars); err == nil || !strings.Contains(err.Error(), "did not supply: targets") {
			t.Errorf("%v: got %v", vars, err)
		}
	}
	// Run refuses before touching a cluster (there is none here).
	if _, err := rb.Run(t.Context(), &Env{}); err == nil || !strings.Contains(err.Error(), "did not supply: targets") {
		t.Errorf("Run: got %v", err)
	}
}

func TestStepFlags(t *testing.T) {
	doc := `name: d
origin: harness
steps:
  - name: Look
    diagnostic: true
    exec: {command: [kms-health-check, live]}
    expect: {any_exit: true}
  - name: Free space
    undoes_fault: true
    exec: {in: keeper, command: [kms-admin, rm, x]}
  - name: Heal
    heal: true
`
	rb, err := Parse("d.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	for _, s := range rb.Steps {
		got = append(got, s.ChecksNothing(), s.UndoesHarnessFault())
	}
	if want := []bool{true, false, false, true, false, true}; !slices.Equal(got, want) {
		t.Errorf("checks nothing / undoes fault: %v, want %v", got, want)
	}
}

func TestExpand(t *testing.T) {
	v := map[string][]string{"party": {"3"}, "addresses": {"a", "b"}, "priv": {"/v/p3"}}
	got, err := expand([]string{"--addresses", "{{addresses}}", "{{priv}}/EpochData", "x{{addresses}}"}, v)
	if err != nil || !slices.Equal(got, []string{"--addresses", "a", "b", "/v/p3/EpochData", "xa b"}) {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := expand([]string{"{{nope}}"}, v); err == nil {
		t.Fatal("unknown variable accepted")
	}
}

func TestPartiesAtRunTime(t *testing.T) {
	v := map[string][]string{"party": {"3"}, "targets": {"2,4"}, "none": {""}}
	for spec, want := range map[string][]int{"": {3}, "{{party}}": {3}, "all": {1, 2, 3, 4}, "1-2,4": {1, 2, 4}, "{{targets}}": {2, 4}, "1, {{party}}": {1, 3}} {
		got, err := parties(spec, 4, v)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %v, %v", spec, got, err)
		}
	}
	for spec, want := range map[string]string{
		"5":             `party 5 out of 1..4`,
		"3-9":           `party 9 out of 1..4`,
		"4-1":           `reversed`,
		"{{none}}":      `{{none}} is empty`,
		"{{targets}},4": `party 4 is named twice`,
		"all,1":         `"all" is not a party id`,
		"{{nope}}":      `unknown variable`,
	} {
		if _, err := parties(spec, 4, v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", spec, err, want)
		}
	}
}

func TestDescribeComparesWithTheBaseline(t *testing.T) {
	base := cluster.Resources{Memory: 256 << 20, NanoCPUs: 2e9}
	got := describe(3, cluster.State{Status: "restarting", ExitCode: 137, ExitKnown: true, RestartCount: 4, OOMKilled: true, Memory: 8 << 20, NanoCPUs: 2e9}, base)
	want := "party 3: status restarting, exit code 137, restarts 4, OOM-killed yes; memory limit: 8MiB, below the baseline (256MiB); cpus: 2, the baseline"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = describe(1, cluster.State{Status: "running", NanoCPUs: 2e7}, cluster.Resources{NanoCPUs: 2e9})
	if !strings.Contains(got, "memory limit: none, the baseline; cpus: 0.02, below the baseline (2)") {
		t.Errorf("got %s", got)
	}
	// An exit status the backend did not see is not shown as 0.
	if got = describe(2, cluster.State{Status: "exited"}, base); !strings.Contains(got, "status exited, exit code unknown,") {
		t.Errorf("an unknown exit: %s", got)
	}
	if got := compare(8<<20, 0, "none"); got != "below the baseline (none)" {
		t.Errorf("a limit where the baseline has none: %s", got)
	}
}

// The table of built-in variables is the documentation: every entry says
// what it means and shows an example, and no name is there twice.
// A runbook that declares memory and cpus as its new baseline, each set
// by an update step, is valid (the red case: baseline nothing sets).
func TestBaselineDeclared(t *testing.T) {
	doc := strings.Replace(good, "origin: repaired\n", "origin: repaired\nbaseline: [memory, cpus]\n", 1)
	rb, err := Parse("runbooks/x.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rb.Baseline, []string{BaselineMemory, BaselineCPUs}) {
		t.Errorf("baseline %v", rb.Baseline)
	}
}

func TestMemSize(t *testing.T) {
	for b, want := range map[int64]string{256 << 20: "256m", 0: "0", 1000: "1000"} {
		if got := memSize(b); got != want {
			t.Errorf("memSize(%d) = %q, want %q", b, got, want)
		}
	}
}

func TestBuiltinsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Builtins {
		if seen[v.Name] || !identifier.MatchString(v.Name) || v.Meaning == "" || v.Example == "" || v.value == nil {
			t.Errorf("built-in %q: duplicate, badly named or undocumented", v.Name)
		}
		seen[v.Name] = true
	}
}
