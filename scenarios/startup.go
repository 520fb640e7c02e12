package scenarios

import (
	"fmt"
	"regexp"

	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/material"
)

// Service Startup Issues: CrashLoopBackOff, not ready, port binding.
// "Check previous container logs if pod is restarting", "Verify pod state
// and restart count", "Validate ConfigMap", "Check resource limits".

// stopsAtBoot is what an operator sees of party k stopping before it
// serves: a crash loop, the lines its log must hold, the health check
// unable to connect, and a live peer that no longer reaches it, the
// cluster Healthy.
func stopsAtBoot(k int, alive []int, logs ...probe.Probe) []probe.Probe {
	return append(append([]probe.Probe{probe.CrashLooping(k)}, logs...),
		clientCheck(k, `\[FAIL\] Cannot connect`, timings.Connectivity.RefusedCheck),
		probe.PeerUnreachable(alive[0], k, ""),
		probe.HealthStatus(alive[0], "Healthy"))
}

// configCheck is the guide's config validation of party i's file, run
// where an operator can run it while the party crash-loops: the keeper.
func configCheck(e *scenario.Env, i int, msg string) probe.Probe {
	// Exit 0: the real tool exits 0 for every report it prints.
	return probe.KeeperSays(fmt.Sprintf("kms-health-check config --file on party %d's config reports [FAIL] %q", i, msg), 0,
		msg, "kms-health-check", "config", "--file", e.C.ConfigPath(i))
}

// badConfig is a crash loop on a bad config, fixed by the guide's
// configuration recovery.
func badConfig(name string, m fault.Mutation, validation bool, logMsg func(e *scenario.Env) string) scenario.Scenario {
	return scenario.Scenario{
		Name: name, Section: Startup, Labels: []string{fault.Config},
		Build: func(e *scenario.Env) scenario.Plan {
			i := e.One()
			msg := logMsg(e)
			detect := []probe.Probe{
				probe.CrashLooping(i),
				probe.LogSays(i, "ERROR kms_server: .*"+regexp.QuoteMeta(msg)),
			}
			if validation {
				detect = append(detect, configCheck(e, i, msg))
			}
			return scenario.Plan{
				Faults: []fault.Fault{fault.BadConfig(i, m)},
				Detect: detect,
				During: check.Expect{Live: e.Others(i)},
				Target: i, Runbooks: configRecovery(e),
			}
		},
	}
}

// configRecovery is the guide's configuration recovery of a bad config.
func configRecovery(e *scenario.Env) []string {
	runbooks := []string{"config-recovery"}
	if e.C.Backend() == "kubernetes" {
		// The bad config came with a helm upgrade and is in the
		// party's ConfigMap: the guide's copy into the volume
		// brings the party back, its next pod start would undo
		// that (the audit names the ConfigMap), and the guide's
		// "Fix configuration errors in Helm values" puts it right.
		runbooks = append(runbooks, "helm-rollback-config")
	}
	return runbooks
}

func fixed(msg string) func(*scenario.Env) string { return func(*scenario.Env) string { return msg } }

var startupIssues = []scenario.Scenario{
	{
		// The guide's start-up symptom "StatefulSet not ready", caused by
		// scheduling: the party's node is cordoned and its pod evicted, so
		// the new pod stays Pending. Kubernetes only (a container engine
		// has no scheduler); on a shared cluster only with --node-faults.
		Name: "a party evicted from its cordoned node stays Pending; the guide's scheduling check finds the node and kubectl uncordon brings it back", Section: Startup,
		Labels: []string{fault.Process, LabelKubernetes},
		Build: func(e *scenario.Env) scenario.Plan {
			p := e.One()
			alive := e.Others(p)
			pod := e.C.Party(p).Name // the backend's name for it: its pod
			return scenario.Plan{
				Faults: []fault.Fault{fault.Evict(p)},
				Detect: []probe.Probe{
					probe.OperatorSays("kubectl get pod shows party "+itoa(p)+"'s pod Pending", `(?m)^`+pod+` +0/1 +Pending`, "kubectl", "get", "pod", pod),
					probe.OperatorSays("kubectl describe pod names the unschedulable node", `node\(s\) were unschedulable`, "kubectl", "describe", "pod", pod),
					probe.HealthStatus(alive[0], "Healthy"),
				},
				During: check.Expect{Live: alive, Down: []int{p}},
				Target: p, Runbooks: []string{"kubectl-uncordon"},
			}
		},
	},

	badConfig("malformed config.toml crash-loops; configuration recovery restores it", fault.MalformedTOML, true, fixed("invalid TOML")),
	badConfig("an unknown config key is rejected, not ignored", fault.UnknownKey, true, fixed("unknown configuration key(s): threshold.dec_capacty")),
	badConfig("a threshold that does not match 3t+1 stops the party", fault.WrongThreshold, true, fixed("3*t+1 must be equal to number of parties")),
	badConfig("a peer id greater than n stops the party", fault.PeerIDTooLarge, true, func(e *scenario.Env) string {
		return fmt.Sprintf("Peer party ID cannot be greater than the number of parties (%d).", e.N)
	}),
	// Peer list drift (issue 23, REAL-KMS.md item 7): a peer renamed in
	// one party's list only. The real party checks every peer's pinned
	// certificate against the peer's mpc_identity before it serves
	// (core/service/src/bin/kms-server.rs, build_tls_config) and stops on
	// the first mismatch; kms-health-check config never looks at
	// certificates (tools/kms-health-check/src/checks.rs) and passes the
	// list; the renamed peer sees only a party gone.
	{
		Name: "a peer renamed in one party's list only stops that party, naming certificate and identity, while kms-health-check config passes the list; configuration recovery restores it", Section: Startup, Labels: []string{fault.Config},
		Build: func(e *scenario.Env) scenario.Plan {
			i := e.One()
			k := fault.RenamedPeer(i, e.N)
			msg := fmt.Sprintf("Certificate subject kms-party-%d does not match mpc_identity %s", k, fault.RenamedIdentity(k))
			return scenario.Plan{
				Faults: []fault.Fault{fault.BadConfig(i, fault.PeerRenamed)},
				Detect: []probe.Probe{
					probe.CrashLooping(i),
					probe.LogSays(i, "ERROR kms_server: .*"+regexp.QuoteMeta(msg)),
					probe.KeeperSays(fmt.Sprintf("kms-health-check config --file on party %d's config reports [OK] Valid threshold config", i), 0,
						"[OK] Valid threshold config", "kms-health-check", "config", "--file", e.C.ConfigPath(i)),
					probe.PeerUnreachable(k, i, ""),
					probe.HealthStatus(k, "Healthy"),
				},
				During: check.Expect{Live: e.Others(i), Down: []int{i}},
				Target: i, Runbooks: configRecovery(e),
				Defects: []string{"docs/operations/configuration.md, Threshold Configuration Validation: the pages ask only that my_id match a configured party_id and validate with kms-health-check config, which passes a peer list the party refuses: a peer's mpc_identity that is not the CN of that peer's certificate stops the party at start (\"" + msg + "\"). The pages do not say that mpc_identity must be the CN of the peer's certificate nor that every party's list must name the peers alike, and give no procedure: the seed guide's Configuration Recovery (restore the known-good config) repairs it"},
			}
		},
	},
	badConfig("the service port equal to the party-to-party port is refused, naming the port", fault.SamePorts, true, func(e *scenario.Env) string {
		return fmt.Sprintf("Service listen port and threshold listen port must differ, both are %d", e.C.Profile.APIPort)
	}),
	badConfig("a port that cannot be bound stops the party, naming address and port", fault.UnbindableAddress, false, func(e *scenario.Env) string {
		return fmt.Sprintf("failed to bind the gRPC service to 10.255.255.1:%d: bind: cannot assign requested address", e.C.Profile.APIPort)
	}),
	// "Port binding errors" (Symptoms), the variant no config check can
	// catch: the port is free in the config and taken on the host.
	{
		Name: "a port another process holds stops the party, naming the port; the port listed by ss, freeing it recovers", Section: Startup, Labels: []string{fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			i := e.One()
			port := e.C.Profile.APIPort
			return scenario.Plan{
				Faults: []fault.Fault{fault.PortHeld(i, port)},
				Detect: []probe.Probe{
					probe.CrashLooping(i),
					// "Check previous container logs if pod is restarting"
					probe.LogSays(i, fmt.Sprintf(`ERROR kms_server: .*failed to bind the gRPC service to 0\.0\.0\.0:%d: bind: address already in use`, port)),
					// Network Analysis: "ss -tuln | grep 50100"
					portListening(i, port),
				},
				During: check.Expect{Live: e.Others(i), Down: []int{i}},
				Target: i, Runbooks: []string{"free-port"},
				Defects: []string{fmt.Sprintf(`the guide lists "Port binding errors" among the Service Startup Issues and gives no procedure for them: its resolution steps are about Helm values, resource limits, PVCs and node capacity; its Network Analysis commands (netstat -an | grep %[1]d, ss -tuln | grep %[1]d) show that port %[1]d is taken but not by which process (neither asks for -p)`, port)},
			}
		},
	},

	badConfig("a missing storage path stops the party, naming the path", fault.MissingStoragePath, false, func(e *scenario.Env) string {
		return "storage path " + e.C.Profile.KeysDir + "/missing of the private vault is not usable: no such file or directory"
	}),

	// "StatefulSet not ready" (Symptoms). A missing PRSS never shows
	// there: the real party's readiness is its uptime (/ready "ready" 10 s
	// after the process started, observability/src/telemetry.rs), its
	// /health and /live always answer, and the chart's probes only ask
	// whether it booted. The guide's diagnostic "Verify health endpoints
	// are accessible" (Connectivity Issues > Diagnostic Steps > 1) sees a
	// healthy party; what shows the fault is the party's log warning and a
	// decryption through it (the real kms-health-check has no PRSS check
	// either: tools/kms-health-check/src/checks.rs). The procedure that repairs
	// it is elsewhere in the guide, PRSS Re-initialization.
	{
		Name: "a party without PRSS looks ready: /ready, /health and /live answer 200 as the real party's do; its log and a decryption through it show the missing PRSS; re-initialisation recovers it", Section: Startup, Labels: []string{fault.PRSS},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.Remove(k, fault.PRSSEpochData)},
				Detect: []probe.Probe{
					probe.LogSays(k, "WARN kms_server: No epoch data found in storage"),
					probe.DecryptFails(k, "NotFound", "Epoch "+material.DefaultEpochID+" not found"),
					// What the endpoints tell an operator: nothing.
					probe.Endpoint(k, "/ready", 200, `^ready$`),
					probe.Endpoint(k, "/health", 200, `^ok$`),
					probe.Endpoint(k, "/live", 200, `^alive$`),
				},
				During: check.Expect{Live: e.Others(k), Down: []int{k}},
				Target: k, Runbooks: []string{"prss-reinit"},
				Defects: []string{`the guide lists "StatefulSet not ready" among the Service Startup Issues, but a party that cannot decrypt for want of PRSS is ready: /ready answers "ready" on uptime alone (as the real party's does), /health "ok", /live "alive", and the guide's diagnostic "Verify health endpoints are accessible" finds nothing; the fault shows only in the party's log warning and a failed decryption, and the procedure is under another section (Emergency Procedures > Threshold Cluster Recovery > 2. PRSS Re-initialization), which as written names four parties`},
			}
		},
	},

	// Boot-time storage verification (the real KMS's, PR #759: ai-docs/
	// ARCHITECTURE.md "Boot-time storage verification", core/service/src/
	// engine/public_material_verification.rs): for each key share in
	// private storage, its public material must be present and hash to the
	// digest the share records, else the node returns the error from main
	// and exits 1 before it serves 50100. The key's public material is
	// removed here, the "missing" row of the troubleshooting page's table;
	// the "does not match" rows are the Key Management scenario of public
	// material that does not match the shares (a digest mismatch) and the
	// party's unit tests (VerfKey, VerfAddress).
	//
	// What an operator has: the pod crash-looping and its log line; the
	// chart's gRPC startup and readiness probes on 50100 never pass (the
	// engine's equivalent: a client reaching 50100 finds nothing); a peer's
	// kms-health-check lists the party [FAIL]. No metric counts the failure
	// (the real node exits before it could be scraped) and no HTTP endpoint
	// shows it either: /ready is refused here only because the process dies
	// long before the 10 s of uptime after which the real /ready answers
	// "ready" whatever the node's state (observability/src/telemetry.rs) — a
	// node that failed the same way and stayed up would be reported ready.
	// The shipped alert that catches it is CrashLooping.
	{
		Name: "boot-time storage verification fails: a party whose public material is gone never becomes ready, its log names the object; restoring it from a peer recovers", Section: Startup, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			alive := e.Others(k)
			pub := fmt.Sprintf("%s/PUB-p%d", e.C.Profile.KeysDir, k)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Remove(k, fault.PublicKey)},
				Detect: stopsAtBoot(k, alive,
					// "the pod exits during startup with one of these log lines"
					probe.LogSays(k, regexp.QuoteMeta(fmt.Sprintf(`missing or unreadable public material %s for id=%s in storage "file storage with root_path '%s'": Could not load bytes from path %s/%s/%s: no such file or directory`,
						material.PublicKey, e.C.Key.KeyID, pub, pub, material.PublicKey, e.C.Key.KeyID))),
				),
				During: check.Expect{Live: alive, Down: []int{k}},
				Target: k, Runbooks: []string{"public-storage-verification"},
				Defects: []string{
					`zama-ai/kms docs/operations/advanced/troubleshooting.md, Public Storage Verification Failures at Startup: the table's line "Verification key/address in public storage does not match the private signing key" is not a line the node prints; it prints "Verification key in public storage does not match the private signing key" or "Verification address in public storage does not match the private signing key" (core/service/src/engine/public_material_verification.rs), so a search for the page's text finds neither`,
					`zama-ai/kms docs/operations/advanced/troubleshooting.md, Public Storage Verification Failures at Startup: "Restore the named object from a known-good copy, either from a backup or from another party" gives no command, and only the key's public material is the same on every party: the backup vault holds private objects only, and a node's VerfKey and VerfAddress derive from its own signing key, so for those the page leaves only "Seek the Zama team"; it also names no restart, so the crash-looping pod is left to its back-off`,
				},
			}
		},
	},

	// Backup-vault sync at boot (REAL-KMS.md item 2): the last step of the
	// real party's boot copies to the backup vault every private object it
	// lacks (update_backup_vault(false, OP_BOOT), core/service/src/engine/
	// threshold/service/kms_impl.rs); a failure is logged ("Failed to update
	// backup vault for operation boot: ..."), counted in
	// kms_backup_errors_total{operation="boot",error="backup_error"}, and
	// main returns "Failed to update backup vault when booting": exit 1. The
	// cause here is one an operator meets: the vault handed to root by a copy
	// or restore run as root (cp -a), modes kept, so the party's user cannot
	// search it and the existence check of the first object fails.
	//
	// What an operator has: the crash loop and the log line. Not the metric:
	// the real party serves /metrics from the start of its boot
	// (init_telemetry, observability/src/telemetry.rs), but the counter is
	// incremented a moment before main returns and the process exits, so no
	// scrape sees it, and the next start begins at zero (ours exits before it
	// serves at all: the same nothing). KMSBackupError cannot fire for a boot
	// failure; KMSPodCrashLooping does.
	{
		Name: "backup-vault sync fails at boot: a party whose backup vault its user cannot search never becomes ready, its log says it failed to update the backup vault; giving the vault back to the party's user and restarting recovers it", Section: Startup, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			alive := e.Others(k)
			vault := fmt.Sprintf("%s/BACKUP-p%d", e.C.Profile.BackupDir, k)
			return scenario.Plan{
				Faults: []fault.Fault{fault.BackupOwnedByRoot(k)},
				Detect: stopsAtBoot(k, alive,
					probe.LogSays(k, "ERROR kms_server: "+regexp.QuoteMeta("Failed to update backup vault for operation boot: Existence check failed: Error checking path "+vault+"/"+material.SigningKey+"/")+`[0-9a-f]+: permission denied`),
					probe.LogSays(k, "ERROR kms_server: .*Failed to update backup vault when booting"),
				),
				During: check.Expect{Live: alive, Down: []int{k}},
				Target: k, Runbooks: []string{"backup-vault-sync"},
				Defects: []string{
					`zama-ai/kms docs/operations/advanced/troubleshooting.md: a party that cannot update its backup vault stops at boot ("Failed to update backup vault when booting", core/service/src/engine/threshold/service/kms_impl.rs), but the page lists it under no start-up symptom: Service Startup Issues names CrashLoopBackOff with fixes about Helm values, resource limits and PVCs; only Storage Backend Issues, under "Backup/restore failures", says "Check file permissions and available disk space", with no command, no mention of the backup vault's path and no restart`,
					`zama-ai/kms docs/operations/advanced/metrics.md, kms_backup_errors_total: "boot" is described as "service boot / PRSS initialization", but a PRSS initialisation's backup failure is counted under operation "new_mpc_epoch" (write_epoch_data, core/service/src/vault/storage/crypto_material/threshold.rs), and the boot count cannot be seen: the party exits right after making it, so "any increase warrants investigation" never sees a boot failure; the crash loop is its only signal`,
				},
			}
		},
	},

	{
		Name: "a memory limit too small gets the party OOM-killed; raising the limit recovers it", Section: Startup, Labels: []string{fault.Resources},
		Build: func(e *scenario.Env) scenario.Plan {
			i := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.MemoryLimit(i, 8<<20)},
				Detect: []probe.Probe{probe.OOMKilled(i), probe.CrashLooping(i)},
				During: check.Expect{Live: e.Others(i)},
				Target: i, Runbooks: []string{"raise-memory-limit"},
			}
		},
	},

	{
		Name: "a storage path the party cannot write stops it; fixing permissions recovers it", Section: Startup, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			i := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.Chmod(i, fmt.Sprintf("PRIV-p%d", i), "500", fault.RestartParty())},
				Detect: []probe.Probe{
					probe.CrashLooping(i),
					probe.LogSays(i, fmt.Sprintf("storage path %s/PRIV-p%d of the private vault is not usable: cannot write to .*: permission denied", e.C.Profile.KeysDir, i)),
				},
				During: check.Expect{Live: e.Others(i)},
				Target: i, Runbooks: []string{"fix-permissions"},
			}
		},
	},
}
