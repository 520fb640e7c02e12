package material_test

import (
	"crypto/ed25519"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/kms/keygen"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// dealt is a 4-party key as kms-gen-keys writes it, and party 1's vaults.
type dealt struct {
	t     *testing.T
	dir   string
	keyID string
	v     material.Vaults
	sigID string
	sk    ed25519.PrivateKey
}

func deal(t *testing.T) dealt {
	t.Helper()
	dir := t.TempDir()
	res, err := keygen.Generate(rand.NewChaCha8([32]byte{'b', 'o', 'o', 't'}), keygen.Options{N: 4, T: 1, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	v := material.ForParty(dir, dir, dir, 1)
	sigID, sk, err := v.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return dealt{t: t, dir: dir, keyID: res.KeyID, v: v, sigID: sigID, sk: sk}
}

// file is party p's object typ/id of vault kind (PUB, PRIV).
func (d dealt) file(kind string, p int, typ, id string) string {
	return filepath.Join(d.dir, kind+"-p"+string(rune('0'+p)), typ, id)
}

func (d dealt) sigIDOf(t *testing.T, p int) string {
	t.Helper()
	id, _, err := material.ForParty(d.dir, d.dir, d.dir, p).SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func truncate(t *testing.T, path string) {
	t.Helper()
	b := read(t, path)
	write(t, path, b[:len(b)/2])
}

// Each check of the real boot-time verification
// (core/service/src/engine/public_material_verification.rs), what breaks
// it and the real message it fails with; and what it lets pass.
func TestVerifyPublic(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(d dealt)
		want   string // regexp; "" passes
	}{
		{"intact material passes", func(dealt) {}, ""},
		{"public key removed", func(d dealt) {
			t := d.t
			if err := os.Remove(d.file("PUB", 1, material.PublicKey, d.keyID)); err != nil {
				t.Fatal(err)
			}
		}, `^missing or unreadable public material PublicKey for id=KEY in storage "file storage with root_path 'DIR/PUB-p1'": Could not load bytes from path DIR/PUB-p1/PublicKey/KEY: no such file or directory$`},
		{"public key truncated", func(d dealt) { truncate(d.t, d.file("PUB", 1, material.PublicKey, d.keyID)) }, `^Public key digest mismatch$`},
		{"public key of another key, well-formed, under the same id", func(d dealt) {
			t := d.t
			f := d.file("PUB", 1, material.PublicKey, d.keyID)
			forged, err := storage.Reseal(read(t, f), func([]byte) []byte {
				other, _, err := tss.Deal(rand.NewChaCha8([32]byte{'x'}), 4, 1)
				if err != nil {
					t.Fatal(err)
				}
				other.KeyID = d.keyID
				b, _ := material.EncodePublicKey(other)
				return b
			})
			if err != nil {
				t.Fatal(err)
			}
			write(t, f, forged)
		}, `^Public key digest mismatch$`},
		{"public key restored from another party passes", func(d dealt) {
			t := d.t
			write(t, d.file("PUB", 1, material.PublicKey, d.keyID), read(t, d.file("PUB", 2, material.PublicKey, d.keyID)))
		}, ""},
		{"extra public material is ignored", func(d dealt) {
			t := d.t
			write(t, d.file("PUB", 1, material.PublicKey, strings.Repeat("ab", 32)), []byte("leftover of another deployment"))
		}, ""},
		{"verification key removed", func(d dealt) {
			t := d.t
			if err := os.Remove(d.file("PUB", 1, material.VerfKey, d.sigID)); err != nil {
				t.Fatal(err)
			}
		}, `^missing or unreadable public material VerfKey for id=SIG in storage "file storage with root_path 'DIR/PUB-p1'": Could not load bytes from path .*: no such file or directory$`},
		{"verification key of another party", func(d dealt) {
			t := d.t
			write(t, d.file("PUB", 1, material.VerfKey, d.sigID), read(t, d.file("PUB", 2, material.VerfKey, d.sigIDOf(t, 2))))
		}, `^Verification key in public storage does not match the private signing key: expected the key for address ADDR: Public key digest mismatch$`},
		{"verification key truncated", func(d dealt) { truncate(d.t, d.file("PUB", 1, material.VerfKey, d.sigID)) },
			`^Verification key in public storage does not match the private signing key: expected the key for address ADDR: Public key digest mismatch$`},
		{"verification address removed", func(d dealt) {
			t := d.t
			if err := os.Remove(d.file("PUB", 1, material.VerfAddress, d.sigID)); err != nil {
				t.Fatal(err)
			}
		}, `^missing or unreadable public material VerfAddress for id=SIG in storage "file storage with root_path 'DIR/PUB-p1'": `},
		{"verification address of another party", func(d dealt) {
			t := d.t
			other, _ := material.ForParty(d.dir, d.dir, d.dir, 2).Public.Get(material.VerfAddress, d.sigIDOf(t, 2))
			if err := d.v.Public.Put(material.VerfAddress, d.sigID, other); err != nil {
				t.Fatal(err)
			}
		}, `^Verification address in public storage does not match the private signing key: public storage holds 0x[0-9a-f]{64}, expected ADDR$`},
		{"verification address not an address", func(d dealt) {
			t := d.t
			if err := d.v.Public.Put(material.VerfAddress, d.sigID, []byte("0xnot-an-address")); err != nil {
				t.Fatal(err)
			}
		}, `^Verification address in public storage does not match the private signing key: "0xnot-an-address" in public storage is not a valid address: `},
		{"verification address in capitals passes (parsed, not string-compared)", func(d dealt) {
			t := d.t
			up := "0x" + strings.ToUpper(strings.TrimPrefix(material.AddressText(d.sk.Public().(ed25519.PublicKey)), "0x"))
			if err := d.v.Public.Put(material.VerfAddress, d.sigID, []byte(up)); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"key material first: a missing public key is reported before a wrong verification key", func(d dealt) {
			t := d.t
			write(t, d.file("PUB", 1, material.VerfKey, d.sigID), read(t, d.file("PUB", 2, material.VerfKey, d.sigIDOf(t, 2))))
			if err := os.Remove(d.file("PUB", 1, material.PublicKey, d.keyID)); err != nil {
				t.Fatal(err)
			}
		}, `^missing or unreadable public material PublicKey for id=KEY `},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := deal(t)
			tc.mutate(d)
			got, err := d.v.VerifyPublic(1, d.sigID, d.sk)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused intact material: %v", err)
				}
				if got.Keysets != 1 || got.Address != material.AddressText(d.sk.Public().(ed25519.PublicKey)) {
					t.Fatalf("verified %+v", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("passed, want an error matching %s", tc.want)
			}
			want := strings.NewReplacer("KEY", d.keyID, "SIG", d.sigID, "DIR", regexp.QuoteMeta(d.dir),
				"ADDR", material.AddressText(d.sk.Public().(ed25519.PublicKey))).Replace(tc.want)
			if !regexp.MustCompile(want).MatchString(err.Error()) {
				t.Fatalf("error %q\ndoes not match %s", err, want)
			}
		})
	}
}

// Material from before the digests were recorded (the real LegacyV0
// metadata) is checked for presence only: present passes, named as legacy;
// missing fails.
func TestVerifyPublicLegacy(t *testing.T) {
	d := deal(t)
	ks, err := d.v.KeyShare(d.keyID)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := material.EncodeKeyShare(ks)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.v.Private.Put(material.FheKeyInfo, d.keyID, legacy); err != nil {
		t.Fatal(err)
	}
	truncate(t, d.file("PUB", 1, material.PublicKey, d.keyID))
	got, err := d.v.VerifyPublic(1, d.sigID, d.sk)
	if err != nil || len(got.Legacy) != 1 || got.Legacy[0] != d.keyID {
		t.Fatalf("legacy material with its public key present: %+v, %v", got, err)
	}
	if err := os.Remove(d.file("PUB", 1, material.PublicKey, d.keyID)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.v.VerifyPublic(1, d.sigID, d.sk); err == nil || !strings.HasPrefix(err.Error(), "missing or unreadable public material PublicKey for id="+d.keyID) {
		t.Fatalf("legacy material without its public key: %v", err)
	}
}
