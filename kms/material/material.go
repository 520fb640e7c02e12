// Package material knows the objects a party keeps in its vaults and how
// they are encoded: threshold public keys, key shares, signing keys and
// PRSS epoch data, in the real KMS's storage layout.
//
//	PUB-p<i>/PublicKey/<key_id>      cluster key and verification keys
//	PUB-p<i>/VerfKey/<sig_id>        this party's signature verification key
//	PUB-p<i>/VerfAddress/<sig_id>    its address text, 0x and the key in hex
//	PRIV-p<i>/FheKeyInfo/<key_id>    this party's key share
//	PRIV-p<i>/SigningKey/<sig_id>    this party's signing key
//	PRIV-p<i>/EpochData/<epoch_id>   this party's PRSS keys for one epoch
//	BACKUP-p<i>/...                  a copy of the private objects but EpochData
package material

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/cloudflare/circl/group"

	"github.com/kmschaos/kmschaos/kms/prss"
	"github.com/kmschaos/kmschaos/kms/storage"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// Data types, the directory names of the storage layout.
const (
	PublicKey = "PublicKey"
	VerfKey   = "VerfKey"
	// VerfAddress is the address text of the verification key, what the
	// real KMS stores beside it (PubDataType::VerfAddress, an ed25519 key's
	// address_text: 0x and its bytes in hex, core/service/src/cryptography/
	// signing/mod.rs).
	VerfAddress = "VerfAddress"
	FheKeyInfo  = "FheKeyInfo"
	SigningKey  = "SigningKey"
	EpochData   = "EpochData"
)

// BackedUp lists the private data types copied to the backup vault, in the
// order the real party syncs them (PrivDataType's, core/grpc/src/rpc_types.rs).
var BackedUp = []string{SigningKey, FheKeyInfo}

// DefaultEpochID is the PRSS epoch kms-init creates, the only one it
// knows: the real DEFAULT_EPOCH_ID (core/service/src/consts.rs), 8, zeros, 1.
const DefaultEpochID = "0800000000000000000000000000000000000000000000000000000000000001"

// DefaultContextID names the one MPC context of the simulated cluster:
// the real DEFAULT_MPC_CONTEXT (core/service/src/consts.rs), 7, zeros, 1.
const DefaultContextID = "0700000000000000000000000000000000000000000000000000000000000001"

// Vaults are the vaults of one party.
type Vaults struct {
	Public, Private, Backup *storage.Vault
}

// ForParty returns the standard vaults of party i under one root each.
func ForParty(pubRoot, privRoot, backupRoot string, i int) Vaults {
	v := Vaults{
		Public:  &storage.Vault{Name: "public", Path: pubRoot, Prefix: fmt.Sprintf("PUB-p%d", i)},
		Private: &storage.Vault{Name: "private", Path: privRoot, Prefix: fmt.Sprintf("PRIV-p%d", i)},
	}
	if backupRoot != "" {
		v.Backup = &storage.Vault{Name: "backup", Path: backupRoot, Prefix: fmt.Sprintf("BACKUP-p%d", i)}
	}
	return v
}

// All lists the configured vaults.
func (v Vaults) All() []*storage.Vault {
	out := []*storage.Vault{v.Public, v.Private}
	if v.Backup != nil {
		out = append(out, v.Backup)
	}
	return out
}

type publicKeyJSON struct {
	KeyID            string   `json:"key_id"`
	N                int      `json:"n"`
	T                int      `json:"t"`
	PublicKey        string   `json:"public_key"`
	VerificationKeys []string `json:"verification_keys"`
}

type keyShareJSON struct {
	KeyID string `json:"key_id"`
	Party int    `json:"party"`
	Share string `json:"share"`
	// KeyDigests are the digests of the published objects of the key, by
	// data type, over their raw stored bytes: the real KMS's private
	// KeyGenMetadata key_digest_map, which boot-time verification checks
	// public storage against. Material without them is legacy: checked for
	// presence only.
	KeyDigests map[string]string `json:"key_digest_map,omitempty"`
}

type signingKeyJSON struct {
	Party int    `json:"party"`
	Seed  string `json:"seed"`
}

type verfKeyJSON struct {
	Party     int    `json:"party"`
	PublicKey string `json:"public_key"`
}

type epochJSON struct {
	EpochID   string     `json:"epoch_id"`
	N         int        `json:"n"`
	T         int        `json:"t"`
	Party     int        `json:"party"`
	CreatedAt time.Time  `json:"created_at"`
	Keys      []epochKey `json:"keys"`
}

type epochKey struct {
	Set uint64 `json:"set"`
	Key string `json:"key"`
}

// Epoch is a party's PRSS keys with the time they were agreed.
type Epoch struct {
	Keys      *prss.Keys
	CreatedAt time.Time
}

func encElem(e group.Element) string {
	b, _ := e.MarshalBinaryCompress()
	return hex.EncodeToString(b)
}

func decElem(s string) (group.Element, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	e := tss.G.NewElement()
	return e, e.UnmarshalBinary(b)
}

// EncodePublicKey renders public material.
func EncodePublicKey(pk *tss.PublicKey) ([]byte, error) {
	j := publicKeyJSON{KeyID: pk.KeyID, N: pk.N, T: pk.T, PublicKey: encElem(pk.Y)}
	for _, v := range pk.VerificationKeys {
		j.VerificationKeys = append(j.VerificationKeys, encElem(v))
	}
	return json.Marshal(j)
}

// DecodePublicKey parses public material.
func DecodePublicKey(b []byte) (*tss.PublicKey, error) {
	var j publicKeyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	y, err := decElem(j.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pk := &tss.PublicKey{KeyID: j.KeyID, N: j.N, T: j.T, Y: y}
	for i, s := range j.VerificationKeys {
		v, err := decElem(s)
		if err != nil {
			return nil, fmt.Errorf("verification key %d: %w", i+1, err)
		}
		pk.VerificationKeys = append(pk.VerificationKeys, v)
	}
	return pk, pk.CheckConsistent()
}

// KeyDigests are the digests of a key's published objects, by data type.
type KeyDigests map[string][]byte

// EncodeKeyShare renders a key share without digests (legacy material).
func EncodeKeyShare(ks *tss.KeyShare) ([]byte, error) { return EncodeKeyInfo(ks, nil) }

// EncodeKeyInfo renders a key share with the digests of its key's
// published objects.
func EncodeKeyInfo(ks *tss.KeyShare, d KeyDigests) ([]byte, error) {
	b, err := ks.X.MarshalBinary()
	if err != nil {
		return nil, err
	}
	j := keyShareJSON{KeyID: ks.KeyID, Party: ks.Party, Share: hex.EncodeToString(b)}
	if len(d) > 0 {
		j.KeyDigests = map[string]string{}
		for typ, sum := range d {
			j.KeyDigests[typ] = hex.EncodeToString(sum)
		}
	}
	return json.Marshal(j)
}

// DecodeKeyShare parses a key share.
func DecodeKeyShare(b []byte) (*tss.KeyShare, error) {
	ks, _, err := DecodeKeyInfo(b)
	return ks, err
}

// DecodeKeyInfo parses a key share and the digests it records (nil for
// legacy material).
func DecodeKeyInfo(b []byte) (*tss.KeyShare, KeyDigests, error) {
	var j keyShareJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, nil, err
	}
	raw, err := hex.DecodeString(j.Share)
	if err != nil {
		return nil, nil, fmt.Errorf("share: %w", err)
	}
	x := tss.G.NewScalar()
	if err := x.UnmarshalBinary(raw); err != nil {
		return nil, nil, fmt.Errorf("share: %w", err)
	}
	var d KeyDigests
	if len(j.KeyDigests) > 0 {
		d = KeyDigests{}
		for typ, s := range j.KeyDigests {
			sum, err := hex.DecodeString(s)
			if err != nil {
				return nil, nil, fmt.Errorf("digest of %s: %w", typ, err)
			}
			d[typ] = sum
		}
	}
	return &tss.KeyShare{KeyID: j.KeyID, Party: j.Party, X: x}, d, nil
}

// SigningKeyID names a signing key by the digest of its public half.
func SigningKeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:])
}

// EncodeSigningKey renders a signing key.
func EncodeSigningKey(party int, k ed25519.PrivateKey) ([]byte, error) {
	return json.Marshal(signingKeyJSON{Party: party, Seed: hex.EncodeToString(k.Seed())})
}

// DecodeSigningKey parses a signing key.
func DecodeSigningKey(b []byte) (ed25519.PrivateKey, error) {
	var j signingKeyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(j.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key: bad seed")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// EncodeVerfKey renders a signature verification key.
func EncodeVerfKey(party int, pub ed25519.PublicKey) ([]byte, error) {
	return json.Marshal(verfKeyJSON{Party: party, PublicKey: hex.EncodeToString(pub)})
}

// AddressText is the address of a verification key as stored under
// VerfAddress: 0x and the key's bytes in hex, as the real KMS writes an
// ed25519 key's (UnifiedPublicSigKey::address_text).
func AddressText(pub ed25519.PublicKey) string { return "0x" + hex.EncodeToString(pub) }

// DecodeVerfKey parses a signature verification key.
func DecodeVerfKey(b []byte) (ed25519.PublicKey, error) {
	var j verfKeyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	pub, err := hex.DecodeString(j.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("verification key: bad length")
	}
	return ed25519.PublicKey(pub), nil
}

// EncodeEpoch renders a party's PRSS keys.
func EncodeEpoch(e *Epoch) ([]byte, error) {
	j := epochJSON{EpochID: e.Keys.EpochID, N: e.Keys.N, T: e.Keys.T, Party: e.Keys.Party, CreatedAt: e.CreatedAt.UTC()}
	for set, k := range e.Keys.Export() {
		j.Keys = append(j.Keys, epochKey{Set: uint64(set), Key: hex.EncodeToString(k[:])})
	}
	sort.Slice(j.Keys, func(a, b int) bool { return j.Keys[a].Set < j.Keys[b].Set })
	return json.Marshal(j)
}

// DecodeEpoch parses a party's PRSS keys.
func DecodeEpoch(b []byte) (*Epoch, error) {
	var j epochJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	keys := make(map[prss.Set][prss.KeyLen]byte, len(j.Keys))
	for _, k := range j.Keys {
		raw, err := hex.DecodeString(k.Key)
		if err != nil || len(raw) != prss.KeyLen {
			return nil, fmt.Errorf("PRSS key of set %v: bad encoding", prss.Set(k.Set))
		}
		var a [prss.KeyLen]byte
		copy(a[:], raw)
		keys[prss.Set(k.Set)] = a
	}
	pk, err := prss.NewKeys(j.EpochID, j.N, j.T, j.Party, keys)
	if err != nil {
		return nil, err
	}
	return &Epoch{Keys: pk, CreatedAt: j.CreatedAt}, nil
}
