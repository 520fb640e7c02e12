package gameday

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// The keeper is on the engine the players use: anything stored there in
// clear, `docker exec` reads. So the game day's record is a public header
// (what the players' commands need) and the whole State sealed with
// AES-256-GCM under a key that lives only in the facilitator's file.

// Header is the public part of a game day: no fault, no schedule.
type Header struct {
	ID      string    `json:"id"`
	Run     string    `json:"run"`
	Started time.Time `json:"started"`
	Dir     string    `json:"dir"` // the facilitator's report directory, on the host that started it
	// Backend are the flags that reach the cluster's backend (none on
	// Docker): every background process of the game day is given them.
	Backend []string `json:"backend,omitempty"`

	PID       int       `json:"pid,omitempty"` // the runner's, on the facilitator's host
	Heartbeat time.Time `json:"heartbeat,omitzero"`
	Ended     time.Time `json:"ended,omitzero"`
	Aborted   bool      `json:"aborted,omitempty"`
	// Halted: a halt ended it (the cause is in the sealed state and in
	// the cluster's halt record, which anyone may read).
	Halted bool `json:"halted,omitempty"`
}

// Running tells whether the header is of a game day not ended.
func (h *Header) Running() bool { return h != nil && h.Ended.IsZero() }

// Stage is the word for where the game day is: running, ended,
// aborted or halted.
func (h *Header) Stage() string {
	switch {
	case h.Halted:
		return "halted"
	case h.Aborted:
		return "aborted"
	case !h.Ended.IsZero():
		return "ended"
	}
	return "running"
}

// Alive tells whether the runner has shown signs of life lately.
func (h *Header) Alive(now time.Time) bool { return now.Sub(h.Heartbeat) < staleAfter }

const keySize = 32 // AES-256

// newKey draws a game day's key and writes it to its file, readable by
// its owner only from its creation; an existing file is never reused.
func newKey(files Files) ([]byte, error) {
	if err := os.MkdirAll(files.Dir, 0o755); err != nil {
		return nil, err
	}
	key := make([]byte, keySize)
	rand.Read(key)
	f, err := os.OpenFile(files.Key(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write([]byte(hex.EncodeToString(key) + "\n")); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// KeyError: this user cannot read the game day's key, so not its truth.
type KeyError struct {
	ID, Path string
	Err      error // why: permission denied, no such file, not a key
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("only the facilitator who started game day %s can read its truth: %s is not readable (%v)", e.ID, e.Path, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// readKey reads the key of the game day h names.
func readKey(h Header) ([]byte, error) {
	p := h.Files().Key()
	b, err := os.ReadFile(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &KeyError{ID: h.ID, Path: p, Err: err}
	}
	key, err := hex.DecodeString(string(bytes.TrimSuffix(b, []byte("\n"))))
	if err != nil || len(key) != keySize {
		return nil, &KeyError{ID: h.ID, Path: p, Err: errors.New("not a game day key")}
	}
	return key, nil
}

// sealed is the record as the keeper holds it. The header is kept as its
// exact bytes: they are the cipher's additional data, so a header changed
// or moved to another game day's record does not open.
type sealed struct {
	Header json.RawMessage `json:"header"`
	Nonce  []byte          `json:"nonce"`
	Box    []byte          `json:"sealed"`
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// sealState is the record of s: its header in clear, all of it sealed.
func sealState(key []byte, s *State) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	h, err := json.Marshal(s.Header)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return json.Marshal(sealed{Header: h, Nonce: nonce, Box: aead.Seal(nil, nonce, plain, h)})
}

// parseRecord reads the record's header, and what opens the rest.
func parseRecord(rec []byte) (Header, sealed, error) {
	var r sealed
	var h Header
	if err := json.Unmarshal(rec, &r); err != nil {
		return h, r, fmt.Errorf("reading the game day's record: %w", err)
	}
	if len(r.Header) == 0 || len(r.Box) == 0 {
		return h, r, errors.New("reading the game day's record: it has no sealed state (written by an older kmschaos?)")
	}
	if err := json.Unmarshal(r.Header, &h); err != nil {
		return h, r, fmt.Errorf("reading the game day's record: %w", err)
	}
	return h, r, nil
}

// openRecord opens a record with the key of the game day its header
// names (readKey, or another source in tests).
func openRecord(rec []byte, key func(Header) ([]byte, error)) (*State, error) {
	h, r, err := parseRecord(rec)
	if err != nil {
		return nil, err
	}
	k, err := key(h)
	if err != nil {
		return nil, err
	}
	aead, err := gcm(k)
	if err != nil {
		return nil, err
	}
	if len(r.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("game day %s: its record is damaged (a nonce of %d bytes)", h.ID, len(r.Nonce))
	}
	plain, err := aead.Open(nil, r.Nonce, r.Box, r.Header)
	if err != nil {
		return nil, fmt.Errorf("game day %s: its record does not open with the key in %s: changed since it was written, or another game day's", h.ID, h.Files().Key())
	}
	var s State
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, fmt.Errorf("game day %s: reading its sealed state: %w", h.ID, err)
	}
	s.Header, s.key = h, k
	return &s, nil
}

// Derive is a value only who holds the game day's key can make, for one
// purpose (the live view's facilitator token): HMAC-SHA256 of purpose
// under the key, in hex. The key itself never leaves this package.
func (s *State) Derive(purpose string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	return hex.EncodeToString(m.Sum(nil))
}
