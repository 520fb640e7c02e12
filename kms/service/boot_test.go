package service

import (
	"bytes"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/keygen"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/metrics"
)

// boot starts party 1 of a fresh 4-party key in dir after prepare has
// changed its storage, and returns the service (nil if it refused), its
// log, its metrics and the error.
func boot(t *testing.T, prepare func(dir, sigID string)) (*Service, string, *metrics.Metrics, error) {
	t.Helper()
	dir := t.TempDir()
	res, err := keygen.Generate(rand.NewChaCha8([32]byte{'b', 'k'}), keygen.Options{N: 4, T: 1, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	sigID, _, err := material.ForParty(dir, dir, dir, 1).SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	prepare(dir, sigID)
	cfg, err := config.Load(res.Configs[0], []string{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m := metrics.New(1)
	s, err := New(Options{Config: cfg, Log: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: m})
	if s != nil {
		t.Cleanup(s.Close)
	}
	return s, logs.String(), m, err
}

// Boot copies to the backup vault what it lacks, as the real party does.
func TestBootSyncsTheBackupVault(t *testing.T) {
	var backupCopy string
	s, logs, m, err := boot(t, func(dir, sigID string) {
		backupCopy = filepath.Join(dir, "BACKUP-p1", material.SigningKey, sigID)
		if err := os.Remove(backupCopy); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil || s == nil {
		t.Fatalf("boot: %v\n%s", err, logs)
	}
	if _, err := os.Stat(backupCopy); err != nil {
		t.Errorf("the signing key was not backed up at boot: %v", err)
	}
	if !strings.Contains(logs, "Successfully updated backup vault when booting") {
		t.Errorf("log lacks the sync's success:\n%s", logs)
	}
	if n := testutil.CollectAndCount(m.BackupErrors); n != 0 {
		t.Errorf("kms_backup_errors_total has %d series after a good boot, want none", n)
	}
}

// A backup vault that cannot be updated stops the party with the real
// message and counts kms_backup_errors_total{operation="boot"}.
func TestBootStopsWhenTheBackupVaultCannotBeUpdated(t *testing.T) {
	var path string
	s, logs, m, err := boot(t, func(dir, sigID string) {
		// BACKUP-p1/SigningKey is a file: the existence check of the copy fails.
		typ := filepath.Join(dir, "BACKUP-p1", material.SigningKey)
		path = filepath.Join(typ, sigID)
		if err := os.RemoveAll(typ); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(typ, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if s != nil || err == nil || err.Error() != "Failed to update backup vault when booting" {
		t.Fatalf("boot with a broken backup vault: %v", err)
	}
	want := "Failed to update backup vault for operation boot: Existence check failed: Error checking path " + path + ": not a directory"
	if !strings.Contains(logs, "level=ERROR msg=\""+want+"\"") {
		t.Errorf("log lacks the ERROR line %q:\n%s", want, logs)
	}
	if got := testutil.ToFloat64(m.BackupErrors.WithLabelValues("boot", "backup_error")); got != 1 {
		t.Errorf(`kms_backup_errors_total{operation="boot",error="backup_error"} = %v, want 1`, got)
	}
}
