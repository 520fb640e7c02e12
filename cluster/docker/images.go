package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/kms/localcluster"
)

// Image repositories of the harness. Tags are content hashes of the build
// context, so an unchanged build reuses the image of an earlier run.
const (
	PartyRepo     = "kmschaos/party"
	ToxiproxyRepo = "kmschaos/toxiproxy"
	ToolboxRepo   = "kmschaos/toolbox"
	// ToxiproxyPackage is built into the toxiproxy image; its version is the
	// one go.mod pins (v2.12.0).
	ToxiproxyPackage = "github.com/Shopify/toxiproxy/v2/cmd/server"
)

// BuildImages builds the party, toxiproxy and toolbox images FROM
// scratch, unless images with the same content exist. A tag is a key of
// what the image is made of, computed without compiling: the sources of
// its Go binaries as `go list -deps` names them (sourceKeys), its
// Dockerfile and its other files; so an unchanged tree reuses the images
// of an earlier run and compiles nothing, and a changed source file makes
// a new tag, hence a new image. Only the binaries of an image that must
// be built are compiled.
// Older images are not removed here: another run on the same engine may
// be about to start containers of one (a build removed the image a
// concurrent run had just checked for); a run removes its own images when
// it ends (Terminate), and `kmschaos sweep --images` the rest.
func BuildImages(ctx context.Context, dc client.APIClient, progress func(string)) (cluster.Images, error) {
	ensureEnv()
	root, err := localcluster.ModuleRoot()
	if err != nil {
		return cluster.Images{}, err
	}
	owned, err := cluster.MkdirOwned("kmschaos-images-")
	if err != nil {
		return cluster.Images{}, err
	}
	defer func() { _ = owned.Remove() }()
	work := owned.Path
	party := filepath.Join(work, "party")
	proxy := filepath.Join(work, "toxiproxy")
	toolbox := filepath.Join(work, "toolbox")

	partyMains := make([]string, len(localcluster.Binaries))
	for i, b := range localcluster.Binaries {
		partyMains[i] = "./cmd/" + b
	}
	toolboxMains := []string{GrpcurlPackage, GrpcHealthProbePackage}
	for _, t := range partyToolsInToolbox {
		toolboxMains = append(toolboxMains, "./cmd/"+t)
	}
	keys, err := sourceKeys(ctx, root, append(append(partyMains, ToxiproxyPackage), toolboxMains...)...)
	if err != nil {
		return cluster.Images{}, err
	}
	// The toolbox's files that are not compiled (the shells, the docker
	// CLI, /etc) are laid out first: their content is part of its tag.
	if err := toolboxBase(toolbox); err != nil {
		return cluster.Images{}, err
	}
	toolboxFiles, err := hashDir(toolbox)
	if err != nil {
		return cluster.Images{}, err
	}
	var partyBuilt bool
	buildParty := func() error {
		if partyBuilt {
			return nil
		}
		progress("compiling the party binaries")
		if err := localcluster.Build(ctx, party); err != nil {
			return err
		}
		partyBuilt = true
		return nil
	}
	var out cluster.Images
	for _, b := range []struct {
		dir, dockerfile, repo, files string
		mains                        []string
		compile                      func() error
		dst                          *string
	}{
		{party, "Dockerfile.party", PartyRepo, "", partyMains, buildParty, &out.Party},
		{proxy, "Dockerfile.toxiproxy", ToxiproxyRepo, "", []string{ToxiproxyPackage}, func() error {
			progress("compiling toxiproxy")
			return goBuild(ctx, root, filepath.Join(proxy, "toxiproxy-server"), ToxiproxyPackage)
		}, &out.Toxiproxy},
		{toolbox, "Dockerfile.toolbox", ToolboxRepo, toolboxFiles, toolboxMains, func() error {
			if err := buildParty(); err != nil {
				return err
			}
			progress("compiling grpcurl and grpc_health_probe")
			return toolboxBinaries(ctx, root, party, toolbox)
		}, &out.Toolbox},
	} {
		dockerfile, err := os.ReadFile(filepath.Join(root, "docker", b.dockerfile))
		if err != nil {
			return cluster.Images{}, err
		}
		h := sha256.New()
		fmt.Fprintf(h, "dockerfile %d\n%s\nfiles %s\n", len(dockerfile), dockerfile, b.files)
		for _, m := range b.mains {
			fmt.Fprintf(h, "main %s %s\n", m, keys[m])
		}
		tag := hex.EncodeToString(h.Sum(nil))[:16]
		ref := b.repo + ":" + tag
		*b.dst = ref
		if exists, err := imageExists(ctx, dc, ref); err != nil {
			return cluster.Images{}, err
		} else if exists {
			progress("reusing image " + ref + " (its sources are unchanged)")
			continue
		}
		if err := os.MkdirAll(b.dir, 0o755); err != nil {
			return cluster.Images{}, err
		}
		if err := b.compile(); err != nil {
			return cluster.Images{}, err
		}
		if err := os.WriteFile(filepath.Join(b.dir, "Dockerfile"), dockerfile, 0o644); err != nil {
			return cluster.Images{}, err
		}
		progress("building image " + ref)
		if err := buildImage(ctx, b.dir, b.repo, tag); err != nil {
			return cluster.Images{}, fmt.Errorf("building %s: %w", ref, err)
		}
	}
	return out, nil
}

func goBuild(ctx context.Context, root, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", append(append([]string{"build"}, buildFlags...), "-o", out, pkg)...)
	cmd.Dir = root
	cmd.Env = buildEnv()
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func buildImage(ctx context.Context, dir, repo, tag string) error {
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	defer p.Close()
	_, err = p.BuildImage(ctx, &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: dir, Dockerfile: "Dockerfile", Repo: repo, Tag: tag, KeepImage: true,
		BuildOptionsModifier: func(o *client.ImageBuildOptions) {
			o.Labels = map[string]string{cluster.LabelManaged: "true", cluster.LabelRole: "image"}
			o.Remove, o.ForceRemove = true, true
		},
	}})
	return err
}

func imageExists(ctx context.Context, dc client.APIClient, ref string) (bool, error) {
	res, err := dc.ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("reference", ref)})
	if err != nil {
		return false, err
	}
	return len(res.Items) > 0, nil
}

// removeImage removes one image by reference; one that is gone already or
// that a container still uses is not an error.
func removeImage(ctx context.Context, dc client.APIClient, ref string) error {
	if ref == "" {
		return nil
	}
	_, err := dc.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		return err
	}
	return nil
}

// RemoveImages removes the images of im that no container uses: what the
// process that built images for others (WithImages) does once they all
// ended.
func RemoveImages(ctx context.Context, dc client.APIClient, im cluster.Images) error {
	var errs []error
	releases, err := releasesOf(ctx, dc, im.Party)
	errs = append(errs, err)
	for _, ref := range append(releases, im.Party, im.Toxiproxy, im.Toolbox) {
		errs = append(errs, removeImage(ctx, dc, ref))
	}
	return errors.Join(errs...)
}

// removeImages removes every image of the harness; images in use by a
// container stay.
func removeImages(ctx context.Context, dc client.APIClient) (int, error) {
	res, err := dc.ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("label", cluster.LabelManaged+"=true")})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, img := range res.Items {
		n += removeUnused(ctx, dc, img.RepoTags)
	}
	return n, nil
}

// removeUnused removes the images refs names that no container uses, and
// returns how many it removed.
func removeUnused(ctx context.Context, dc client.APIClient, refs []string) int {
	n := 0
	for _, ref := range refs {
		if _, err := dc.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true}); err == nil {
			n++
		}
	}
	return n
}

// hashDir digests every file name and content of dir.
func hashDir(dir string) (string, error) {
	var names []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		rel, _ := filepath.Rel(dir, n)
		fmt.Fprintf(h, "%s\x00", rel)
		f, err := os.Open(n)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
