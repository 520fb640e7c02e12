package keygen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// TLS material of party i is key material: it lives in its private vault,
// and travels with it wherever the vault is copied or restored:
//
//	PRIV-p<i>/TLS/key.pem    the party's private key (0600)
//	PRIV-p<i>/TLS/cert.pem   its self-signed certificate, CN = mpc_identity
const (
	tlsCertFile = "cert.pem"
	tlsKeyFile  = "key.pem"
)

// DefaultCertValidity is how long an issued certificate is valid.
const DefaultCertValidity = 365 * 24 * time.Hour

// TLSDir is the directory of party i's TLS material under a storage root.
func TLSDir(root string, i int) string { return filepath.Join(root, fmt.Sprintf("PRIV-p%d", i), "TLS") }

// CertPath and KeyPath are party i's certificate and key under root.
func CertPath(root string, i int) string { return filepath.Join(TLSDir(root, i), tlsCertFile) }
func KeyPath(root string, i int) string  { return filepath.Join(TLSDir(root, i), tlsKeyFile) }

// Validity is a certificate's window.
type Validity struct{ NotBefore, NotAfter time.Time }

// ValidFor is a window starting an hour ago (clock skew) and lasting d.
func ValidFor(d time.Duration) Validity {
	now := time.Now()
	return Validity{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(d)}
}

// issueTLS writes a fresh ECDSA P-256 key and its certificate for party i
// and returns the certificate's PEM.
func issueTLS(rnd io.Reader, root string, i int, identity string, v Validity) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(TLSDir(root, i), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(KeyPath(root, i), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return writeCert(rnd, root, i, key, identity, v)
}

// Reissue replaces party i's certificate under root with one for the same
// key (its peers pin the key, so their configs stay as they are), with
// CN identity and validity v. It is the repair of an expired certificate
// or of one whose CN does not match the party's mpc_identity, and, with a
// wrong identity or a past window, the fault itself.
func Reissue(rnd io.Reader, root string, i int, identity string, v Validity) ([]byte, error) {
	if identity == "" {
		return nil, errors.New("an identity (the CN, the party's mpc_identity) is required")
	}
	raw, err := os.ReadFile(KeyPath(root, i))
	if err != nil {
		return nil, fmt.Errorf("reading party %d's TLS key: %w", i, err)
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		return nil, fmt.Errorf("%s holds no PEM key", KeyPath(root, i))
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyPath(root, i), err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: not a signing key", KeyPath(root, i))
	}
	return writeCert(rnd, root, i, signer, identity, v)
}

func writeCert(rnd io.Reader, root string, i int, key crypto.Signer, identity string, v Validity) ([]byte, error) {
	serial, err := randSerial(rnd)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: identity},
		DNSNames:              []string{identity},
		NotBefore:             v.NotBefore,
		NotAfter:              v.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // self-signed: it is its own trust anchor
	}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// Write beside and rename: a party restarting meanwhile never reads
	// half a certificate. 0600 like every file of the private vault, so
	// that the operators' "every key file 600" repairs leave it as dealt.
	tmp := CertPath(root, i) + ".tmp-reissue"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return nil, err
	}
	return out, os.Rename(tmp, CertPath(root, i))
}

func randSerial(rnd io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}
