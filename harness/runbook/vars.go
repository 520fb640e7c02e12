package runbook

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/kms/material"
)

// Var is a built-in variable: every runbook may write {{Name}}.
type Var struct {
	Name    string
	Meaning string
	Example string // at n=13, party 3, the simulated profile
	value   func(e *Env) []string
}

// Builtins is the one table of the variables every runbook may use; a
// runbook that needs more declares them under vars: and the caller
// supplies them (Env.Vars). Keys paths are the keeper's (/vaults/pN/...),
// p_ paths the party's own.
var Builtins = []Var{
	{"party", "the party the runbook is about (the scenario's target)", "3",
		func(e *Env) []string { return []string{strconv.Itoa(e.Party)} }},
	{"n", "number of parties", "13",
		func(e *Env) []string { return []string{strconv.Itoa(e.C.Topology.N)} }},
	{"t", "threshold", "4",
		func(e *Env) []string { return []string{strconv.Itoa(e.C.Topology.T)} }},
	{"toxiproxy_ip", "address of the proxy mesh on the cluster network (what kms-peer-N resolve to)", "172.18.0.2",
		func(e *Env) []string { return []string{e.C.ToxiproxyIP()} }},
	{"cpus", "the CPUs every party starts with (for engine update)", "2",
		func(e *Env) []string {
			return []string{strconv.FormatFloat(float64(e.C.BaselineOf(e.Party).NanoCPUs)/1e9, 'f', -1, 64)}
		}},
	{"memory", "the party's baseline memory limit (for engine update; none: 0)", "256m",
		func(e *Env) []string { return []string{memSize(e.C.BaselineOf(e.Party).Memory)} }},
	{"party_addr", "the party's API as host:port on the cluster network (what the keeper and the other parties dial)", "kms-party-3:50100",
		func(e *Env) []string { return []string{partyAddr(e.C, e.Party)} }},
	{"party_addrs", "every party's API as host:port, one argument each", "kms-party-1:50100 … kms-party-13:50100",
		func(e *Env) []string {
			var out []string
			for j := 1; j <= e.C.Topology.N; j++ {
				out = append(out, partyAddr(e.C, j))
			}
			return out
		}},
	{"client_endpoint", "the party's API through its client link in the mesh, as the keeper dials it", "toxiproxy:<client link port of party 3>",
		func(e *Env) []string { return []string{e.C.ClientProxyAddr(e.Party)} }},
	{"uid", "numeric user id of the party's service user", "10001",
		func(e *Env) []string { return []string{e.C.Profile.UID()} }},
	{"key_id", "id of the cluster's FHE key", "4f1c…",
		func(e *Env) []string { return []string{e.C.Key.KeyID} }},
	{"epoch_id", "id of the PRSS epoch the cluster was set up with", material.DefaultEpochID,
		func(e *Env) []string { return []string{material.DefaultEpochID} }},
	{"fresh_epoch", "a new random PRSS epoch id, different on every run", "9a0b…(64 hex digits)",
		func(e *Env) []string {
			b := make([]byte, 32)
			rand.Read(b)
			return []string{hex.EncodeToString(b)}
		}},
	{"endpoint", "the party's API as seen inside its own container", "localhost:50100",
		func(e *Env) []string { return []string{fmt.Sprintf("localhost:%d", e.C.Profile.APIPort)} }},
	{"config", "the party's config file, in the keeper", "/vaults/p3/config/config.toml",
		func(e *Env) []string { return []string{e.C.ConfigPath(e.Party)} }},
	{"backup_config", "the known-good copy of the party's config, in the keeper", "/vaults/p3/backup/config.toml",
		func(e *Env) []string { return []string{e.C.BackupConfigPath(e.Party)} }},
	{"keys", "the party's keys volume, in the keeper", "/vaults/p3/keys",
		func(e *Env) []string { return []string{cluster.VolumePath(e.Party, "keys")} }},
	{"backup_volume", "the party's backup volume, in the keeper", "/vaults/p3/backup",
		func(e *Env) []string { return []string{cluster.VolumePath(e.Party, "backup")} }},
	{"priv", "the party's private vault, in the keeper", "/vaults/p3/keys/PRIV-p3",
		func(e *Env) []string {
			return []string{path.Join(cluster.VolumePath(e.Party, "keys"), vault("PRIV", e.Party))}
		}},
	{"pub", "the party's public vault, in the keeper", "/vaults/p3/keys/PUB-p3",
		func(e *Env) []string {
			return []string{path.Join(cluster.VolumePath(e.Party, "keys"), vault("PUB", e.Party))}
		}},
	{"backup", "the party's backup vault, in the keeper", "/vaults/p3/backup/BACKUP-p3",
		func(e *Env) []string {
			return []string{path.Join(cluster.VolumePath(e.Party, "backup"), vault("BACKUP", e.Party))}
		}},
	{"peer_pub", "a healthy peer's (party%n+1) public vault, in the keeper: to restore public material", "/vaults/p4/keys/PUB-p4",
		func(e *Env) []string {
			peer := 1 + e.Party%e.C.Topology.N
			return []string{path.Join(cluster.VolumePath(peer, "keys"), vault("PUB", peer))}
		}},
	{"p_keys", "the party's keys directory, in its container", "/app/kms/keys",
		func(e *Env) []string { return []string{e.C.Profile.KeysDir} }},
	{"p_priv", "the party's private vault, in its container", "/app/kms/keys/PRIV-p3",
		func(e *Env) []string { return []string{path.Join(e.C.Profile.KeysDir, vault("PRIV", e.Party))} }},
	{"p_pub", "the party's public vault, in its container", "/app/kms/keys/PUB-p3",
		func(e *Env) []string { return []string{path.Join(e.C.Profile.KeysDir, vault("PUB", e.Party))} }},
	{"p_backup", "the party's backup vault, in its container", "/app/kms/backup/BACKUP-p3",
		func(e *Env) []string { return []string{path.Join(e.C.Profile.BackupDir, vault("BACKUP", e.Party))} }},
	{"p_config", "the party's config file, in its container", "/app/kms/config/config.toml",
		func(e *Env) []string { return []string{e.C.Profile.ConfigFile} }},
	{"p_backup_config", "the known-good config copy, in the party's container", "/app/kms/backup/config.toml",
		func(e *Env) []string {
			return []string{path.Join(e.C.Profile.BackupDir, path.Base(e.C.Profile.ConfigFile))}
		}},
	{"addresses", "every party's API address, one argument each (kms-init or kms-client new-epoch --addresses)", "http://kms-party-1:50100 … http://kms-party-13:50100",
		func(e *Env) []string {
			var out []string
			for j := 1; j <= e.C.Topology.N; j++ {
				out = append(out, fmt.Sprintf("http://kms-party-%d:%d", j, e.C.Profile.APIPort))
			}
			return out
		}},
}

func partyAddr(c *cluster.Cluster, i int) string {
	return fmt.Sprintf("kms-party-%d:%d", i, c.Profile.APIPort)
}

// memSize writes a byte count as engine update takes it: whole MiB as
// "256m", else bytes.
func memSize(b int64) string {
	if b > 0 && b%(1<<20) == 0 {
		return strconv.FormatInt(b>>20, 10) + "m"
	}
	return strconv.FormatInt(b, 10)
}

// Conventional are the variables the shipped runbooks declare under vars:
// (not built in: the caller supplies them, a scenario or --var), with
// their meaning; DeriveVars fills those it can from the others.
var Conventional = []Var{
	{Name: "targets", Meaning: "the parties the procedure acts on, as a party list", Example: "2,3"},
	{Name: "observer", Meaning: "a healthy party whose health check names the peers that time out", Example: "1"},
	{Name: "peer", Meaning: "the peer whose link or name the procedure repairs", Example: "4"},
	{Name: "peer_ip_port", Meaning: "the address the party dials for {{peer}}, by IP (derived from peer when not given)", Example: "172.18.0.2:20304"},
}

// DeriveVars adds to vars the conventional variables that follow from the
// others and the cluster: peer_ip_port from peer. It returns a new map.
func DeriveVars(c *cluster.Cluster, party int, vars map[string]string) map[string]string {
	out := make(map[string]string, len(vars)+1)
	for k, v := range vars {
		out[k] = v
	}
	if _, ok := out["peer_ip_port"]; !ok {
		if j, err := strconv.Atoi(out["peer"]); err == nil && j >= 1 && j <= c.Topology.N && j != party {
			out["peer_ip_port"] = c.PeerProxyAddr(party, j)
		}
	}
	return out
}

func vault(kind string, i int) string { return fmt.Sprintf("%s-p%d", kind, i) }

var builtin = func() map[string]bool {
	m := map[string]bool{}
	for _, v := range Builtins {
		m[v.Name] = true
	}
	return m
}()

// vars are the variables of a run: the built-in ones, then what the caller
// supplies (declared variables, or overrides of built-in ones).
func (e *Env) vars() map[string][]string {
	v := make(map[string][]string, len(Builtins)+len(e.Vars))
	for _, b := range Builtins {
		v[b.Name] = b.value(e)
	}
	for k, val := range e.Vars {
		v[k] = []string{val}
	}
	return v
}

// CheckVars tells whether the caller supplies every variable the runbook
// declares, with a value. Call it before injecting a fault: Run calls it
// before its first step.
func (rb *Runbook) CheckVars(supplied map[string]string) error {
	var missing []string
	for _, name := range rb.Vars {
		if strings.TrimSpace(supplied[name]) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("runbook %q needs variables the caller did not supply: %s", rb.Name, strings.Join(missing, ", "))
	}
	return nil
}
