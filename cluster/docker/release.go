package docker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/moby/moby/client"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/kms/localcluster"
	"github.com/kmschaos/kmschaos/kms/release"
)

// BuildRelease builds the party image of another release: the cluster's
// party image with kms-server linked as version (the same sources, so
// only the link runs). Its tag is the party image's and the version, so
// it is reused while the party's sources are unchanged, and
// RemoveImages removes it with the party image.
func (d *Driver) BuildRelease(ctx context.Context, s cluster.Spec, version string) (string, error) {
	return BuildRelease(ctx, d.dc, s.Images.Party, version)
}

// BuildRelease builds (or finds) the image of release version of party
// image base.
func BuildRelease(ctx context.Context, dc client.APIClient, base, version string) (string, error) {
	repo, tag, ok := strings.Cut(base, ":")
	if !ok {
		return "", fmt.Errorf("party image %q has no tag", base)
	}
	ref := repo + ":" + tag + releaseSuffix + version
	if exists, err := imageExists(ctx, dc, ref); err != nil || exists {
		return ref, err
	}
	root, err := localcluster.ModuleRoot()
	if err != nil {
		return "", err
	}
	owned, err := cluster.MkdirOwned("kmschaos-release-")
	if err != nil {
		return "", err
	}
	defer func() { _ = owned.Remove() }()
	args := append(append([]string{"build"}, buildFlags...), "-ldflags", release.VersionFlag(version),
		"-o", filepath.Join(owned.Path, "kms-server"), "./cmd/kms-server")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = root, buildEnv()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build kms-server %s: %v\n%s", version, err, b)
	}
	dockerfile := fmt.Sprintf("FROM %s\nCOPY kms-server /bin/kms-server\n", base)
	if err := os.WriteFile(filepath.Join(owned.Path, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", err
	}
	if err := buildImage(ctx, owned.Path, repo, tag+releaseSuffix+version); err != nil {
		return "", fmt.Errorf("building %s: %w", ref, err)
	}
	return ref, nil
}

// releaseSuffix joins a party image's tag and a release's version.
const releaseSuffix = "-v"

// releasesOf are the release images built from party image base.
func releasesOf(ctx context.Context, dc client.APIClient, base string) ([]string, error) {
	if base == "" {
		return nil, nil
	}
	res, err := dc.ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("reference", base+releaseSuffix+"*")})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, im := range res.Items {
		out = append(out, im.RepoTags...)
	}
	return out, nil
}
