package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Profile holds everything that is specific to the party software: its
// image, ports, paths and commands. The simulated party is the default; a
// profile for the real KMS image would change these values only.
type Profile struct {
	Name string
	User string // uid:gid the party runs as

	APIPort, P2PPort, MetricsPort int

	KeysDir    string // mount point of the keys volume (PUB and PRIV vaults)
	BackupDir  string // mount point of the backup volume
	ConfigDir  string // mount point of the config volume
	ConfigFile string // the party's config, inside ConfigDir

	// Commands, run inside containers of the party image.
	HealthCheck []string // kms-health-check
	Init        []string // kms-init
	Client      []string // kms-client
	Admin       []string // kms-admin: file and storage toolbox
	GenKeys     []string // kms-gen-keys: the dealer, run in the keeper

	// Command is the party's arguments in the baseline (the image's
	// entrypoint is the server). A party started otherwise — the
	// meta-specs' lying coordinator — is a fault the audit reports.
	Command []string

	// Startup is a log line a party prints once it serves its API.
	Startup string
}

// SimulatedParty is the profile of the party in this repository.
var SimulatedParty = Profile{
	Name: "simulated", User: "10001:10001",
	APIPort: 50100, P2PPort: 50001, MetricsPort: 9646,
	KeysDir: "/app/kms/keys", BackupDir: "/app/kms/backup", ConfigDir: "/app/kms/config", ConfigFile: "/app/kms/config/config.toml",
	HealthCheck: []string{"kms-health-check"}, Init: []string{"kms-init"}, Client: []string{"kms-client"}, Admin: []string{"kms-admin"},
	GenKeys: []string{"kms-gen-keys"},
	Command: []string{"--config-file", "/app/kms/config/config.toml"},
	Startup: "Starting core service gRPC server",
}

// AdminCmd is the kms-admin command line with args, in a slice of its own
// (appending to it never writes into the profile).
func (p Profile) AdminCmd(args ...string) []string { return slices.Concat(p.Admin, args) }

// UID is the numeric user id of the party.
func (p Profile) UID() string {
	u, _, _ := strings.Cut(p.User, ":")
	return u
}

// Naming of the proxy mesh. Every directed peer link i->j has its own
// toxiproxy listener; client and metrics links have one per party.
func peerProxyName(i, j int) string { return fmt.Sprintf("p%d-p%d", i, j) }
func clientProxyName(i int) string  { return fmt.Sprintf("client-p%d", i) }
func metricsProxyName(i int) string { return fmt.Sprintf("metrics-p%d", i) }
func peerProxyPort(i, j int) int    { return 20000 + 100*i + j }
func clientProxyPort(i int) int     { return 30000 + i }
func metricsProxyPort(i int) int    { return 31000 + i }
func partyAlias(i int) string       { return fmt.Sprintf("kms-party-%d", i) }
func peerHost(j int) string         { return fmt.Sprintf("kms-peer-%d", j) }
func toxiproxyControlPort() int     { return 8474 }

func partyName(run string, i int) string { return partyNamePrefix(run) + strconv.Itoa(i) }

func partyNamePrefix(run string) string { return "kmschaos-" + run + "-p" }
