package results

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// A real PostgreSQL server for the store's tests: Debian's binaries,
// initdb and pg_ctl in a temporary directory, as the postgres user when
// the tests run as root (the server refuses root), stopped and removed
// when the package's tests end. Each test gets a database of its own.

var pgServer struct {
	once sync.Once
	url  string // postgres://…/%s, the database's name to fill in
	stop func()
	err  error
	n    int
	mu   sync.Mutex
}

// pgBin finds Debian's PostgreSQL programs: on PATH, else the newest
// /usr/lib/postgresql/*/bin.
func pgBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("no initdb on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql; make test installs it)")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// postgresURL is the URL of a fresh database on the test server. Where
// PostgreSQL is not installed the test is skipped saying so — except
// under make test (KMSCHAOS_REQUIRE_POSTGRES=1), which installs it, where
// it fails.
func postgresURL(t *testing.T) string {
	t.Helper()
	bin, err := pgBin()
	if err != nil {
		if os.Getenv("KMSCHAOS_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required here (KMSCHAOS_REQUIRE_POSTGRES=1): %v", err)
		}
		t.Skipf("PostgreSQL store tests skipped: %v", err)
	}
	pgServer.once.Do(func() { pgServer.url, pgServer.stop, pgServer.err = startPostgres(bin) })
	if pgServer.err != nil {
		t.Fatalf("starting PostgreSQL: %v", pgServer.err)
	}
	pgServer.mu.Lock()
	pgServer.n++
	name := fmt.Sprintf("t%d", pgServer.n)
	pgServer.mu.Unlock()
	admin, err := sql.Open("pgx", fmt.Sprintf(pgServer.url, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close() }()
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	return fmt.Sprintf(pgServer.url, name)
}

func startPostgres(bin string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "kmschaos-pg-")
	if err != nil {
		return "", nil, err
	}
	fail := func(err error) (string, func(), error) { _ = os.RemoveAll(dir); return "", nil, err }
	var run func(name string, args ...string) *exec.Cmd
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: the directory and the
		// server belong to Debian's postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			return fail(fmt.Errorf("running as root and no postgres user to run the server as: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
		run = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
		}
	} else {
		run = func(name string, args ...string) *exec.Cmd { return exec.Command(filepath.Join(bin, name), args...) }
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-U", "kmschaos", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v: %s", err, out))
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir)
	if out, err := run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return fail(fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log))
	}
	stop := func() {
		_ = run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run()
		_ = os.RemoveAll(dir)
	}
	return fmt.Sprintf("postgres://kmschaos@127.0.0.1:%d/%%s?sslmode=disable", port), stop, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cleanups are what the package's tests and benchmarks leave to TestMain
// (the benchmarks' store).
var cleanups []func()

// TestMain stops the test server and removes what the benchmarks built,
// whatever the tests did.
func TestMain(m *testing.M) {
	code := m.Run()
	if pgServer.stop != nil {
		pgServer.stop()
	}
	for _, f := range cleanups {
		f()
	}
	os.Exit(code)
}
