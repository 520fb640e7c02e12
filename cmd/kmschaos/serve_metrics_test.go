package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/internal/promtest"
)

// kmschaos serve, started as a user does, answers /metrics with the
// store's series in a format promtool accepts, and stops on Ctrl-C.
func TestServeExportsTheStoreForPrometheus(t *testing.T) {
	db, _ := storeWithRuns(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "serve", "--db", db, "--listen", "127.0.0.1:0", "--label", "release=1.4.2")
	cmd.Env = append(os.Environ(), "KMSCHAOS_TEST_AS_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if err := <-exited; err != nil {
			t.Logf("serve ended: %v", err) // killed, when the test failed before Ctrl-C
		}
	})
	// Its first line says what it serves, and where.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve said nothing: %v; stderr %s", err, stderr.String())
	}
	prefix := "serving results store " + db + " (1 run recorded, only release=1.4.2) for Prometheus at http://"
	if !strings.HasPrefix(line, prefix) || !strings.HasSuffix(line, "/metrics\n") {
		t.Fatalf("serve's first line %q; want %q…/metrics", line, prefix)
	}
	url := "http://" + strings.TrimPrefix(strings.TrimSpace(line), prefix)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	for _, want := range []string{
		`kmschaos_runs_recorded{backend="docker"} 1`,
		`kmschaos_scenario_verdict{backend="docker",scenario="kill one party",section="Process",verdict="FAIL"} 1`,
		`kmschaos_scenario_ttr_seconds{backend="docker",scenario="kill one party",section="Process"} 20`,
		`kmschaos_section_pass_ratio{backend="docker",section="Connectivity Issues"} 1`,
		"# HELP kmschaos_scenario_pass_ratio Passes over the verdicts judged",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	promtool := promtest.Tool(t, "promtool")
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = bytes.NewReader(body)
	if out, err := check.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics on /metrics: %v\n%s", err, out)
	}
	// Ctrl-C: it stops, exit 0.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("serve after Ctrl-C: %v; want exit 0 (stderr %s)", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("serve did not stop within 30s of Ctrl-C")
	}
}

// Bad input for serve: one line, exit 2, nothing served.
func TestServeBadInput(t *testing.T) {
	db, _ := storeWithRuns(t)
	notAStore := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notAStore, bytes.Repeat([]byte("not a database\n"), 300), 0o644); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--db", notAStore}, "results store " + notAStore + ": file is not a database (26)"},
		{[]string{"--db", db, "--label", "relase=1.4.2"}, `unknown label key "relase" in ` + db + `: did you mean "release"?`},
		{[]string{"--db", db, "--label", "release"}, `--label "release": a label is key=value, e.g. release=1.4.2`},
		{[]string{"--db", db, "--backend", "kubernetes"}, `unknown backend "kubernetes" in ` + db + `: did you mean "docker"?`},
		{[]string{"--db", db, "--listen", "9464"}, `--listen "9464": give host:port, e.g. 127.0.0.1:9464`},
		{[]string{"--db", db, "--listen", busy.Addr().String()}, "--listen " + busy.Addr().String() + ": bind: address already in use (is another serve running? choose another with --listen)"},
	} {
		out, code := cliOut(t, append([]string{"serve"}, c.args...)...)
		if code != 2 || strings.TrimSpace(out) != "Error: "+c.says {
			t.Errorf("serve %s: exit %d, %q; want exit 2 and the one line %q", strings.Join(c.args, " "), code, out, c.says)
		}
	}
}

// gameday serve --metrics opens the store before it looks for the game
// day: a store it cannot read is one line, exit 2, nothing served.
func TestGamedayServeMetricsRefusesAnUnreadableStore(t *testing.T) {
	notAStore := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notAStore, bytes.Repeat([]byte("not a database\n"), 300), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--metrics", "--db", notAStore}, "results store " + notAStore + ": file is not a database (26)"},
		{[]string{"--db", notAStore}, "--db " + notAStore + ": it is the store of --metrics; give --metrics too"},
	} {
		out, code := cliOut(t, append([]string{"gameday", "serve", "--listen", "127.0.0.1:0", "--run", "nosuchrun"}, c.args...)...)
		if code != 2 || strings.TrimSpace(out) != "Error: "+c.says {
			t.Errorf("gameday serve %s: exit %d, %q; want exit 2 and the one line %q", strings.Join(c.args, " "), code, out, c.says)
		}
	}
}
