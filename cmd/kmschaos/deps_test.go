package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The CLI links no test framework: the catalog it lists and runs is plain
// data (package scenarios), the suite registers it as specs on its own;
// the label filter and the JUnit file are kmschaos's own code.
func TestTheCLILinksNoTestFramework(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to list the binary's packages: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps .: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), out)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/onsi/") {
			t.Errorf("kmschaos links %s", p)
		}
	}
}
