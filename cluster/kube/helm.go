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
	"strconv"
	"strings"

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
	PeerHosts   []string          `json:"peerHosts"`
	MeshIP      string            `json:"meshIP"`
	Volumes     []volumeValue     `json:"volumes"`
	Resources   map[string]any    `json:"resources"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
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

func valuesOf(s cluster.Spec, i int, args []string, meshIP string) partyValues {
	p := s.Profile
	uid, gid := uidGid(p.User)
	v := partyValues{Party: i, Image: s.Images.Party, Args: s.PartyCommand(args), User: user{uid, gid},
		Ports: ports{p.P2PPort, p.APIPort, p.MetricsPort}, PeerHosts: s.PeerHosts(), MeshIP: meshIP,
		Labels: labels(s, "party"), Annotations: owner(s)}
	for _, vol := range s.Volumes(i) {
		q := quantity(vol.Size)
		v.Volumes = append(v.Volumes, volumeValue{Name: vol.Kind, MountPath: vol.InParty, Size: q.String()})
	}
	limits := map[string]string{}
	if b := s.Baseline(i); b.Memory > 0 {
		limits["memory"] = strconv.FormatInt(b.Memory, 10)
	}
	if b := s.Baseline(i); b.NanoCPUs > 0 {
		limits["cpu"] = strconv.FormatInt(b.NanoCPUs/1e6, 10) + "m"
	}
	if len(limits) > 0 {
		// Limits as the Docker backend sets them; requests small, or a
		// limit of every core (the CPU baseline) would make each party ask
		// the scheduler for a whole node.
		v.Resources = map[string]any{"limits": limits, "requests": map[string]string{"cpu": "10m", "memory": "32Mi"}}
	}
	return v
}

// writeChart writes the embedded chart to a folder of its own for one
// helm call; the caller removes it when helm returns. It holds templates
// only, no secret (the values go to helm on its stdin), and no folder
// outlives the call, so a detached or killed run leaves none behind (the
// sweep removes one a kill during the call left: cluster/tempdirs.go).
func writeChart() (string, error) {
	dir, err := os.MkdirTemp("", "kmschaos-chart-*")
	if err != nil {
		return "", err
	}
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
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// installParty installs or upgrades party i's release with helm.
func (d *Driver) installParty(ctx context.Context, s cluster.Spec, i int, args []string, meshIP string) error {
	dir, err := writeChart()
	if err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	defer os.RemoveAll(dir)
	values, err := json.Marshal(valuesOf(s, i, args, meshIP))
	if err != nil {
		return err
	}
	helm, err := tool("helm", d.local())
	if err != nil {
		return &InputError{err.Error()}
	}
	cmd := []string{"upgrade", "--install", statefulSetName(i), dir, "--namespace", d.ns, "--values", "-"}
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
			return &InputError{fmt.Sprintf("helm install of party %d: %s: grant it in cluster/kube/rbac.yaml's ClusterRole", i, oneLine(fmt.Errorf("%s", msg)))}
		}
		return fmt.Errorf("helm install of party %d: %s", i, msg)
	}
	return nil
}
