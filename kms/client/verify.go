package client

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
	"github.com/kmschaos/kmschaos/kms/tss"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// ErrUnverified marks a result that failed verification: a wrong or forged
// answer, never a transient failure to retry.
var ErrUnverified = errors.New("result failed verification")

// PublicMaterial is what a client holds of a cluster, obtained out of band
// (from the dealer, not from the party it is verifying): the threshold key
// and every party's result-signing verification key.
type PublicMaterial struct {
	Key      *tss.PublicKey            // optional: checks the number of contributing parties
	VerfKeys map[int]ed25519.PublicKey // party id -> its VerfKey
}

// DialVerified is Dial for a client that holds the cluster's public
// material: every decryption result is verified before it is returned, and
// one that does not verify is an error wrapping ErrUnverified.
func DialVerified(endpoint string, pub *PublicMaterial) (*Client, error) {
	if pub == nil || len(pub.VerfKeys) == 0 {
		return nil, errors.New("public material without verification keys: nothing to verify with")
	}
	c, err := Dial(endpoint)
	if err != nil {
		return nil, err
	}
	c.public = pub
	return c, nil
}

// Verify checks a decryption result against the public material: signed by
// the verification key of the party it names as coordinator, answering
// requestID (empty: not checked), with exactly t+1 distinct contributors.
func (p *PublicMaterial) Verify(requestID string, res *kmsv1.PublicDecryptionResponse) error {
	pl := res.GetPayload()
	if pl == nil {
		return fmt.Errorf("%w: no payload", ErrUnverified)
	}
	co := int(pl.GetCoordinator())
	key, ok := p.VerfKeys[co]
	if !ok {
		return fmt.Errorf("%w: no verification key for party %d, the result's coordinator", ErrUnverified, co)
	}
	if err := VerifySignature(res, key); err != nil {
		return fmt.Errorf("%w: the signature does not verify with the verification key of party %d", ErrUnverified, co)
	}
	if got := pl.GetRequestId().GetRequestId(); requestID != "" && got != requestID {
		return fmt.Errorf("%w: the result answers request %s, not %s", ErrUnverified, got, requestID)
	}
	if p.Key != nil {
		seen := map[uint32]bool{}
		for _, c := range pl.GetContributingParties() {
			if c < 1 || int(c) > p.Key.N || seen[c] {
				return fmt.Errorf("%w: contributing parties %v", ErrUnverified, pl.GetContributingParties())
			}
			seen[c] = true
		}
		if len(seen) != p.Key.T+1 {
			return fmt.Errorf("%w: %d contributing parties, the key needs %d", ErrUnverified, len(seen), p.Key.T+1)
		}
	}
	return nil
}

// LoadPublicMaterial reads the public material under root: the storage
// root holding PUB-p<i>/ directories (a party's, or the dealer's output).
// The threshold key is read when root holds exactly one; every VerfKey
// found is taken, under the party id of its directory.
func LoadPublicMaterial(root, keyID string) (*PublicMaterial, error) {
	dirs, _ := filepath.Glob(filepath.Join(root, "PUB-p*"))
	sort.Strings(dirs)
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%s holds no PUB-p<i>/ directory", root)
	}
	pm := &PublicMaterial{VerfKeys: map[int]ed25519.PublicKey{}}
	var err error
	if pm.Key, err = LoadPublicKey(root, keyID); err != nil {
		return nil, err
	}
	for _, d := range dirs {
		id, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "PUB-p"))
		if err != nil {
			continue
		}
		v := &storage.Vault{Name: "public", Path: root, Prefix: filepath.Base(d)}
		ids, err := v.List(material.VerfKey)
		if err != nil {
			return nil, err
		}
		for _, sid := range ids {
			raw, err := v.Get(material.VerfKey, sid)
			if err != nil {
				return nil, err
			}
			k, err := material.DecodeVerfKey(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.Object(material.VerfKey, sid), err)
			}
			pm.VerfKeys[id] = k
		}
	}
	if len(pm.VerfKeys) == 0 {
		return nil, fmt.Errorf("no verification key (PUB-p<i>/%s/) under %s", material.VerfKey, root)
	}
	return pm, nil
}
