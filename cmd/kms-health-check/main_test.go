package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigExitStatus(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	missing := filepath.Join(dir, "config.toml")
	if code := run([]string{"config", "--file", missing}, &out, &errOut); code != exitToolError {
		t.Fatalf("config on a missing file exited %d, want %d (the tool failed)", code, exitToolError)
	}
	if !strings.Contains(errOut.String(), "cannot read --file") || !strings.Contains(errOut.String(), "no such file or directory") {
		t.Fatalf("stderr: %q", errOut.String())
	}

	// A file that is read and found invalid is a report, exit 0 as the real
	// tool's: the report says Unhealthy.
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[threshold\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"config", "--file", bad}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "[ERROR] Overall Status: Unhealthy") {
		t.Fatalf("config on an invalid file exited %d, want 0 with an Unhealthy report; output %s", code, out.String())
	}

	// full reads the config too.
	if code := run([]string{"full", "--endpoint", "localhost:50100", "--config", missing}, &out, &errOut); code != exitToolError {
		t.Fatalf("full with a missing config exited %d, want %d", code, exitToolError)
	}
}

func TestLiveRefusesAMalformedEndpoint(t *testing.T) {
	for _, e := range []string{"localhost", "localhost:", "localhost:http", "localhost:0", "localhost:70000", ":50100", "http://", "a b:50100", "host:50100/path"} {
		var out, errOut bytes.Buffer
		if code := run([]string{"live", "--endpoint", e}, &out, &errOut); code != exitToolError {
			t.Fatalf("live --endpoint %q exited %d, want %d; stdout %q", e, code, exitToolError, out.String())
		}
		if !strings.Contains(errOut.String(), "--endpoint") || out.Len() != 0 {
			t.Fatalf("live --endpoint %q: stderr %q, stdout %q: want only an error naming --endpoint", e, errOut.String(), out.String())
		}
	}
	for _, e := range []string{"localhost:50100", "http://kms-party-1:50100", "https://10.0.0.1:50100/", "[::1]:50100"} {
		if err := checkEndpoint(e); err != nil {
			t.Fatalf("endpoint %q refused: %v", e, err)
		}
	}
}
