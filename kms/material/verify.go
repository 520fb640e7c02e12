package material

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/kmschaos/kmschaos/kms/storage"
)

// Boot-time verification of public storage, as the real KMS does it before
// it serves (core/service/src/engine/public_material_verification.rs,
// material_integrity.rs; PR #759 "verify storage at boot"). Private storage
// is the reference: for each key share, its key's published object must be
// present and hash, over its raw stored bytes, to the digest the share
// records; the verification key and its address at the signing key's id
// must be the ones derived from the private signing key. Extra public
// material is ignored, nothing is written. Any failure fails the boot.
//
// The error texts are the real ones (ERR_* constants there), so the lines
// the troubleshooting page tells operators to look for
// (docs/operations/advanced/troubleshooting.md, "Public Storage
// Verification Failures at Startup") are the ones this party prints.
const (
	ErrPublicKeyDigest = "Public key digest mismatch"
	ErrVerfKey         = "Verification key in public storage does not match the private signing key"
	ErrVerfAddress     = "Verification address in public storage does not match the private signing key"
)

// dsepPubDataKey is the real DSEP_PUBDATA_KEY (core/service/src/engine/base.rs).
var dsepPubDataKey = []byte("PDAT_KEY")

// Digest is the digest of a published object's raw stored bytes: SHAKE256
// over the domain separator and the bytes, 32 bytes out, as the real
// hash_element(&DSEP_PUBDATA_KEY, bytes) (core/threshold-hashing).
func Digest(raw []byte) []byte {
	return sha3.SumSHAKE256(append(append([]byte{}, dsepPubDataKey...), raw...), 32)
}

// Verified is what a successful verification covered.
type Verified struct {
	Keysets int
	Legacy  []string // keys whose share records no digest: presence checked only
	Address string   // the verification key's address
	Storage string   // the public storage, as the real KMS names it in its messages
}

// storageInfo names a file vault as the real FileStorage::info does.
func storageInfo(v *storage.Vault) string {
	return fmt.Sprintf("file storage with root_path '%s'", v.Dir())
}

// loadPublic reads a published object's raw bytes, failing with the real
// message that names the object, the id and the storage.
func (v Vaults) loadPublic(typ, id string) ([]byte, error) {
	b, err := v.Public.Raw(typ, id)
	if err != nil {
		return nil, v.missingPublic(typ, id, err)
	}
	return b, nil
}

// missingPublic is the real failure to read a published object.
func (v Vaults) missingPublic(typ, id string, err error) error {
	return fmt.Errorf("missing or unreadable public material %s for id=%s in storage %q: %v", typ, id, storageInfo(v.Public), err)
}

// VerifyPublic checks public storage against private storage, in the real
// order: every key share's public material, then the verification key and
// address of the signing key sigID (sk, this party's, me).
func (v Vaults) VerifyPublic(me int, sigID string, sk ed25519.PrivateKey) (Verified, error) {
	out := Verified{Storage: storageInfo(v.Public)}
	ids, err := v.Private.List(FheKeyInfo)
	if err != nil {
		return out, err
	}
	for _, id := range ids {
		b, err := v.Private.Get(FheKeyInfo, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue // gone since listed: nothing to verify it against
		}
		if err != nil {
			return out, &ReadError{FheKeyInfo, id, err}
		}
		_, digests, err := DecodeKeyInfo(b)
		if err != nil {
			return out, &ReadError{FheKeyInfo, id, fmt.Errorf("%s cannot be decoded: %w", v.Private.Object(FheKeyInfo, id), err)}
		}
		raw, err := v.loadPublic(PublicKey, id)
		if err != nil {
			return out, err
		}
		want, ok := digests[PublicKey]
		if !ok {
			out.Legacy = append(out.Legacy, id)
		} else if !bytes.Equal(Digest(raw), want) {
			return out, errors.New(ErrPublicKeyDigest)
		}
		out.Keysets++
	}
	pub := sk.Public().(ed25519.PublicKey)
	out.Address = AddressText(pub)
	raw, err := v.loadPublic(VerfKey, sigID)
	if err != nil {
		return out, err
	}
	payload, err := EncodeVerfKey(me, pub)
	if err != nil {
		return out, err
	}
	expected, err := storage.Seal(VerfKey, sigID, payload)
	if err != nil {
		return out, err
	}
	// The real check compares the digests of the two: equal bytes.
	if !bytes.Equal(raw, expected) {
		return out, fmt.Errorf("%s: expected the key for address %s: %s", ErrVerfKey, out.Address, ErrPublicKeyDigest)
	}
	text, err := v.Public.Get(VerfAddress, sigID)
	if err != nil {
		return out, v.missingPublic(VerfAddress, sigID, err)
	}
	stored, err := parseAddress(string(text))
	if err != nil {
		return out, fmt.Errorf("%s: %q in public storage is not a valid address: %v", ErrVerfAddress, string(text), err)
	}
	if stored != out.Address {
		return out, fmt.Errorf("%s: public storage holds %s, expected %s", ErrVerfAddress, stored, out.Address)
	}
	return out, nil
}

// parseAddress reads an address text: 0x and 64 hex digits, either case
// (the real check parses rather than compares strings, so casing does
// not matter).
func parseAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return "", errors.New("missing 0x prefix")
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return "", err
	}
	if len(b) != ed25519.PublicKeySize {
		return "", fmt.Errorf("%d bytes, want %d", len(b), ed25519.PublicKeySize)
	}
	return "0x" + hex.EncodeToString(b), nil
}
