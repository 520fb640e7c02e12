package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes kms-admin with args and returns what it printed and the
// error main would turn into exit status 1.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		out <- string(b)
	}()
	root := newRoot()
	root.SetArgs(args)
	root.SetErr(io.Discard)
	runErr := root.Execute()
	os.Stdout = stdout
	w.Close()
	return <-out, runErr
}

func TestLsAndManifestFailOnAMissingPath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "p3")
	for _, cmd := range [][]string{{"ls", missing}, {"ls", "-R", missing}, {"manifest", missing}} {
		_, err := run(t, cmd...)
		if err == nil {
			t.Fatalf("kms-admin %s succeeded on a missing path", strings.Join(cmd, " "))
		}
		if want := "cannot access " + missing + ": no such file or directory"; err.Error() != want {
			t.Fatalf("kms-admin %s: %q, want %q", strings.Join(cmd, " "), err, want)
		}
	}
	// Every path is still listed before the command fails.
	out, err := run(t, "ls", missing, dir)
	if err == nil || !strings.Contains(out, dir) {
		t.Fatalf("ls of a missing and an existing path: err %v, output %q", err, out)
	}
}

func TestManifestOfAnEmptyTreeAndOfAMissingPartyBelowTheRoot(t *testing.T) {
	root := t.TempDir()
	out, err := run(t, "manifest", root)
	if err != nil {
		t.Fatalf("manifest of an empty tree: %v", err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "d ") || !strings.HasSuffix(lines[0], " "+root) {
		t.Fatalf("manifest of an empty tree: %q, want the root's line alone", out)
	}

	// The key audit reads /vaults: a party whose tree is gone is simply
	// absent from the manifest, which the audit reports as drift.
	if err := os.MkdirAll(filepath.Join(root, "p1", "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "p1", "keys", "share"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "manifest", root)
	if err != nil {
		t.Fatalf("manifest without party 2's tree: %v", err)
	}
	if !strings.Contains(out, filepath.Join(root, "p1", "keys", "share")) || strings.Contains(out, "/p2") {
		t.Fatalf("manifest: %q", out)
	}
}

func TestFillRefusesAPercentOutOfRange(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"0", "-5", "100.5", "250", "NaN"} {
		_, err := run(t, "fill", dir, "--percent", p)
		if err == nil || !strings.Contains(err.Error(), "--percent must be greater than 0 and at most 100") {
			t.Fatalf("fill --percent %s: %v", p, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("a refused fill wrote %d files", len(entries))
	}
}

func TestSsListsOnlyListeningSockets(t *testing.T) {
	dir := t.TempDir()
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:C3B4 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C396 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 2 1 0000000000000000 100 0 0 10 0
   2: 0200000A:C3B4 0300000A:D431 01 00000000:00000000 00:00000000 00000000 10001        0 3 1 0000000000000000 20 4 30 10 -1
`
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:25D2 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 4 1 0000000000000000 100 0 0 10 0
`
	if err := os.WriteFile(filepath.Join(dir, "tcp"), []byte(tcp), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tcp6"), []byte(tcp6), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "ss", "--proc", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LISTEN  0.0.0.0:50100", "LISTEN  127.0.0.1:50070", "LISTEN  [::]:9682"} {
		if !strings.Contains(out, want) {
			t.Errorf("ss lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "10.0.0.2") {
		t.Errorf("ss lists an established connection:\n%s", out)
	}
}

func TestListenRefusesAPortAlreadyHeld(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = run(t, "listen", l.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "cannot hold "+l.Addr().String()) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("listen on a held port: %v", err)
	}
}

// crash-write leaves what a write killed before its rename leaves: the
// temp file, as big as the object, and no object.
func TestCrashWriteLeavesATempFileOnly(t *testing.T) {
	dir := t.TempDir()
	like := filepath.Join(dir, "share")
	_ = os.WriteFile(like, make([]byte, 3000), 0o600)
	out, err := run(t, "crash-write", filepath.Join(dir, "newkey"), "--like", like, "--pid", "7", "--seq", "2")
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".newkey.partial.7.2")
	if strings.TrimSpace(out) != tmp {
		t.Fatalf("printed %q, want %q", out, tmp)
	}
	if fi, err := os.Stat(tmp); err != nil || fi.Size() != 3000 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("temp file: %v, %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "newkey")); !os.IsNotExist(err) {
		t.Fatalf("the object was created: %v", err)
	}
}
