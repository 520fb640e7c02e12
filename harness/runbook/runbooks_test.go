package runbook

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every runbook shipped in runbooks/ parses and validates.
func TestShippedRunbooksAreValid(t *testing.T) {
	files, err := filepath.Glob("../../runbooks/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no runbooks found: %v", err)
	}
	for _, f := range files {
		rb, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".yaml"); rb.Name != want {
			t.Errorf("%s: name %q, want the file's name %q", f, rb.Name, want)
		}
	}
}

func TestValidationNamesTheProblem(t *testing.T) {
	cases := map[string]string{
		"name: x\nsteps:\n  - name: a\n    exec: {command: [ls]}\n    heal: true\n": "give one of exec, engine, heal, wait",
		"name: x\nsteps:\n  - name: a\n    engine: {action: explode}\n":             `unknown engine action "explode"`,
		"name: x\nsteps:\n  - name: a\n":                                            "does nothing and checks nothing",
		"name: x\nsteps:\n  - name: a\n    heal: true\n    expect: {exit: 0}\n":     "need an exec",
		"name: x\nsteps:\n  - name: a\n    wait: soon\n":                            `"soon" is not a duration`,
		"name: x\nstep:\n  - name: a\n":                                             "field step not found",
	}
	for doc, want := range cases {
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", doc, err, want)
		}
	}
}

func TestExpandAndParties(t *testing.T) {
	v := map[string][]string{"party": {"3"}, "addresses": {"a", "b"}, "priv": {"/v/p3"}}
	got, err := expand([]string{"--addresses", "{{addresses}}", "{{priv}}/EpochData", "x{{addresses}}"}, v)
	if err != nil || !slices.Equal(got, []string{"--addresses", "a", "b", "/v/p3/EpochData", "xa b"}) {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := expand([]string{"{{nope}}"}, v); err == nil {
		t.Fatal("unknown variable accepted")
	}
	for spec, want := range map[string][]int{"{{party}}": {3}, "all": {1, 2, 3, 4}, "1-2,4": {1, 2, 4}} {
		got, err := parties(spec, 4, v)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v, %v", spec, got, err)
		}
	}
	if _, err := parties("5", 4, v); err == nil {
		t.Error("party out of range accepted")
	}
}
