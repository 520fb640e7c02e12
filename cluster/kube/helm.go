package kube

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kmschaos/kmschaos/cluster"
)

// The parties are deployed by a Helm chart of ours, one release per party
// (kms-threshold-<i>), as each operator of a real network installs their
// own: the operations pages' helm steps (upgrade, rollback, history) act
// on something real.
//
//go:embed all:chart/kms-threshold
var chartFiles embed.FS

const chartRoot = "chart/kms-threshold"

// partyValues are the chart's values for party i.
type partyValues struct {
	Party       int               `json:"party"`
	Image       string            `json:"image"`
	Args        []string          `json:"args"`
	User        user              `json:"user"`
	Ports       ports             `json:"ports"`
	Config      string            `json:"config"`
	ConfigFile  string            `json:"configFile"`
	PeerHosts   []string          `json:"peerHosts"`
	MeshIP      string            `json:"meshIP"`
	Volumes     []volumeValue     `json:"volumes"`
	Resources   map[string]any    `json:"resources"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// The init Job's: every party's client host (the real chart's
	// peersList) and the image its containers run.
	PeersList    []peerValue `json:"peersList"`
	ToolboxImage string      `json:"toolboxImage"`
}

type peerValue struct {
	ID   int    `json:"id"`
	Host string `json:"host"`
}

type user struct {
	UID int64 `json:"uid"`
	GID int64 `json:"gid"`
}

type ports struct {
	P2P     int `json:"p2p"`
	API     int `json:"api"`
	Metrics int `json:"metrics"`
}

type volumeValue struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	Size      string `json:"size"`
}

// What each party asks the scheduler for: little, whatever its limits, or
// a CPU limit of every core (the baseline) would make each party ask for
// a whole node, and 13 would not fit.
const (
	partyMemoryRequest   = 32 << 20
	partyCPURequestMilli = 10
)

func valuesOf(s cluster.Spec, i int, args []string, meshIP string, config []byte) partyValues {
	p := s.Profile
	uid, gid := uidGid(p.User)
	v := partyValues{Party: i, Image: s.Images.Party, Args: s.PartyCommand(args), User: user{uid, gid},
		Config: string(config), ConfigFile: p.ConfigFile,
		Ports: ports{p.P2PPort, p.APIPort, p.MetricsPort}, PeerHosts: s.PeerHosts(), MeshIP: meshIP,
		Labels: labels(s, "party"), Annotations: owner(s), ToolboxImage: s.Images.Toolbox}
	for j := 1; j <= s.Topology.N; j++ {
		v.PeersList = append(v.PeersList, peerValue{ID: j, Host: s.PartyHost(j)})
	}
	for _, vol := range s.Volumes(i) {
		q := quantity(vol.Size)
		v.Volumes = append(v.Volumes, volumeValue{Name: vol.Kind, MountPath: vol.InParty, Size: q.String()})
	}
	if b := s.Baseline(i); b != (cluster.Resources{}) {
		v.Resources = requirements(b) // limits as the Docker backend sets them
	}
	return v
}

// writeChart writes the embedded chart to a folder of its own for one
// helm call, in chart/ of a folder this process holds (cluster.MkdirOwned);
// the caller removes that when helm returns. It holds templates only, no
// secret (the values go to helm on its stdin), and no folder outlives the
// call, so a detached run leaves none behind, and the sweep removes at
// once the one a kill during the call left (cluster/tempdirs.go).
func writeChart() (chart string, owned *cluster.OwnedDir, err error) {
	owned, err = cluster.MkdirOwned("kmschaos-chart-*")
	if err != nil {
		return "", nil, err
	}
	dir := filepath.Join(owned.Path, "chart")
	err = fs.WalkDir(chartFiles, chartRoot, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, strings.TrimPrefix(p, chartRoot))
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := chartFiles.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		_ = owned.Remove()
		return "", nil, err
	}
	return dir, owned, nil
}

// installParty installs or upgrades party i's release with helm. The
// config it deploys is the one deployed already (a release being upgraded
// keeps its config, as helm upgrade --reuse-values does), else the one
// dealt into the party's config volume.
func (d *Driver) installParty(ctx context.Context, s cluster.Spec, i int, args []string, meshIP string) error {
	config, err := d.DeployedConfig(ctx, i)
	if err != nil {
		return err
	}
	if config == nil {
		if config, err = d.keeper().CopyOut(ctx, s.KeeperConfigPath(i)); err != nil {
			return fmt.Errorf("reading party %d's config: %w", i, err)
		}
	}
	values, err := json.Marshal(valuesOf(s, i, args, meshIP, config))
	if err != nil {
		return err
	}
	return d.helm(ctx, i, values)
}

// helm runs helm upgrade --install of party i's release with values (and
// extra flags), the chart written out for the call.
func (d *Driver) helm(ctx context.Context, i int, values []byte, extra ...string) error {
	dir, owned, err := writeChart()
	if err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	defer func() { _ = owned.Remove() }()
	helm, err := tool("helm", d.local())
	if err != nil {
		return &InputError{Msg: err.Error()}
	}
	cmd := append([]string{"upgrade", "--install", statefulSetName(i), dir, "--namespace", d.ns, "--values", "-"}, extra...)
	if d.cfg.Kubeconfig != "" {
		cmd = append(cmd, "--kubeconfig", d.cfg.Kubeconfig)
	}
	if d.cfg.As != "" {
		cmd = append(cmd, "--kube-as-user", d.cfg.As)
	}
	c := osexec.CommandContext(ctx, helm, cmd...)
	c.Stdin = bytes.NewReader(values)
	out, err := c.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if strings.Contains(msg, "forbidden") {
			return &InputError{Msg: fmt.Sprintf("helm upgrade of party %d: %s: grant it in cluster/kube/rbac.yaml's ClusterRole", i, oneLine(fmt.Errorf("%s", msg)))}
		}
		return fmt.Errorf("helm upgrade of party %d: %s", i, msg)
	}
	return nil
}

// configMapName is party i's deployed config, as the chart names it.
func configMapName(i int) string { return statefulSetName(i) + "-config" }

// DeployedConfig is party i's config as deployed: its ConfigMap's
// config.toml, or nil when the party has no release yet.
func (d *Driver) DeployedConfig(ctx context.Context, i int) ([]byte, error) {
	cm, err := d.cs.CoreV1().ConfigMaps(d.ns).Get(ctx, configMapName(i), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, d.explain(err, fmt.Sprintf("reading party %d's config", i))
	}
	return []byte(cm.Data[configKey]), nil
}

// configKey is the config's key in the ConfigMap (the file the pod installs).
const configKey = "config.toml"

// PublishConfig deploys config as party i's, as an operator fixing or
// breaking the Helm values does: helm upgrade --reuse-values with the new
// config, which changes the ConfigMap and rolls the pod. A config equal
// to the deployed one changes nothing.
func (d *Driver) PublishConfig(ctx context.Context, s cluster.Spec, i int, config []byte) error {
	now, err := d.DeployedConfig(ctx, i)
	if err != nil || now == nil || bytes.Equal(now, config) {
		return err
	}
	values, err := json.Marshal(map[string]string{"config": string(config)})
	if err != nil {
		return err
	}
	return d.helm(ctx, i, values, "--reuse-values")
}
