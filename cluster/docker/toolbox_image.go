package docker

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kmschaos/kmschaos/cluster"
)

// GrpcurlPackage is built into the toolbox; go.mod pins its version.
const GrpcurlPackage = "github.com/fullstorydev/grpcurl/cmd/grpcurl"

// GrpcHealthProbePackage is the real grpc_health_probe (go.mod pins
// v0.4.63), built into the toolbox as /bin/grpc_health_probe: the chart's
// PRSS init Job runs it (its init container check-kms-cores, as the real
// chart's runs the grpc-health-probe image).
const GrpcHealthProbePackage = "github.com/grpc-ecosystem/grpc-health-probe"

// Static shells from Debian's packages (scripts/bootstrap.sh installs them).
var toolboxStatics = map[string]string{
	"bin/bash":    "/bin/bash-static",
	"bin/busybox": "/bin/busybox",
}

// partyToolsInToolbox are the party's commands an operator has on the
// party's host; kms-gen-keys too, since the keeper (the dealer) runs on
// this image.
var partyToolsInToolbox = []string{"kms-health-check", "kms-init", "kms-admin", "kms-client", "kms-gen-keys"}

// toolboxBase lays out the toolbox image's root file system under
// dir/rootfs, with its Dockerfile's context around it: every file but the
// compiled ones (toolboxBinaries), so that their content can go into the
// image's tag before anything is compiled.
func toolboxBase(dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "root", "tmp", "var/log"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return err
		}
	}
	for dst, src := range toolboxStatics {
		if err := copyExecutable(src, filepath.Join(rootfs, dst)); err != nil {
			return fmt.Errorf("the toolbox needs %s (apt-get install busybox-static bash-static; scripts/bootstrap.sh does): %w", src, err)
		}
	}
	if err := dockerCLI(rootfs); err != nil {
		return err
	}
	// The guide's `chown kms:kms` names the service user: here the party's.
	uid := cluster.SimulatedParty.UID()
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/bash\nkms:x:" + uid + ":" + uid + ":kms:/app/kms:/bin/false\n",
		"etc/group":  "root:x:0:\nkms:x:" + uid + ":\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(rootfs, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// toolboxBinaries adds the compiled files to the toolbox's root file
// system: the party's tools from partyBin, grpcurl and grpc_health_probe.
func toolboxBinaries(ctx context.Context, root, partyBin, dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	for _, t := range partyToolsInToolbox {
		if err := copyExecutable(filepath.Join(partyBin, t), filepath.Join(rootfs, "bin", t)); err != nil {
			return err
		}
	}
	if err := goBuild(ctx, root, filepath.Join(rootfs, "bin", "grpcurl"), GrpcurlPackage); err != nil {
		return err
	}
	return goBuild(ctx, root, filepath.Join(rootfs, "bin", "grpc_health_probe"), GrpcHealthProbePackage)
}

// dockerCLI copies the engine's own client and the shared libraries it
// loads (it is not a static binary on Debian): the real CLI, not a look-alike.
func dockerCLI(rootfs string) error {
	bin, err := exec.LookPath("docker")
	if err != nil {
		return fmt.Errorf("the toolbox needs the docker CLI: %w", err)
	}
	if err := copyExecutable(bin, filepath.Join(rootfs, "bin", "docker")); err != nil {
		return err
	}
	f, err := elf.Open(bin)
	if err != nil {
		return fmt.Errorf("reading %s: %w", bin, err)
	}
	defer f.Close()
	var files []string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return err
			}
			files = append(files, strings.TrimRight(string(b), "\x00"))
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return err
	}
	for _, l := range libs {
		p, err := findLibrary(l)
		if err != nil {
			return err
		}
		files = append(files, p)
	}
	for _, p := range files {
		if err := copyExecutable(p, filepath.Join(rootfs, p)); err != nil {
			return err
		}
	}
	return nil
}

var libraryDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/lib"}

func findLibrary(name string) (string, error) {
	for _, d := range libraryDirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("the docker CLI needs %s, not found in %v", name, libraryDirs)
}

// copyExecutable copies src (symlinks followed) to dst, mode 0755.
func copyExecutable(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}
