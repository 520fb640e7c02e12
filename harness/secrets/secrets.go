// Package secrets keeps the cluster's secrets out of what a run leaves
// behind. Collect reads every secret of a cluster (key shares, signing
// keys, PRSS keys, TLS private keys) through the keeper into memory, never
// onto disk; Scan proves no report file holds one in any usual encoding;
// Redact bounds captured command output and masks secrets in it.
package secrets

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Secret is one secret value. Kind says what it is and where it is kept,
// never its value: it is what an error names.
type Secret struct {
	Kind  string
	Value []byte
}

// MinLen is the shortest secret kept: shorter values would match by
// chance (every key of the cluster is 32 bytes).
const MinLen = 16

// probe is how many leading bytes of an encoded form index it: every form
// of a MinLen-byte secret is at least this long.
const probe = 16

// form is one encoding of one secret, as searched for.
type form struct {
	text     string
	encoding string
	secret   int
}

// Set is the secrets of one cluster, with every encoded form indexed by
// its first bytes so a scan reads each file once whatever the number of
// secrets.
type Set struct {
	secrets []Secret
	index   map[string][]form
	forms   []string // every form, longest first, for Redact
}

// NewSet indexes secrets; values shorter than MinLen are left out.
func NewSet(secrets ...Secret) *Set {
	s := &Set{index: map[string][]form{}}
	seen := map[string]bool{}
	for _, sec := range secrets {
		if len(sec.Value) < MinLen || seen[string(sec.Value)] {
			continue
		}
		seen[string(sec.Value)] = true
		s.secrets = append(s.secrets, sec)
		for _, f := range encodings(sec.Value) {
			f.secret = len(s.secrets) - 1
			s.index[f.text[:probe]] = append(s.index[f.text[:probe]], f)
			s.forms = append(s.forms, f.text)
		}
	}
	sort.Slice(s.forms, func(a, b int) bool { return len(s.forms[a]) > len(s.forms[b]) })
	return s
}

// encodings are the forms a secret takes in text: raw, hex in either case,
// base64 standard, unpadded and URL-safe.
func encodings(v []byte) []form {
	h := hex.EncodeToString(v)
	out := []form{
		{text: string(v), encoding: "raw"},
		{text: h, encoding: "hex"},
		{text: strings.ToUpper(h), encoding: "upper-case hex"},
		{text: base64.StdEncoding.EncodeToString(v), encoding: "base64"},
		{text: base64.RawStdEncoding.EncodeToString(v), encoding: "unpadded base64"},
		{text: base64.URLEncoding.EncodeToString(v), encoding: "URL-safe base64"},
		{text: base64.RawURLEncoding.EncodeToString(v), encoding: "unpadded URL-safe base64"},
	}
	// Padded forms contain the unpadded ones: search each text once.
	var uniq []form
	seen := map[string]bool{}
	for _, f := range out {
		if !seen[f.text] {
			seen[f.text] = true
			uniq = append(uniq, f)
		}
	}
	return uniq
}

// Merge is one set of the secrets of every set given (nil ones skipped).
func Merge(sets ...*Set) *Set {
	var all []Secret
	for _, s := range sets {
		if s != nil {
			all = append(all, s.secrets...)
		}
	}
	return NewSet(all...)
}

// Len is the number of secrets in the set.
func (s *Set) Len() int { return len(s.secrets) }

// Hit is a secret found in some text: which kind, in which encoding, at
// which byte offset. It never holds the secret.
type Hit struct {
	Kind, Encoding string
	Offset         int
}

// Find returns the first secret in b, if any.
func (s *Set) Find(b []byte) (Hit, bool) {
	if s == nil || len(s.index) == 0 {
		return Hit{}, false
	}
	for i := 0; i+probe <= len(b); i++ {
		cands, ok := s.index[string(b[i:i+probe])]
		if !ok {
			continue
		}
		for _, f := range cands {
			if i+len(f.text) <= len(b) && string(b[i:i+len(f.text)]) == f.text {
				return Hit{Kind: s.secrets[f.secret].Kind, Encoding: f.encoding, Offset: i}, true
			}
		}
	}
	return Hit{}, false
}

// LeakError names where a secret was found, and never the secret.
type LeakError struct {
	Where string // a file, or e.g. "logs of party 3"
	Hit
}

func (e *LeakError) Error() string {
	return fmt.Sprintf("%s holds a secret: %s, %s-encoded, at byte %d", e.Where, e.Kind, e.Encoding, e.Offset)
}

// Check fails with a *LeakError if b holds a secret; where names b.
func (s *Set) Check(where string, b []byte) error {
	if h, ok := s.Find(b); ok {
		return &LeakError{Where: where, Hit: h}
	}
	return nil
}

// Scan reads every file below dir and fails with a *LeakError naming the
// first file that holds a secret of s, in any of its encodings.
func Scan(dir string, s *Set) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return s.Check(p, b)
	})
}

// MaxOutput bounds captured command output kept in a report.
const MaxOutput = 4 << 10

// Redacted replaces a secret in output.
const Redacted = "[REDACTED]"

// Redact masks every form of every secret of s in out, then bounds it to
// MaxOutput bytes (keeping the end, where a failing command says why).
func (s *Set) Redact(out string) string {
	out = s.Mask(out)
	if len(out) > MaxOutput {
		cut := len(out) - MaxOutput
		out = fmt.Sprintf("[%d bytes cut]\n", cut) + out[cut:]
	}
	return out
}

// Mask masks every form of every secret of s in out, whatever its length:
// for output judged in memory before it is bounded for a report.
func (s *Set) Mask(out string) string {
	if s != nil && len(s.forms) > 0 && s.hasAny(out) {
		for _, f := range s.forms {
			out = strings.ReplaceAll(out, f, Redacted)
		}
	}
	return out
}

func (s *Set) hasAny(out string) bool {
	_, ok := s.Find([]byte(out))
	return ok
}

var (
	mu     sync.Mutex
	active *Set
)

// Use makes s the set the package-level Redact masks.
func Use(s *Set) {
	mu.Lock()
	active = s
	mu.Unlock()
}

// Redact masks the secrets of the set given to Use (none before) and
// bounds out to MaxOutput: what report writers call on any captured output.
func Redact(out string) string {
	mu.Lock()
	s := active
	mu.Unlock()
	return s.Redact(out)
}

// Active is the set given to Use, nil before.
func Active() *Set {
	mu.Lock()
	defer mu.Unlock()
	return active
}

// Mask masks the secrets of the set given to Use, without bounding out.
func Mask(out string) string { return Active().Mask(out) }
