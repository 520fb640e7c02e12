package material

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/kmschaos/kmschaos/kms/storage"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// ReadError is the start-up error for an object that exists but cannot be
// used, worded like the real KMS: "reading failed for EpochData with id ...".
type ReadError struct {
	Type, ID string
	Err      error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("reading failed for %s with id %s: %v", e.Type, e.ID, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

func read[T any](v *storage.Vault, typ, id string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := v.Get(typ, id)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return zero, err
		}
		return zero, &ReadError{typ, id, err}
	}
	out, err := decode(b)
	if err != nil {
		return zero, &ReadError{typ, id, fmt.Errorf("%s cannot be decoded: %w", v.Object(typ, id), err)}
	}
	return out, nil
}

// PublicKey reads public material.
func (v Vaults) PublicKey(id string) (*tss.PublicKey, error) {
	return read(v.Public, PublicKey, id, DecodePublicKey)
}

// KeyShare reads this party's key share.
func (v Vaults) KeyShare(id string) (*tss.KeyShare, error) {
	return read(v.Private, FheKeyInfo, id, DecodeKeyShare)
}

// Epoch reads this party's PRSS keys of one epoch.
func (v Vaults) Epoch(id string) (*Epoch, error) {
	return read(v.Private, EpochData, id, DecodeEpoch)
}

// SigningKey reads the party's only signing key.
func (v Vaults) SigningKey() (string, ed25519.PrivateKey, error) {
	ids, err := v.Private.List(SigningKey)
	if err != nil {
		return "", nil, err
	}
	if len(ids) != 1 {
		return "", nil, fmt.Errorf("want exactly one signing key in %s/%s, found %d", v.Private.Prefix, SigningKey, len(ids))
	}
	k, err := read(v.Private, SigningKey, ids[0], DecodeSigningKey)
	return ids[0], k, err
}

// PutEpoch stores PRSS keys.
func (v Vaults) PutEpoch(e *Epoch) error {
	b, err := EncodeEpoch(e)
	if err != nil {
		return err
	}
	return v.Private.Put(EpochData, e.Keys.EpochID, b)
}
