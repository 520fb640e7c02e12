package cluster

import (
	"errors"
	"testing"
)

func TestExecResultCheck(t *testing.T) {
	engine := errors.New("no such container")
	if err := (ExecResult{ExitCode: 1}).Check(engine, "x"); err != engine { //nolint:errorlint // identity is the test: Check hands back the engine's error itself
		t.Errorf("an engine error became %v", err)
	}
	if err := (ExecResult{}).Check(nil, "x"); err != nil {
		t.Errorf("exit 0 became %v", err)
	}
	err := (ExecResult{ExitCode: 2, Stdout: "partial\n", Stderr: "denied\n"}).Check(nil, "kms-admin chmod")
	if err == nil || err.Error() != "kms-admin chmod: partial\ndenied" {
		t.Errorf("exit 2 became %v", err)
	}
}
