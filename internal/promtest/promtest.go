// Package promtest finds Debian's Prometheus tools (prometheus, promtool)
// for the tests that run them: where one is missing the test is skipped,
// saying so, except under make test (KMSCHAOS_REQUIRE_PROMETHEUS=1, which
// installs them), where it fails.
package promtest

import (
	"os"
	"os/exec"
	"testing"
)

// Tool is the path of name (prometheus or promtool) on PATH.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("KMSCHAOS_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("%s is required here (KMSCHAOS_REQUIRE_PROMETHEUS=1): %v (apt-get install prometheus)", name, err)
		}
		t.Skipf("skipped: no %s on PATH (apt-get install prometheus; KMSCHAOS_SETUP_PROMETHEUS=1 make setup installs it)", name)
	}
	return p
}
