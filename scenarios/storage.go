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
		Name: "a missing key share is named by the health check; the guide's key recovery breaks access as written, a safe one restores it", Section: StorageSec, Labels: []string{fault.Storage, fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.Remove(k, fault.KeyShare)},
				Detect: []probe.Probe{
					probe.HealthCheckSays(k, fmt.Sprintf(`\[FAIL\] PRIV-p%d/%s/%s: missing`, k, material.FheKeyInfo, e.C.Key.KeyID)),
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
		Name: "a key file the party cannot read shows as [FAIL] permission denied; fixing permissions recovers it", Section: StorageSec, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			rel := fmt.Sprintf("PRIV-p%d/%s/%s", k, material.FheKeyInfo, e.C.Key.KeyID)
			return scenario.Plan{
				Faults: []fault.Fault{fault.Chmod(k, rel, "000")},
				Detect: []probe.Probe{probe.HealthCheckSays(k, `\[FAIL\] private vault .*permission denied`)},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"fix-permissions"},
			}
		},
	},

	{
		Name: "a volume above 85 percent is reported as a warning", Section: StorageSec, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.DiskFull(k, 90)},
				Detect: []probe.Probe{probe.HealthCheckSays(k, `\[WARN\] private vault .*above 85%`), probe.HealthStatus(k, "Healthy")},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"disk-free"},
			}
		},
	},

	{
		Name: "a full disk fails writes with ENOSPC, counted, with no torn files; freeing space recovers", Section: StorageSec, Labels: []string{fault.Storage},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.DiskFull(k, 100)},
				Detect: []probe.Probe{
					probe.HealthCheckSays(k, `\[FAIL\] private vault .*no space left on device`),
					probe.Rising([]int{k}, "kms_storage_errors_total", map[string]string{"vault": "private", "kind": "nospace"}),
					noTempFiles(k),
				},
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
		Name: "a lost key share with a corrupt backup: the health check warns of the backup, the guide's restore copies corrupt material, the party refuses it and nothing wrong is decrypted", Section: StorageSec, Labels: []string{fault.Storage, fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			share := fmt.Sprintf("%s/%s", material.FheKeyInfo, e.C.Key.KeyID)
			return scenario.Plan{
				// The backup goes bad first, unnoticed; then the share is lost.
				Faults: []fault.Fault{fault.FlipBackup(k, fault.BackupKeyShare), fault.Remove(k, fault.KeyShare)},
				Detect: []probe.Probe{
					// "Test storage connectivity using kms-health-check tool",
					// "Validate file integrity and accessibility".
					probe.HealthCheckSays(k, fmt.Sprintf(`\[FAIL\] PRIV-p%d/%s: missing`, k, share)),
					probe.HealthCheckSays(k, fmt.Sprintf(`\[WARN\] BACKUP-p%d/%s: backup\s+backup copy unusable: `, k, share)),
				},
				During: check.Expect{Live: e.Others()},
				Target: k, Runbooks: []string{"key-recovery-from-backup"},
				// The restore is the step after which the party's share is
				// not the share it was (the corrupt copy is in its vault),
				// and the party, restarted on it, never decrypts again.
				ExpectDefect: scenario.Defect{Step: "key-recovery-from-backup/Restore from backup",
					Reason: fmt.Sprintf(`lost key material at step "Restore from backup": .*PRIV-p%d/%s.*\(then step "The party starts with the restored key" failed: .*decrypts right through parties \[%d\]`, k, regexp.QuoteMeta(share), k)},
				Defects:        []string{fmt.Sprintf("the guide gives no procedure for a backup that is itself unusable: Key Material Recovery copies /backup/keys without validating it (though kms-health-check already warned that BACKUP-p%d's copy of the key share is unusable), the party then refuses the restored share, and nothing in the guide restores a key share without its backup (the harness restored it from its offline copy)", k)},
				RecoverByReset: true,
			}
		},
	},

	{
		Name: "a lost key share with a backup vault the party cannot read: the guide's restore runs as root and works; the backup stays unreadable until its permissions are fixed too", Section: StorageSec, Labels: []string{fault.Storage, fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			share := fmt.Sprintf("%s/%s", material.FheKeyInfo, e.C.Key.KeyID)
			return scenario.Plan{
				Faults: []fault.Fault{fault.ChmodBackup(k, "000"), fault.Remove(k, fault.KeyShare)},
				Detect: []probe.Probe{
					probe.HealthCheckSays(k, fmt.Sprintf(`\[FAIL\] PRIV-p%d/%s: missing`, k, share)),
					probe.HealthCheckSays(k, `\[FAIL\] backup vault .*permission denied`),
					probe.LogSays(k, fmt.Sprintf(`WARN kms_server: Backup vault \S+/BACKUP-p%d is not usable: .*permission denied`, k)),
				},
				During: check.Expect{Live: e.Others()},
				Target: k,
				// The restore, then the guide's "Fix file permissions and
				// ownership" applied to the backup volume as well.
				Runbooks:  []string{"key-recovery", "fix-permissions"},
				Vars:      map[string]string{"keys": cluster.VolumePath(k, "backup")},
				Recovered: []probe.Probe{probe.HealthCheckSays(k, `\[OK\] backup vault \S+: read/write OK`)},
				Defects:   []string{fmt.Sprintf("Key Material Recovery does not notice a backup vault the party cannot read: it runs as root (its chown -R kms:kms needs root), restores from BACKUP-p%d regardless, and fixes the permissions of /current/keys only; the backup stays unreadable to the party (kms-health-check keeps failing its backup vault) until Storage Backend Issues > Resolution Steps > 1. Fix file permissions and ownership is applied to the backup too, which the guide does not say", k)},
			}
		},
	},
}
