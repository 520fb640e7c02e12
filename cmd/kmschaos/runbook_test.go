package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodRunbook = `name: good
origin: guide
steps:
  - name: Restart
    engine: {action: restart}
`

func TestRunbookCheck(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(goodRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(goodRunbook, "engine: {action: restart}", "engine: {action: restart, parties: \"4-1\"}", 1)
	if err := os.WriteFile(bad, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}

	out, code := cliOut(t, "runbook", "check", good)
	if code != 0 || strings.TrimSpace(out) != good+": OK" {
		t.Errorf("a valid file: exit %d, output %q", code, out)
	}
	out, code = cliOut(t, "runbook", "check", good, bad)
	if code != 2 {
		t.Errorf("an invalid file: exit %d, want 2; output %q", code, out)
	}
	for _, want := range []string{good + ": OK\n", bad + `: step 1 "Restart": engine.parties: party list "4-1": range 4-1 is reversed`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, code := cliOut(t, "runbook", "check", filepath.Join(dir, "missing.yaml")); code != 2 {
		t.Errorf("a missing file: exit %d, want 2", code)
	}
}

// Every shipped runbook passes the command, and vars lists the table.
func TestRunbookCheckShippedAndVars(t *testing.T) {
	files, err := filepath.Glob("../../runbooks/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no runbooks")
	}
	out, code := cliOut(t, append([]string{"runbook", "check"}, files...)...)
	if code != 0 || strings.Count(out, ": OK\n") != len(files) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	out, code = cliOut(t, "runbook", "vars")
	if code != 0 || !strings.Contains(out, "party ") || !strings.Contains(out, "fresh_epoch") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// runbook run refuses what it can judge without a cluster — a missing
// --party, a --var without =, an invalid file — with exit 2 before it
// looks for a cluster; vars lists the declared variables with the
// built-in ones, so a copied runbook's {{targets}} is documented.
func TestRunbookRunBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\norigin: repaired\nsteps:\n  - name: s\n    exec: {command: [ls, \"{{kyes}}\"]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"runbook", "run", "../../runbooks/unpause.yaml"}, "--party N"},
		{[]string{"runbook", "run", "../../runbooks/unpause.yaml", "--party", "1", "--var", "targets"}, `--var "targets": write name=value`},
		{[]string{"runbook", "run", bad, "--party", "1"}, `unknown variable {{kyes}}`},
		{[]string{"runbook", "run", "../../runbooks/unpause.yaml", "--party", "1", "--var", "target=3"}, `--var target: ../../runbooks/unpause.yaml neither declares it`},
	} {
		out, errOut, code := cli(t, c.args...)
		if code != 2 || !strings.Contains(out+errOut, c.says) {
			t.Errorf("kmschaos %v: exit %d, %q %q; want exit 2 saying %q", c.args, code, out, errOut, c.says)
		}
	}
	out, _, code := cli(t, "runbook", "vars")
	for _, v := range []string{"targets", "observer", "peer_ip_port", "party_addr", "memory"} {
		if code != 0 || !strings.Contains(out, "\n"+v+" ") {
			t.Errorf("runbook vars does not list %s (exit %d)", v, code)
		}
	}
}
