package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/onsi/gomega/gexec"
)

// TestMain lets the tests run this binary as kmschaos itself, so exit
// codes are the real ones: with KMSCHAOS_TEST_AS_MAIN=1 it is main.
func TestMain(m *testing.M) {
	if os.Getenv("KMSCHAOS_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	// Runs the tests make are recorded in a store of their own, never
	// in the user's (results.DefaultPath).
	if os.Getenv("KMSCHAOS_DB") == "" {
		dir, err := os.MkdirTemp("", "kmschaos-results-")
		if err != nil {
			panic(err)
		}
		_ = os.Setenv("KMSCHAOS_DB", filepath.Join(dir, "results.db"))
		code := m.Run()
		gexec.CleanupBuildArtifacts() // buildBinary's one build
		_ = os.RemoveAll(dir)
		os.Exit(code)
	}
	code := m.Run()
	gexec.CleanupBuildArtifacts()
	os.Exit(code)
}

// runMain runs kmschaos with args in dir ("" for the package's own).
func runMain(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KMSCHAOS_TEST_AS_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// kmschaos runs the command from the repository root, as a user does.
func kmschaos(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runMain(t, "../..", args...)
}

// cli runs the command in this package's directory (paths are ../../…).
func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runMain(t, "", args...)
}

// cliOut is cli with stdout and stderr together.
func cliOut(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, errOut, code := cli(t, args...)
	return out + errOut, code
}
