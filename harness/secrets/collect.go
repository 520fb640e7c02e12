package secrets

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/kms/material"
)

// Collect reads every secret of the cluster through the keeper into
// memory: every object of every party's private and backup vaults (key
// shares, signing keys, PRSS epochs), in its parties' volumes and in the
// golden copy, and any PEM private key (TLS) anywhere in their storage or
// config. Nothing is written anywhere.
func Collect(ctx context.Context, c *cluster.Cluster) (*Set, error) {
	files, err := c.StoredFiles(ctx)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var all []Secret
	err = c.EachParty(func(i int) error {
		for _, p := range files[i] {
			raw, err := c.ReadFile(ctx, p)
			if err != nil {
				return fmt.Errorf("reading %s: %w", p, err)
			}
			found := FromObject(p, raw)
			mu.Lock()
			all = append(all, found...)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return NewSet(all...), nil
}

// FromObject returns the secrets of one stored file, p its path: for an
// object of a private or backup vault its payload and the key values in
// it; for any file its PEM private keys.
func FromObject(p string, raw []byte) []Secret {
	out := pemKeys(p, raw)
	vault, typ := vaultOf(p)
	if vault != "PRIV" && vault != "BACKUP" {
		return out
	}
	kind := kindOf(typ) + " (" + objectName(p) + ")"
	var env struct {
		Data []byte `json:"data"`
	}
	payload := raw
	if json.Unmarshal(raw, &env) == nil && len(env.Data) > 0 {
		payload = env.Data
		// The whole stored file too: a copy of it is a leak as such.
		out = append(out, Secret{Kind: kind + " file", Value: raw})
	}
	out = append(out, Secret{Kind: kind, Value: payload})
	var doc any
	if json.Unmarshal(payload, &doc) == nil {
		for _, v := range keyValues(doc) {
			out = append(out, Secret{Kind: kind + " value", Value: v})
		}
	}
	return out
}

// secretFields are the payload fields that hold key bytes, hex-encoded:
// a key share's "share", a signing key's "seed", a PRSS key's "key".
var secretFields = map[string]bool{"share": true, "seed": true, "key": true, "private_key": true}

func keyValues(doc any) [][]byte {
	var out [][]byte
	switch d := doc.(type) {
	case map[string]any:
		for k, v := range d {
			if s, ok := v.(string); ok && secretFields[k] {
				if b, err := hex.DecodeString(s); err == nil {
					out = append(out, b)
				}
				continue
			}
			out = append(out, keyValues(v)...)
		}
	case []any:
		for _, v := range d {
			out = append(out, keyValues(v)...)
		}
	}
	return out
}

// pemKeys finds PEM private keys (TLS keys of peer links, if any): the
// DER bytes, and the first line of the encoded body, which any copy of the
// PEM text contains.
func pemKeys(p string, raw []byte) []Secret {
	var out []Secret
	rest := raw
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out
		}
		if !strings.Contains(b.Type, "PRIVATE KEY") {
			continue
		}
		kind := "TLS private key (" + objectName(p) + ")"
		out = append(out, Secret{Kind: kind, Value: b.Bytes})
		body := pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})
		if lines := bytes.Split(body, []byte("\n")); len(lines) > 1 {
			out = append(out, Secret{Kind: kind + " PEM", Value: lines[1]})
		}
	}
}

// vaultOf tells the vault (PRIV, PUB, BACKUP) and data type of a stored
// object's path, e.g. .../PRIV-p3/EpochData/<id> -> PRIV, EpochData.
func vaultOf(p string) (vault, typ string) {
	dir := path.Dir(p)
	v, _, _ := strings.Cut(path.Base(path.Dir(dir)), "-p")
	return v, path.Base(dir)
}

func objectName(p string) string {
	dir := path.Dir(p)
	return path.Join(path.Base(path.Dir(dir)), path.Base(dir), path.Base(p))
}

func kindOf(typ string) string {
	switch typ {
	case material.FheKeyInfo:
		return "key share"
	case material.SigningKey:
		return "signing key"
	case material.EpochData:
		return "PRSS keys"
	}
	return "private object"
}

// ScanPartyLogs fails with a *LeakError if the container logs of a party
// hold a secret of s.
func ScanPartyLogs(ctx context.Context, c *cluster.Cluster, s *Set) error {
	return c.EachParty(func(i int) error {
		logs, err := c.Party(i).Logs(ctx)
		if err != nil {
			return fmt.Errorf("reading the logs of party %d: %w", i, err)
		}
		return s.Check(fmt.Sprintf("the logs of party %d", i), []byte(logs))
	})
}
