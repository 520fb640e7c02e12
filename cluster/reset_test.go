package cluster

import (
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/kms/material"
)

const (
	epochDir     = "/vaults/p1/keys/PRIV-p1/EpochData"
	defaultEpoch = epochDir + "/" + material.DefaultEpochID
	shareObj     = "/vaults/p1/keys/PRIV-p1/FheKeyInfo/k1"
)

var baseline = []string{
	"d 0700 10001:10001 - - " + epochDir,
	"f 0600 10001:10001 412 aaaa " + defaultEpoch,
	"f 0600 10001:10001 120 bbbb " + shareObj,
}

func replaced(lines []string, i int, l string) []string {
	out := slices.Clone(lines)
	out[i] = l
	return out
}

func TestDiffManifestCountsEveryKeyObject(t *testing.T) {
	cases := []struct {
		name           string
		current        []string
		changed, added []string
	}{
		{"unchanged", baseline, nil, nil},
		{"scrambled default epoch", replaced(baseline, 1, "f 0600 10001:10001 412 ffff "+defaultEpoch), []string{defaultEpoch}, nil},
		{"removed default epoch", []string{baseline[0], baseline[2]}, []string{defaultEpoch}, nil},
		{"epoch readable by all", replaced(baseline, 1, "f 0644 10001:10001 412 aaaa "+defaultEpoch), []string{defaultEpoch}, nil},
		{"epoch owned by root", replaced(baseline, 1, "f 0600 0:0 412 aaaa "+defaultEpoch), []string{defaultEpoch}, nil},
		{"changed key share", replaced(baseline, 2, "f 0600 10001:10001 120 cccc "+shareObj), []string{shareObj}, nil},
		{"a new epoch from kms-init", append(slices.Clone(baseline), "f 0600 10001:10001 412 dddd "+epochDir+"/02"), nil, []string{epochDir + "/02"}},
		{"new epoch replacing the default", []string{baseline[0], "f 0600 10001:10001 412 dddd " + epochDir + "/02", baseline[2]}, []string{defaultEpoch}, []string{epochDir + "/02"}},
	}
	for _, c := range cases {
		changed, added := diffManifest(baseline, c.current)
		if !slices.Equal(changed, c.changed) || !slices.Equal(added, c.added) {
			t.Errorf("%s: changed %q added %q, want %q and %q", c.name, changed, added, c.changed, c.added)
		}
	}
}

func TestAcceptDropsOnlyDeclaredNewObjects(t *testing.T) {
	rep := ResetReport{Repaired: map[int][]string{}, NewObjects: map[int][]string{1: {epochDir + "/02", "/vaults/p1/keys/PRIV-p1/FheKeyInfo/forged"}}}
	if rep.Clean() {
		t.Fatal("a report with new objects is clean")
	}
	epochs := func(_ int, p string) bool { return strings.HasPrefix(p, epochDir+"/") }
	got := rep.Accept(epochs)
	if got.Clean() || !slices.Equal(got.NewObjects[1], []string{"/vaults/p1/keys/PRIV-p1/FheKeyInfo/forged"}) {
		t.Fatalf("after accepting epochs: %v", got.NewObjects)
	}
	if !strings.Contains(got.String(), "new /vaults/p1/keys/PRIV-p1/FheKeyInfo/forged") {
		t.Errorf("String() does not name the new object: %s", got)
	}
	all := rep.Accept(func(int, string) bool { return true })
	if !all.Clean() {
		t.Errorf("accepting every new object leaves %v", all)
	}
}

func TestIsEpochObject(t *testing.T) {
	for p, want := range map[string]bool{
		epochDir + "/02": true,
		defaultEpoch:     true,
		epochDir:         false,
		shareObj:         false,
		"/vaults/p1/backup/BACKUP-p1/EpochData/02": false,
		"/vaults/p1/keys/PUB-p1/EpochData/02":      false,
	} {
		if got := IsEpochObject(p); got != want {
			t.Errorf("IsEpochObject(%s) = %v", p, got)
		}
	}
}

// A hosts file resolves the peers to the mesh whether the engine wrote one
// name per line (Docker) or all on one line (the kubelet's host aliases),
// and not when a line before points a peer elsewhere.
func TestHostsResolve(t *testing.T) {
	docker := "127.0.0.1\tlocalhost\n10.0.0.9\tkms-peer-1\n10.0.0.9\tkms-peer-2\n"
	kubelet := "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n10.244.0.7\tkms-party-1\n\n# Entries added by HostAliases.\n10.0.0.9\tkms-peer-1\tkms-peer-2\n"
	for name, hosts := range map[string]string{"docker": docker, "kubelet": kubelet} {
		if !hostsResolve(hosts, "10.0.0.9", 2) {
			t.Errorf("%s: the peers resolve to the mesh, but hostsResolve says not", name)
		}
		if hostsResolve("10.0.0.66 kms-peer-2\n"+hosts, "10.0.0.9", 2) {
			t.Errorf("%s: kms-peer-2 resolves to 10.0.0.66 first, but hostsResolve says intact", name)
		}
		if hostsResolve(hosts, "10.0.0.9", 3) {
			t.Errorf("%s: kms-peer-3 is missing, but hostsResolve says intact", name)
		}
	}
}
