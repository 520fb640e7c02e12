package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The CLI links no test framework: the catalog it lists and runs is plain
// data (package scenarios), the suite registers it as specs on its own.
// Of Ginkgo only plain libraries may be linked, each for its reason; its
// runtime (the spec tree, the global suite) and Gomega may not.
func TestTheCLILinksNoTestFramework(t *testing.T) {
	allowed := map[string]string{
		"github.com/onsi/ginkgo/v2/types":              "the label-filter syntax of --label, the suite's own",
		"github.com/onsi/ginkgo/v2/formatter":          "used by ginkgo/v2/types",
		"github.com/onsi/ginkgo/v2/reporters":          "the JUnit types junit.xml is written with (harness/report), the suite's own",
		"github.com/onsi/ginkgo/v2/internal/reporters": "used by ginkgo/v2/reporters",
		"github.com/onsi/ginkgo/v2/config":             "used by ginkgo/v2/reporters",
	}
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
		if strings.HasPrefix(p, "github.com/onsi/") && allowed[p] == "" {
			t.Errorf("kmschaos links %s", p)
		}
	}
}
