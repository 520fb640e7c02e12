package client

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
	"github.com/kmschaos/kmschaos/kms/tss"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// LoadPublicKey reads the public material of keyID (or of the only key when
// keyID is empty) from dir: a PUB-p<i> directory, or a storage root that
// holds PUB-p<i> directories.
func LoadPublicKey(dir, keyID string) (*tss.PublicKey, error) {
	vault, err := publicVault(dir)
	if err != nil {
		return nil, err
	}
	if keyID == "" {
		ids, err := vault.List(material.PublicKey)
		if err != nil {
			return nil, err
		}
		switch len(ids) {
		case 0:
			return nil, fmt.Errorf("no public key in %s", vault.Dir())
		case 1:
			keyID = ids[0]
		default:
			return nil, fmt.Errorf("%d public keys in %s: choose one with --key-id (%v)", len(ids), vault.Dir(), ids)
		}
	}
	return material.Vaults{Public: vault}.PublicKey(keyID)
}

func publicVault(dir string) (*storage.Vault, error) {
	if _, err := os.Stat(filepath.Join(dir, material.PublicKey)); err == nil {
		return &storage.Vault{Name: "public", Path: filepath.Dir(filepath.Clean(dir)), Prefix: filepath.Base(filepath.Clean(dir))}, nil
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "PUB-p*"))
	sort.Strings(matches)
	if len(matches) == 0 {
		return nil, fmt.Errorf("%s holds no public key material (expected %s/ or PUB-p<i>/)", dir, material.PublicKey)
	}
	return &storage.Vault{Name: "public", Path: dir, Prefix: filepath.Base(matches[0])}, nil
}

// VerifySignature checks a result's signature with a party's verification key.
func VerifySignature(res *kmsv1.PublicDecryptionResponse, pub ed25519.PublicKey) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(res.GetPayload())
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, b, res.GetExternalSignature()) {
		return errors.New("the result's signature does not verify with the coordinator's key")
	}
	return nil
}
