package material

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"

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

// Problem is something wrong with one stored object.
type Problem struct {
	Object string // <prefix>/<type>/<id>
	Kind   string // missing | unreadable | corrupt | mismatch | backup
	Detail string
}

// EpochStatus is the state of one stored PRSS epoch.
type EpochStatus struct {
	ID    string
	Epoch *Epoch // nil when it cannot be read
	Err   error
}

// Report is a scan of everything a party stores.
type Report struct {
	KeyIDs   []string
	Epochs   []EpochStatus
	Problems []Problem
}

// Scan reads every object of the party and reports what is missing or
// wrong. It is what the health check shows under KEY MATERIAL and PRSS.
func (v Vaults) Scan() Report {
	var r Report
	add := func(vault *storage.Vault, typ, id string, err error) {
		kind := "unreadable"
		var ce *storage.CorruptError
		switch {
		case errors.Is(err, storage.ErrNotFound):
			kind = "missing"
		case errors.As(err, &ce):
			kind = "corrupt"
		}
		r.Problems = append(r.Problems, Problem{Object: vault.Object(typ, id), Kind: kind, Detail: err.Error()})
	}
	pubIDs, err := v.Public.List(PublicKey)
	if err != nil {
		r.Problems = append(r.Problems, Problem{Object: v.Public.Prefix + "/" + PublicKey, Kind: "unreadable", Detail: err.Error()})
	}
	privIDs, err := v.Private.List(FheKeyInfo)
	if err != nil {
		r.Problems = append(r.Problems, Problem{Object: v.Private.Prefix + "/" + FheKeyInfo, Kind: "unreadable", Detail: err.Error()})
	}
	ids := union(pubIDs, privIDs)
	r.KeyIDs = ids
	for _, id := range ids {
		pk, perr := v.PublicKey(id)
		if perr != nil {
			add(v.Public, PublicKey, id, perr)
		}
		ks, serr := v.KeyShare(id)
		if serr != nil {
			add(v.Private, FheKeyInfo, id, serr)
		}
		if perr == nil && serr == nil {
			if err := pk.CheckShare(ks); err != nil {
				r.Problems = append(r.Problems, Problem{Object: v.Public.Object(PublicKey, id), Kind: "mismatch", Detail: err.Error()})
			}
		}
	}
	if _, _, err := v.SigningKey(); err != nil {
		r.Problems = append(r.Problems, Problem{Object: v.Private.Prefix + "/" + SigningKey, Kind: kindOf(err), Detail: err.Error()})
	}
	epochIDs, err := v.Private.List(EpochData)
	if err != nil {
		r.Problems = append(r.Problems, Problem{Object: v.Private.Prefix + "/" + EpochData, Kind: "unreadable", Detail: err.Error()})
	}
	for _, id := range epochIDs {
		e, err := v.Epoch(id)
		r.Epochs = append(r.Epochs, EpochStatus{ID: id, Epoch: e, Err: err})
		if err != nil {
			add(v.Private, EpochData, id, err)
		}
	}
	if v.Backup != nil {
		r.Problems = append(r.Problems, v.checkBackup()...)
	}
	return r
}

// checkBackup compares every backed-up private object with its copy.
func (v Vaults) checkBackup() []Problem {
	var out []Problem
	for _, typ := range BackedUp {
		ids, _ := v.Private.List(typ)
		bids, _ := v.Backup.List(typ)
		for _, id := range union(ids, bids) {
			orig, oerr := v.Private.Get(typ, id)
			copyB, berr := v.Backup.Get(typ, id)
			switch {
			case berr != nil:
				out = append(out, Problem{Object: v.Backup.Object(typ, id), Kind: "backup", Detail: "backup copy unusable: " + berr.Error()})
			case oerr == nil && !bytes.Equal(orig, copyB):
				out = append(out, Problem{Object: v.Backup.Object(typ, id), Kind: "backup", Detail: "backup copy differs from " + v.Private.Object(typ, id)})
			}
		}
	}
	return out
}

func kindOf(err error) string {
	var ce *storage.CorruptError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "missing"
	case errors.As(err, &ce):
		return "corrupt"
	}
	return "unreadable"
}

func union(a, b []string) []string {
	set := map[string]bool{}
	for _, s := range append(append([]string{}, a...), b...) {
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
