package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// plantings are every encoding a secret must be found in.
func plantings(v []byte) map[string]string {
	h := hex.EncodeToString(v)
	return map[string]string{
		"raw":                      string(v),
		"hex":                      h,
		"upper-case hex":           strings.ToUpper(h),
		"base64":                   base64.StdEncoding.EncodeToString(v),
		"unpadded base64":          base64.RawStdEncoding.EncodeToString(v),
		"URL-safe base64":          base64.URLEncoding.EncodeToString(v),
		"unpadded URL-safe base64": base64.RawURLEncoding.EncodeToString(v),
	}
}

func TestScanFindsASecretInEveryEncoding(t *testing.T) {
	// 32 bytes whose base64 forms differ (a '+' or '/' in the standard one)
	// and 31 bytes (base64 with padding).
	var values [][]byte
	for len(values) < 2 {
		v := random(t, 32-len(values))
		if std := base64.StdEncoding.EncodeToString(v); strings.ContainsAny(std, "+/") {
			values = append(values, v)
		}
	}
	set := NewSet(Secret{Kind: "party 2 key share", Value: values[0]}, Secret{Kind: "party 3 PRSS keys", Value: values[1]})
	for i, v := range values {
		for enc, text := range plantings(v) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			_ = os.WriteFile(filepath.Join(dir, "clean.txt"), []byte("nothing secret here"), 0o644)
			file := filepath.Join(dir, "sub", "scorecard.json")
			if err := os.WriteFile(file, []byte(`{"output":"step said `+text+` and went on"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			err := Scan(dir, set)
			var leak *LeakError
			if !errors.As(err, &leak) {
				t.Errorf("secret %d planted %s: Scan = %v, want a leak", i, enc, err)
				continue
			}
			if leak.Where != file || !strings.Contains(leak.Kind, []string{"key share", "PRSS keys"}[i]) {
				t.Errorf("secret %d planted %s: %v names the wrong file or kind", i, enc, err)
			}
			if msg := err.Error(); strings.Contains(msg, text) || strings.Contains(msg, hex.EncodeToString(v)) {
				t.Errorf("the error prints the secret: %s", msg)
			}
		}
	}
	clean := t.TempDir()
	_ = os.WriteFile(filepath.Join(clean, "report.html"), []byte(strings.Repeat("abcdef0123456789", 1000)), 0o644)
	if err := Scan(clean, set); err != nil {
		t.Errorf("a clean directory: %v", err)
	}
}

func TestRedactMasksEveryEncodingAndBoundsOutput(t *testing.T) {
	v := random(t, 32)
	set := NewSet(Secret{Kind: "signing key", Value: v})
	for enc, text := range plantings(v) {
		out := set.Redact("before " + text + " after")
		if out != "before "+Redacted+" after" {
			t.Errorf("%s: Redact gave %q", enc, out)
		}
		if _, found := set.Find([]byte(out)); found {
			t.Errorf("%s: the redacted output still holds the secret", enc)
		}
	}
	long := strings.Repeat("x", 3*MaxOutput) + "the last line says why"
	out := set.Redact(long)
	if len(out) > MaxOutput+64 || !strings.HasSuffix(out, "the last line says why") {
		t.Errorf("bounded output: %d bytes, ends %q", len(out), out[len(out)-30:])
	}

	if got := Redact("x " + hex.EncodeToString(v)); strings.Contains(got, Redacted) {
		t.Errorf("the package-level Redact masks before Use: %q", got)
	}
	Use(set)
	t.Cleanup(func() { Use(nil) })
	if got := Redact("x " + hex.EncodeToString(v)); got != "x "+Redacted {
		t.Errorf("package-level Redact = %q", got)
	}
}

func TestFromObjectFindsTheKeysOfAStoredObject(t *testing.T) {
	share := random(t, 32)
	payload, _ := json.Marshal(map[string]any{"key_id": "ab", "party": 1, "share": hex.EncodeToString(share)})
	file, _ := json.Marshal(map[string]any{"format": "kmschaos-object/1", "type": "FheKeyInfo", "id": "ab", "data": payload})
	set := NewSet(FromObject("/vaults/p1/keys/PRIV-p1/FheKeyInfo/ab", file)...)
	for name, leak := range map[string][]byte{
		"the share's bytes, base64": []byte(base64.StdEncoding.EncodeToString(share)),
		"the payload":               payload,
		"the stored file":           file,
		"the stored data field":     []byte(base64.StdEncoding.EncodeToString(payload)),
	} {
		if h, ok := set.Find(leak); !ok || !strings.Contains(h.Kind, "key share (PRIV-p1/FheKeyInfo/ab)") {
			t.Errorf("%s: found %v %v", name, ok, h)
		}
	}
	if got := FromObject("/vaults/p1/keys/PUB-p1/PublicKey/ab", file); len(got) != 0 {
		t.Errorf("a public object gives %d secrets", len(got))
	}
}
