package scenarios

import (
	"fmt"
	"regexp"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/material"
)

// Storage Backend Issues: key material not found, access errors, backups.

var storageIssues = []scenario.Scenario{
	{
		Name: "a missing key share: the health check lists no key on the party; the guide's key recovery breaks access as written, a safe one restores it", Section: StorageSec, Labels: []string{fault.Storage, fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.Remove(k, fault.KeyShare)},
				Detect: []probe.Probe{
					// The real tool lists the ids the party finds in private
					// storage, and names no object.
					noKeyListed(k),
					probe.LogSays(k, "WARN kms_server: No key share found in storage"),
				},
				// The party still coordinates, with its peers' shares.
				During:   check.Expect{Live: e.Others()},
				Target:   k,
				Runbooks: []string{"key-recovery-as-written", "key-recovery"},
				// Directories at 0600 lose their search bit.
				ExpectDefect: scenario.Defect{Step: "key-recovery-as-written/chmod -R 600 as written", Reason: `party \d+: .*permission denied`},
			}
		},
	},

	{
		Name: "a key file the party cannot read: the guide's ls -la shows it, the health check does not; fixing permissions recovers it", Section: StorageSec, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			rel := fmt.Sprintf("PRIV-p%d/%s/%s", k, material.FheKeyInfo, e.C.Key.KeyID)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Chmod(k, rel, "000")},
				// "Check file permissions and ownership" (ls -la keys/*/):
				// the party still holds the share it loaded, and the real
				// health check lists the id whatever the file's mode.
				Detect: []probe.Probe{
					probe.KeeperMatches(fmt.Sprintf("kms-admin ls -R of party %d's keys shows the key share at mode 0000", k), 0,
						`(?m)^---------- .*/`+regexp.QuoteMeta(rel)+`$`, "kms-admin", "ls", "-R", cluster.VolumePath(k, "keys")),
					probe.HealthCheckSays(k, `\[OK\] FHE Keys: 1\n`),
				},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"fix-permissions"},
				Defects: []string{"Storage Backend Issues > Diagnostic Steps > 2. Storage Connectivity: \"Test storage connectivity using kms-health-check tool\" cannot work: the real kms-health-check reads no storage (tools/kms-health-check/src/checks.rs lists the key ids the party reports, output.rs prints [OK] for each); a key share the party cannot read still shows [OK] FHE Keys: 1. Only the guide's other step, ls -la keys/*/, shows it"},
			}
		},
	},

	{
		Name: "a volume above 85 percent: the guide's df check finds it, the health check stays Optimal", Section: StorageSec, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.DiskFull(k, 90)},
				// The guide's custom-health-check.sh warns at df above 85 %;
				// the real health check knows nothing of disks.
				Detect: []probe.Probe{dfAbove(k, `(8[6-9]|9\d|100)`), probe.HealthStatus(k, "Optimal")},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"disk-free"},
			}
		},
	},

	{
		Name: "a full disk: df shows it full, no torn files are left; freeing space recovers", Section: StorageSec, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.DiskFull(k, 100)},
				Detect: []probe.Probe{dfAbove(k, `100`), noTempFiles(k)},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"disk-free"},
			}
		},
	},

	// Issue 23 item 8: the real KMS writes each object through
	// ".<name>.partial.<pid>.<seq>", fsynced, then renamed
	// (safe_write_element_versioned, core/service/src/util/file_handling.rs:209);
	// killed before the rename it leaves that file, and only its next start
	// removes it (sweep_stale_partials, file_handling.rs:90, from
	// FileStorage::new, core/service/src/vault/storage/file.rs:60; PR #708).
	// The harness writes the file the killed write leaves (fault.KilledMidWrite).
	{
		Name: "a party killed mid-write leaves a key-sized .partial file, holding disk while it is down; its start sweeps it", Section: StorageSec, Labels: []string{fault.Storage, fault.Process},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.KilledMidWrite(k)},
				Detect: []probe.Probe{probe.Killed(k), keySizedPartial(k, e.C.Key.KeyID)},
				During: check.Expect{Live: e.Others(k), Down: []int{k}},
				Target: k, Runbooks: []string{"crashed-write"},
				// What the real sweep logs, at INFO (file_handling.rs:123).
				Recovered: []probe.Probe{probe.LogSays(k, fmt.Sprintf(`INFO kms_server: removed stale partial file \S+/PRIV-p%d/%s/\.[0-9a-f]{64}\.partial\.1\.0 orphaned by pid 1`, k, material.FheKeyInfo))},
				Defects:   []string{"nothing in the guide names the .<name>.partial.<pid>.<seq> files a write killed before its rename leaves in the key storage, nor says that only the party's next start removes them (kms-health-check does not report them): an operator who finds one while the party is down has no word on whether to delete it"},
			}
		},
	},

	// "Backup/restore failures" (Symptoms): the backup vault itself is bad
	// when it is needed. The guide's Key Material Recovery copies
	// /backup/keys into /current/keys ("cp -r /backup/keys/* /current/keys/")
	// without checking what it copies, and nothing in the guide says what to
	// do when the backup is not usable.
	{
		Name: "a lost key share with a corrupt backup: nothing warns of the backup, the guide's restore copies corrupt material, the party refuses it and nothing wrong is decrypted", Section: StorageSec, Labels: []string{fault.Storage, fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			share := fmt.Sprintf("%s/%s", material.FheKeyInfo, e.C.Key.KeyID)
			return scenario.Plan{
				// The backup goes bad first, unnoticed; then the share is lost.
				Faults: []fault.Fault{fault.FlipBackup(k, fault.BackupKeyShare), fault.Remove(k, fault.KeyShare)},
				Detect: []probe.Probe{
					// The lost share shows; the corrupt backup does not: the
					// real KMS does not re-verify backup entries and its
					// health check reads no storage.
					noKeyListed(k),
				},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"key-recovery-from-backup"},
				// The restore is the step after which the party's share is
				// not the share it was (the corrupt copy is in its vault),
				// and the party, restarted on it, never decrypts again.
				ExpectDefect: scenario.Defect{Step: "key-recovery-from-backup/Restore from backup",
					Reason: fmt.Sprintf(`lost key material at step "Restore from backup": .*PRIV-p%d/%s.*\(then step "The party starts with the restored key" failed: .*decrypts right through parties \[%d\]`, k, regexp.QuoteMeta(share), k)},
				Defects:        []string{fmt.Sprintf("the guide gives no procedure for a backup that is itself unusable: Key Material Recovery copies /backup/keys without validating it (nothing an operator has checks the backup: the real KMS does not re-verify backup entries and kms-health-check reads no storage, so BACKUP-p%d's corrupt copy is found only when restored), the party then refuses the restored share, and nothing in the guide restores a key share without its backup (the harness restored it from its offline copy)", k)},
				RecoverByReset: true,
			}
		},
	},

	// A read-only backup vault (a volume remounted read-only) when a share
	// is lost: the restart after the loss runs the party's backup-vault
	// sync, which only checks that each object is there (the real
	// update_backup_vault skips what the vault holds without reading or
	// writing it, core/service/src/engine/backup_operator.rs), so the party
	// boots; nothing it shows says the vault is bad, only the guide's ls -la.
	// The unsearchable vault, which stops the boot, is the start-up
	// scenario "backup-vault sync fails at boot".
	{
		Name: "a lost key share with a backup vault the party cannot write: it still boots, its backup-vault sync finding every copy there; the guide's restore runs as root and works; the backup stays read-only until its permissions are fixed too", Section: StorageSec, Labels: []string{fault.Storage, fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.ChmodBackup(k, "500"), fault.Remove(k, fault.KeyShare)},
				Detect: []probe.Probe{
					noKeyListed(k),
					probe.LogSays(k, `INFO kms_server: Successfully updated backup vault when booting`),
					// The guide's "Check file permissions and ownership":
					// nothing the party or its health check shows says the
					// backup cannot be written until something is backed up.
					probe.KeeperMatches(fmt.Sprintf("kms-admin ls of party %d's backup volume shows BACKUP-p%d read-only (dr-x------)", k, k), 0,
						fmt.Sprintf(`(?m)^dr-x------ .*/BACKUP-p%d$`, k), "kms-admin", "ls", cluster.VolumePath(k, "backup")),
				},
				During: check.Expect{Live: e.Others()},
				Target: k,
				// The restore, then the guide's "Fix file permissions and
				// ownership" applied to the backup volume as well.
				Runbooks:  []string{"key-recovery", "fix-permissions"},
				Vars:      map[string]string{"keys": cluster.VolumePath(k, "backup")},
				Recovered: []probe.Probe{backupWritable(k, e.C.Profile.UID())},
				Defects:   []string{fmt.Sprintf("Key Material Recovery does not notice a backup vault the party cannot write: it runs as root (its chown -R kms:kms needs root), restores from BACKUP-p%d regardless, and fixes the permissions of /current/keys only; the backup stays read-only to the party (nothing it or kms-health-check shows says so, and the next object the party must back up cannot be written) until Storage Backend Issues > Resolution Steps > 1. Fix file permissions and ownership is applied to the backup too, which the guide does not say", k)},
			}
		},
	},
}
