package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster/kube"
)

// Bad input, tried as a new user would, exits 2 with one line saying what
// is wrong and what is valid, before anything acts: nothing is printed
// but that line (no progress of a build, no "removed 0 ...").
func TestBadInputExits2WithOneLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	noConfig := filepath.Join(dir, "no.kubeconfig")
	for _, c := range []struct {
		args []string
		says string
	}{
		// Sizes: n = 3t+1, t from 1, n at most 31; the line says which.
		{[]string{"up", "--parties", "2", "--threshold", "1"}, "n = 3t+1 parties with t from 1 to 10 (n = 4, 7, 10, 13, ..., 31); t=1 goes with n=4"},
		{[]string{"up", "--parties", "0"}, "n=0 t=4 is not a size the harness runs"},
		{[]string{"up", "--parties", "4"}, "n=4 goes with t=1"},
		{[]string{"up", "--parties", "34", "--threshold", "11"}, "n=34 t=11 is not a size the harness runs: n = 3t+1 parties with t from 1 to 10"},
		// ... checked before a Kubernetes cluster is looked for or an image built.
		{[]string{"up", "--backend", "kubernetes", "--parties", "2", "--threshold", "1"}, "n=2 t=1 is not a size"},
		// A wrong kubeconfig is told before minutes of building images.
		{[]string{"up", "--backend", "kubernetes", "--kubeconfig", noConfig, "--parties", "4", "--threshold", "1"}, "kubeconfig " + noConfig + ": no such file"},
		{[]string{"images", "--backend", "kubernetes"}, "no local cluster to import images into"},
		{[]string{"up", "--backend", "kubernetes", "--namespace", "Chaos_1", "--parties", "4", "--threshold", "1"}, `--namespace "Chaos_1" is not a namespace name: a lowercase RFC 1123 label`},
		// Positional arguments a command does not take, unknown commands.
		{[]string{"ls", "extra"}, `kmschaos ls takes no argument, got "extra" (usage: kmschaos ls`},
		{[]string{"down", "x", "--run", "y"}, `kmschaos down takes no argument, got "x"`},
		{[]string{"heal", "a", "b"}, "kmschaos heal: accepts at most 1 arg(s), received 2 (usage: kmschaos heal (ID | --all)"},
		{[]string{"inject"}, "kmschaos inject: accepts 1 arg(s), received 0"},
		{[]string{"bogus"}, `unknown command "bogus" for kmschaos: its commands are`},
		{[]string{"runbook", "bogus"}, `unknown command "bogus" for kmschaos runbook: its commands are check, run, vars`},
		{[]string{"gameday", "diagnos"}, `unknown command "diagnos" for kmschaos gameday: did you mean "diagnose"?`},
		{[]string{"help", "gameday", "bogus"}, `kmschaos help: unknown help topic "gameday bogus"`},
		{[]string{"completion", "bash", "extra"}, `kmschaos completion bash takes no argument, got "extra"`},
		// Numbers and durations out of range, refused as the flag is read.
		{[]string{"status", "--watch", "-2s"}, `invalid argument "-2s" for "--watch" flag: must not be negative`},
		{[]string{"inject", "kill", "--party", "0"}, `invalid argument "0" for "-p, --party" flag: must be a whole number from 1`},
		{[]string{"runbook", "run", "../../runbooks/unpause.yaml", "--party", "1", "--within", "-1s"}, `"--within" flag: must not be negative`},
		{[]string{"guide", "run", "--party", "0"}, `"--party" flag: must be a whole number from 1`},
		{[]string{"gameday", "start", "--faults", "0"}, `"--faults" flag: must be a whole number from 1`},
		{[]string{"gameday", "start", "--every", "0s"}, `"--every" flag: must be longer than zero`},
		// An escalation names a party and says what it asks, before a cluster is looked for.
		{[]string{"gameday", "escalate", "--party", "1", " "}, `say what you ask the coordinator: kmschaos gameday escalate --party N "what we ask"`},
		{[]string{"gameday", "escalate", "please"}, "--party N: the party whose network you ask about (1 to n)"},
		{[]string{"gameday", "escalate", "--party", "0", "please"}, `"-p, --party" flag: must be a whole number from 1`},
		// What needs no cluster is refused before looking for one.
		{[]string{"gameday", "start", "--kinds", "kill,bogus"}, `--kinds: unknown fault kind "bogus"`},
		{[]string{"gameday", "start", "--report", file}, "--report " + file + ": " + file + " is a file, not a directory"},
		{[]string{"run", "--label", "process", "--runbooks", filepath.Join(dir, "none")}, "--runbooks " + filepath.Join(dir, "none") + ": not a directory of runbook files"},
		{[]string{"run", "--label", "process", "--report", filepath.Join(file, "sub")}, file + " is a file, not a directory"},
		{[]string{"soak-report", "--out", file, dir}, "--out " + file + ": " + file + " is a file"},
		{[]string{"guide", "check", "--guide", "../../fixtures/guide/troubleshooting-guide.md", "--runbooks", "../../runbooks",
			"--exclusions", "../../fixtures/guide-exclusions.yaml", "--mapping", filepath.Join(dir, "none.yaml")}, "none.yaml: no such file or directory"},
		// A word of a scenario's name suggests a scenario that says it.
		{[]string{"run", "kill"}, `unknown scenario "kill": did you mean "`},
	} {
		if c.args[0] == "images" && kube.CheckLocal() == nil {
			continue // a local cluster is there: images would build and import
		}
		out, code := cliOut(t, c.args...)
		if code != 2 || !strings.Contains(out, c.says) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("kmschaos %s: exit %d, %q; want exit 2 and one line with %q", strings.Join(c.args, " "), code, out, c.says)
		}
		if c.args[0] == "run" && c.args[1] == "kill" && !strings.Contains(strings.SplitN(out, "did you mean", 2)[1], "kill") {
			t.Errorf("kmschaos run kill suggests a scenario without kill in its name: %q", out)
		}
	}
}
