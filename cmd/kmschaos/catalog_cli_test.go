package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/scenarios"
)

type scenarioRow struct {
	Name    string   `json:"name"`
	Section string   `json:"section"`
	Labels  []string `json:"labels"`
}

func TestScenariosListsTheCatalogFilteredByLabel(t *testing.T) {
	out, _, code := cli(t, "scenarios", "--output", "json")
	var all []scenarioRow
	if code != 0 || json.Unmarshal([]byte(out), &all) != nil {
		t.Fatalf("scenarios --output json: exit %d\n%s", code, out)
	}
	if len(all) != len(scenarios.Catalog()) {
		t.Errorf("listed %d scenarios, the catalog has %d", len(all), len(scenarios.Catalog()))
	}
	out, _, code = cli(t, "scenarios", "--label", "threshold-network && !prss", "--output", "json")
	var some []scenarioRow
	if code != 0 || json.Unmarshal([]byte(out), &some) != nil {
		t.Fatalf("scenarios --label: exit %d\n%s", code, out)
	}
	if len(some) == 0 || len(some) >= len(all) {
		t.Fatalf("the filter kept %d of %d scenarios", len(some), len(all))
	}
	for _, r := range some {
		has := func(l string) bool {
			for _, x := range r.Labels {
				if x == l {
					return true
				}
			}
			return false
		}
		if !has("threshold-network") || has("prss") {
			t.Errorf("%q with labels %v passed 'threshold-network && !prss'", r.Name, r.Labels)
		}
	}
	out, _, code = cli(t, "scenarios", "--label", "connectivity")
	if code != 0 || !strings.HasPrefix(out, "Connectivity Issues\n  a refused client link") || !strings.Contains(out, "[scenario, connectivity, network]") {
		t.Errorf("scenarios --label connectivity: exit %d\n%s", code, out)
	}
	_, errOut, code := cli(t, "scenarios", "--label", "connectivity &&")
	if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, `--label "connectivity &&": the expression ends where a label is expected (at character 16)`) || strings.Contains(errOut, "\x1b[") {
		t.Errorf("a bad label filter: exit %d, stderr %q; want exit 2 and one plain line", code, errOut)
	}
	if _, errOut, code := cli(t, "scenarios", "--output", "yaml"); code != 2 || !strings.Contains(errOut, `--output "yaml": use text or json`) {
		t.Errorf("--output yaml: exit %d, %q", code, errOut)
	}
}

func TestFaultsListsTheTable(t *testing.T) {
	out, _, code := cli(t, "faults", "--output", "json")
	var kinds []fault.KindSpec
	if code != 0 || json.Unmarshal([]byte(out), &kinds) != nil || len(kinds) != len(fault.Kinds()) {
		t.Fatalf("faults --output json: exit %d, %d kinds\n%s", code, len(kinds), out)
	}
	for _, k := range kinds {
		if len(k.Backends) == 0 {
			t.Errorf("faults --output json: %s names no backend", k.Name)
		}
	}
	out, _, code = cli(t, "faults")
	for _, row := range []string{
		`(?m)^\s*latency\s+network\s+--party N\s+docker,kubernetes\s+coordinator\s+latency=300ms jitter=50ms\s`,
		`(?m)^\s*pause\s+process\s+--party N\s+docker\s+operator\s+-\s`,
		`(?m)^\s*evict\s+process\s+--party N\s+kubernetes\*\s+operator\s+-\s`,
		`(?m)^\* evict: only where node faults are allowed`,
	} {
		if code != 0 || !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("faults: exit %d, no line matching %s\n%s", code, row, out)
		}
	}
}

// A game day asked for a kind its backend does not offer is refused in
// one line, exit 2, before any cluster is looked for.
func TestGameDayRefusesAKindTheBackendLacks(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--backend", "kubernetes", "gameday", "start", "--kinds", "kill,pause"}, "--kinds: fault kind pause is not offered on the kubernetes backend (only on docker)"},
		{[]string{"gameday", "start", "--kinds", "evict"}, "--kinds: fault kind evict is not offered on the docker backend (only on kubernetes)"},
	} {
		_, errOut, code := cli(t, append(c.args, "--report", t.TempDir())...)
		if code != 2 || !strings.Contains(errOut, c.says) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line saying %q", c.args, code, errOut, c.says)
		}
	}
}

// What needs no cluster is refused before looking for one.
func TestInjectAndHealRefuseBadInputWithoutACluster(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"inject", "partition-all", "--party", "1"}, `unknown fault kind "partition-all"`},
		{[]string{"inject", "link-hang", "--link", "3-3"}, "--link 3-3 is a link to itself"},
		{[]string{"inject", "link-hang", "--link", "3"}, `--link "3": write I-J`},
		{[]string{"inject", "latency", "--party", "1", "--param", "latency"}, `--param "latency": write name=value`},
		{[]string{"heal"}, "give the id of a fault to heal"},
		{[]string{"heal", "x", "--all"}, "not both"},
		{[]string{"inject", "kill", "--partyy", "1"}, "unknown flag: --partyy"},
	} {
		_, errOut, code := cli(t, c.args...)
		if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, c.says) {
			t.Errorf("kmschaos %v: exit %d, stderr %q; want exit 2 and one line saying %q", c.args, code, errOut, c.says)
		}
	}
}

// run refuses, before looking for a cluster, what selects no scenario:
// an unknown name (suggesting the closest), a label filter that selects
// nothing or does not parse, both or neither.
func TestRunRefusesBadSelection(t *testing.T) {
	name := scenarios.Catalog()[0].Name
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"run", name + "x"}, `unknown scenario "` + name + `x": did you mean "` + name + `"?`},
		{[]string{"run"}, "give scenario names or --label"},
		{[]string{"run", name, "--label", "process"}, "not both"},
		{[]string{"run", "--label", "no-such-label"}, "selects no scenario"},
		{[]string{"run", "--label", "(process"}, `--label "(process"`},
	} {
		_, errOut, code := cli(t, c.args...)
		if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, c.says) {
			t.Errorf("kmschaos %v: exit %d, stderr %q; want exit 2 and one line saying %q", c.args, code, errOut, c.says)
		}
	}
}
