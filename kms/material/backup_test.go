package material_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/internal/asuser"
	"github.com/kmschaos/kmschaos/kms/material"
)

// The boot sync copies what the backup vault lacks, and leaves what it has
// alone without reading it: a corrupt copy stays corrupt.
func TestSyncBackupCopiesOnlyWhatIsMissing(t *testing.T) {
	d := deal(t)
	share := d.file("BACKUP", 1, material.FheKeyInfo, d.keyID)
	if err := os.Remove(share); err != nil {
		t.Fatal(err)
	}
	sig := d.file("BACKUP", 1, material.SigningKey, d.sigID)
	corrupt := []byte("not an object")
	write(t, sig, corrupt)
	if err := d.v.SyncBackup(); err != nil {
		t.Fatalf("sync: %v", err)
	}
	orig, err := d.v.Private.Get(material.FheKeyInfo, d.keyID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.v.Backup.Get(material.FheKeyInfo, d.keyID); err != nil || !bytes.Equal(got, orig) {
		t.Errorf("the missing key share was not copied: %v", err)
	}
	if got, _ := os.ReadFile(sig); !bytes.Equal(got, corrupt) {
		t.Errorf("the existing (corrupt) signing key copy was rewritten: %q", got)
	}
}

// A private object the vault lacks must be readable to be copied.
func TestSyncBackupReadsWhatItCopies(t *testing.T) {
	d := deal(t)
	_ = os.Remove(d.file("BACKUP", 1, material.FheKeyInfo, d.keyID))
	write(t, d.file("PRIV", 1, material.FheKeyInfo, d.keyID), []byte("garbage"))
	err := d.v.SyncBackup()
	if err == nil || !strings.Contains(err.Error(), "PRIV-p1/FheKeyInfo/"+d.keyID+" is corrupt") {
		t.Fatalf("sync of an unreadable share: %v", err)
	}
}

// What an operator meets: a backup vault the party's user may not search
// (owned by root, 0700) fails at the first existence check; one it may read
// but not write boots while it holds everything, and fails when it must
// take a copy.
func TestSyncBackupPermissionFailures(t *testing.T) {
	d := deal(t)
	uid := 10001
	_ = filepath.Walk(d.dir, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, uid, uid) })
	_ = os.Chmod(filepath.Dir(d.dir), 0o755)
	backup := d.v.Backup.Dir()
	t.Cleanup(func() { _ = os.Chmod(backup, 0o700); _ = os.Chmod(filepath.Join(backup, material.FheKeyInfo), 0o700) })

	_ = os.Chmod(backup, 0o000)
	asuser.Run(uid, func() {
		err := d.v.SyncBackup()
		want := "Existence check failed: Error checking path " + d.v.Backup.File(material.SigningKey, d.sigID) + ": permission denied"
		if err == nil || err.Error() != want {
			t.Errorf("unsearchable backup vault: %v, want %q", err, want)
		}
	})

	_ = os.Chmod(backup, 0o500)
	_ = os.Chmod(filepath.Join(backup, material.FheKeyInfo), 0o500)
	asuser.Run(uid, func() {
		if err := d.v.SyncBackup(); err != nil {
			t.Errorf("read-only backup vault holding everything: %v", err)
		}
	})
	_ = os.Chmod(filepath.Join(backup, material.FheKeyInfo), 0o700)
	_ = os.Remove(d.file("BACKUP", 1, material.FheKeyInfo, d.keyID))
	_ = os.Chmod(filepath.Join(backup, material.FheKeyInfo), 0o500)
	asuser.Run(uid, func() {
		err := d.v.SyncBackup()
		want := "Could not store data with ID " + d.keyID + " and type FheKeyInfo: Unencrypted store failed: "
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "permission denied") {
			t.Errorf("read-only backup vault lacking the share: %v, want %q...permission denied", err, want)
		}
	})
}

// No backup vault configured: nothing to sync.
func TestSyncBackupWithoutVault(t *testing.T) {
	d := deal(t)
	d.v.Backup = nil
	if err := d.v.SyncBackup(); err != nil {
		t.Fatal(err)
	}
}
