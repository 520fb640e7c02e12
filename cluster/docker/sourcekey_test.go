package docker

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A module of two commands: cmd/a imports lib, cmd/b does not.
func writeModule(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.mod":             "module example.com/m\n\ngo 1.24\n",
		"go.sum":             "",
		"lib/lib.go":         "package lib\n\nconst Answer = 42\n",
		"lib/lib_test.go":    "package lib\n",
		"lib/other_linux.go": "package lib\n",
		"lib/README.md":      "not compiled\n",
		"cmd/a/main.go":      "package main\n\nimport \"example.com/m/lib\"\n\nfunc main() { println(lib.Answer) }\n",
		"cmd/b/main.go":      "package main\n\nfunc main() {}\n",
	}
	for name, content := range files {
		write(t, filepath.Join(root, name), content)
	}
	return root
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func keysOf(t *testing.T, root string) (a, b string) {
	t.Helper()
	keys, err := sourceKeys(context.Background(), root, "./cmd/a", "./cmd/b")
	if err != nil {
		t.Fatal(err)
	}
	return keys["./cmd/a"], keys["./cmd/b"]
}

// The images' tags are keys of the sources, so an image is reused only
// while nothing its binaries are built from changed: a changed source
// file of a dependency changes the key of the commands that import it
// (and only theirs); files the compiler does not read change nothing.
func TestSourceKeyChangesWithWhatABinaryIsBuiltFrom(t *testing.T) {
	root := writeModule(t)
	a0, b0 := keysOf(t, root)
	if a0 == "" || b0 == "" || a0 == b0 {
		t.Fatalf("keys of two different commands: %q and %q", a0, b0)
	}
	if a, b := keysOf(t, root); a != a0 || b != b0 {
		t.Fatalf("the same tree keyed twice gave different keys: %s %s, then %s %s", a0, b0, a, b)
	}

	// Not compiled: a test file, a README.
	write(t, filepath.Join(root, "lib/lib_test.go"), "package lib\n\n// changed\n")
	write(t, filepath.Join(root, "lib/README.md"), "changed\n")
	if a, b := keysOf(t, root); a != a0 || b != b0 {
		t.Fatalf("a file no binary is built from changed the keys")
	}

	// A dependency's source: cmd/a's key changes, cmd/b's does not.
	write(t, filepath.Join(root, "lib/lib.go"), "package lib\n\nconst Answer = 43\n")
	a1, b1 := keysOf(t, root)
	if a1 == a0 {
		t.Fatalf("changing lib/lib.go, which cmd/a imports, left cmd/a's key %s", a0)
	}
	if b1 != b0 {
		t.Fatalf("changing lib/lib.go changed the key of cmd/b, which does not import it")
	}

	// A new file in a dependency (built on this GOOS) changes it too.
	write(t, filepath.Join(root, "lib/extra.go"), "package lib\n")
	a2, _ := keysOf(t, root)
	if a2 == a1 {
		t.Fatal("a new source file in lib left cmd/a's key unchanged")
	}

	// go.sum (the versions of the dependencies) changes every key.
	write(t, filepath.Join(root, "go.sum"), "example.com/x v1.0.0 h1:AAAA=\n")
	a3, b3 := keysOf(t, root)
	if a3 == a2 || b3 == b1 {
		t.Fatal("a changed go.sum left a key unchanged")
	}
}
