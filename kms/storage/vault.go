// Package storage is the file backend of a party's vaults: objects live at
// <path>/<prefix>/<DataType>/<id>, wrapped in an envelope that carries the
// digest of their payload. Writes go through a temp file named as the real
// KMS names it, fsynced and renamed into place, so a crash or a full disk
// never leaves a torn object behind; the temp file a crash leaves is swept
// at start (partial.go).
package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Format names the envelope version written in every object.
const Format = "kmschaos-object/1"

// ErrNotFound reports an object that does not exist.
var ErrNotFound = errors.New("object not found")

// CorruptError reports an object whose envelope or digest is wrong.
type CorruptError struct {
	Object string
	Reason string
}

func (e *CorruptError) Error() string { return fmt.Sprintf("%s is corrupt: %s", e.Object, e.Reason) }

// Vault is one storage vault (public, private or backup) of a party.
type Vault struct {
	Name   string // public | private | backup
	Path   string
	Prefix string // e.g. PRIV-p3
}

type envelope struct {
	Format string `json:"format"`
	Type   string `json:"type"`
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
	Data   []byte `json:"data"`
}

// Dir is the vault's directory, <path>/<prefix>.
func (v *Vault) Dir() string { return filepath.Join(v.Path, v.Prefix) }

// Object is the name of an object as operators see it, <prefix>/<type>/<id>.
func (v *Vault) Object(typ, id string) string { return v.Prefix + "/" + typ + "/" + id }

// File is the path of an object on disk.
func (v *Vault) File(typ, id string) string { return filepath.Join(v.Dir(), typ, id) }

// Put stores payload as typ/id, atomically.
func (v *Vault) Put(typ, id string, payload []byte) error {
	if err := checkName(typ); err != nil {
		return err
	}
	if err := checkName(id); err != nil {
		return err
	}
	body, err := Seal(typ, id, payload)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(v.File(typ, id), body); err != nil {
		return fmt.Errorf("storing %s: %w", v.Object(typ, id), err)
	}
	return nil
}

// Seal is the exact bytes Put writes for payload as typ/id: what a digest
// of an object's raw stored bytes is taken over.
func Seal(typ, id string, payload []byte) ([]byte, error) {
	sum := sha256.Sum256(payload)
	body, err := json.MarshalIndent(envelope{Format: Format, Type: typ, ID: id, SHA256: hex.EncodeToString(sum[:]), Data: payload}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(body, '\n'), nil
}

// Raw reads typ/id as stored, checking nothing, as the real file storage's
// load_bytes does (core/service/src/vault/storage/file.rs): the boot-time
// verification hashes these bytes, so a truncated object is a digest
// mismatch there, not an unreadable one.
func (v *Vault) Raw(typ, id string) ([]byte, error) {
	p := v.File(typ, id)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("Could not load bytes from path %s: %w", p, unwrapPath(err))
	}
	return b, nil
}

// Get reads typ/id and verifies its digest.
func (v *Vault) Get(typ, id string) ([]byte, error) {
	raw, err := os.ReadFile(v.File(typ, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", v.Object(typ, id), ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", v.Object(typ, id), err)
	}
	return Open(v.Object(typ, id), typ, id, raw)
}

// Open checks an envelope read from disk and returns its payload.
func Open(object, typ, id string, raw []byte) ([]byte, error) {
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, &CorruptError{object, "not a stored object: " + err.Error()}
	}
	if e.Format != Format {
		return nil, &CorruptError{object, fmt.Sprintf("unknown format %q", e.Format)}
	}
	if e.Type != typ || e.ID != id {
		return nil, &CorruptError{object, fmt.Sprintf("envelope names %s/%s", e.Type, e.ID)}
	}
	sum := sha256.Sum256(e.Data)
	if hex.EncodeToString(sum[:]) != e.SHA256 {
		return nil, &CorruptError{object, "digest mismatch"}
	}
	return e.Data, nil
}

// Reseal rewrites the digest of raw so that it matches its payload again:
// what the corrupt-but-loadable fault needs, kept beside the format it knows.
func Reseal(raw []byte, mutate func(payload []byte) []byte) ([]byte, error) {
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, err
	}
	e.Data = mutate(e.Data)
	sum := sha256.Sum256(e.Data)
	e.SHA256 = hex.EncodeToString(sum[:])
	body, err := json.MarshalIndent(e, "", "  ")
	return append(body, '\n'), err
}

// List returns the ids of the objects of one type, sorted. A missing type
// directory is an empty list. Hidden names (a write's temp file among them)
// are no objects, as in the real all_data_from_path
// (core/service/src/vault/storage/file.rs:132).
func (v *Vault) List(typ string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(v.Dir(), typ))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s/%s: %w", v.Prefix, typ, err)
	}
	var ids []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Exists tells whether typ/id is stored, without reading it, as the real
// file storage's data_exists does (tokio::fs::try_exists,
// core/service/src/vault/storage/file.rs): a path that cannot be checked,
// e.g. in a directory the party may not search, is an error, not a no.
func (v *Vault) Exists(typ, id string) (bool, error) {
	p := v.File(typ, id)
	_, err := os.Stat(p)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("Error checking path %s: %w", p, unwrapPath(err))
}

// Delete removes typ/id; a missing object is not an error.
func (v *Vault) Delete(typ, id string) error {
	err := os.Remove(v.File(typ, id))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting %s: %w", v.Object(typ, id), err)
	}
	return nil
}

func checkName(s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `/\`) || strings.HasPrefix(s, ".") {
		return fmt.Errorf("invalid object name %q", s)
	}
	return nil
}
