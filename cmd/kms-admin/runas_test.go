package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets a test run this binary as kms-admin itself (run-as
// replaces the process, so it cannot run in the test's own).
func TestMain(m *testing.M) {
	if os.Getenv("KMS_ADMIN_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func asMain(t *testing.T, args ...string) (string, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "KMS_ADMIN_AS_MAIN=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// run-as runs the command as the user and group given, as docker exec
// --user does; a bad user is refused before anything runs.
func TestRunAs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("run-as needs root")
	}
	out, err := asMain(t, "run-as", "10001:10002", "--", "sh", "-c", "echo $(id -u):$(id -g):$(id -G)")
	if err != nil || strings.TrimSpace(out) != "10001:10002:10002" {
		t.Fatalf("run-as 10001:10002: %v %q", err, out)
	}
	out, err = asMain(t, "run-as", "10001", "--", "id", "-g")
	if err != nil || strings.TrimSpace(out) != "10001" {
		t.Fatalf("run-as 10001 (group defaults to the uid): %v %q", err, out)
	}
	for _, bad := range []string{"party", "10001:x", "10001:-5"} {
		if out, err := asMain(t, "run-as", bad, "--", "true"); err == nil || !strings.Contains(out, "numeric") {
			t.Errorf("run-as %s: %v %q", bad, err, out)
		}
	}
}
