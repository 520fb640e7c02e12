package docker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// buildFlags are the flags every binary of the images is compiled with
// (the party's own Build's): -trimpath and no VCS stamp, so a binary
// depends on its sources alone (not on the checkout's path or its
// commit), which is what lets a key of the sources stand for the binary.
var buildFlags = localcluster.BuildFlags

// buildEnv is the environment of those compilations (static binaries).
func buildEnv() []string { return append(os.Environ(), "CGO_ENABLED=0") }

// goEnvKeyed are the toolchain settings a binary depends on besides its
// sources: a different Go, target or experiment compiles other bytes.
var goEnvKeyed = []string{"GOVERSION", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOEXPERIMENT", "GOFLAGS", "GOROOT"}

// goPackage is what `go list` says of one package, as far as the key needs.
type goPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	SFiles     []string
	EmbedFiles []string
	SysoFiles  []string
	Deps       []string
}

// sourceKeys says, without compiling, what each of mains (package paths
// of commands, as `go build` takes them, run in root) is built from, as
// one key per main: a digest of the toolchain's settings (goEnvKeyed, Go's
// version among them, which stands for the standard library), the flags
// (buildFlags, CGO_ENABLED=0), go.mod and go.sum, and the import path and
// the name and content of every file the compiler reads of every
// non-standard package in the main's dependencies, as `go list -deps`
// names them (the files of the build's GOOS/GOARCH and tags, tests
// excluded). A source edit, a dependency's version, a new embedded file
// or a new Go changes the key; a file no binary is built from does not.
func sourceKeys(ctx context.Context, root string, mains ...string) (map[string]string, error) {
	env := exec.CommandContext(ctx, "go", append([]string{"env"}, goEnvKeyed...)...)
	env.Dir, env.Env = root, buildEnv()
	envOut, err := env.Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", errOutput(err))
	}
	list := exec.CommandContext(ctx, "go", append([]string{"list", "-deps",
		"-json=ImportPath,Dir,Standard,GoFiles,SFiles,EmbedFiles,SysoFiles,Deps"}, mains...)...)
	list.Dir, list.Env = root, buildEnv()
	out, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %v: %w", mains, errOutput(err))
	}
	pkgs := map[string]goPackage{}
	var order []string // the mains, as go list names them (./cmd/x is resolved)
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list -deps: %w", err)
		}
		pkgs[p.ImportPath] = p
		order = append(order, p.ImportPath)
	}
	common := sha256.New()
	fmt.Fprintf(common, "flags %q CGO_ENABLED=0\nenv %s\n", buildFlags, envOut)
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := hashFile(common, filepath.Join(root, f), f); err != nil {
			return nil, err
		}
	}
	// Each package's digest once, however many mains share it.
	digests := map[string][]byte{}
	digest := func(path string) ([]byte, error) {
		if d, ok := digests[path]; ok {
			return d, nil
		}
		p, ok := pkgs[path]
		if !ok {
			return nil, fmt.Errorf("go list -deps did not describe %s", path)
		}
		h := sha256.New()
		fmt.Fprintf(h, "package %s\n", p.ImportPath)
		if !p.Standard {
			var files []string
			for _, fs := range [][]string{p.GoFiles, p.SFiles, p.EmbedFiles, p.SysoFiles} {
				files = append(files, fs...)
			}
			slices.Sort(files)
			for _, f := range files {
				if err := hashFile(h, filepath.Join(p.Dir, f), f); err != nil {
					return nil, err
				}
			}
		}
		d := h.Sum(nil)
		digests[path] = d
		return d, nil
	}
	keys := map[string]string{}
	for _, m := range mains {
		main, err := resolveMain(pkgs, order, root, m)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		h.Write(common.Sum(nil))
		for _, dep := range append([]string{main.ImportPath}, main.Deps...) {
			d, err := digest(dep)
			if err != nil {
				return nil, err
			}
			h.Write(d)
		}
		keys[m] = hex.EncodeToString(h.Sum(nil))
	}
	return keys, nil
}

// resolveMain finds the package go list describes for m, an import path
// or a directory relative to root (./cmd/x).
func resolveMain(pkgs map[string]goPackage, order []string, root, m string) (goPackage, error) {
	if p, ok := pkgs[m]; ok {
		return p, nil
	}
	dir, err := filepath.Abs(filepath.Join(root, m))
	if err != nil {
		return goPackage{}, err
	}
	for _, path := range order {
		if pkgs[path].Dir == dir {
			return pkgs[path], nil
		}
	}
	return goPackage{}, fmt.Errorf("go list -deps did not describe %s", m)
}

// hashFile writes name and the content of path to h.
func hashFile(h io.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "file %s %d\n", name, fi.Size())
	_, err = io.Copy(h, f)
	return err
}

// errOutput adds a failed command's standard error to its error.
func errOutput(err error) error {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%v\n%s", err, ee.Stderr)
	}
	return err
}
