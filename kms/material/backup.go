package material

import "fmt"

// SyncBackup copies to the backup vault every backed-up private object it
// lacks, as the real party's update_backup_vault(overwrite = false) does at
// boot (core/service/src/vault/storage/crypto_material/base.rs,
// engine/backup_operator.rs update_specific_backup_vault): an object the
// vault already holds is skipped without being read, so a corrupt copy
// stays there unnoticed; a missing one is read from private storage first
// (it must be readable) and then written. The first error stops it, worded
// as the real chain words it. Without a backup vault there is nothing to do.
func (v Vaults) SyncBackup() error {
	if v.Backup == nil {
		return nil
	}
	for _, typ := range BackedUp {
		ids, err := v.Private.List(typ)
		if err != nil {
			return err
		}
		for _, id := range ids {
			ok, err := v.Backup.Exists(typ, id)
			if err != nil {
				return fmt.Errorf("Existence check failed: %w", err)
			}
			if ok {
				continue
			}
			payload, err := v.Private.Get(typ, id)
			if err != nil {
				return err
			}
			if err := v.Backup.Put(typ, id, payload); err != nil {
				return fmt.Errorf("Could not store data with ID %s and type %s: Unencrypted store failed: %w", id, typ, err)
			}
		}
	}
	return nil
}
