// Package tss is the threshold cryptography of the simulated party: hashed
// ElGamal over ristretto255 with a dealer-shared secret key (Shamir, t of n),
// decryption shares proved with DLEQ proofs against published verification
// keys, and Lagrange combination in the exponent.
//
// Encrypt(v) picks r, sends C1 = r*G and seals v under a key derived from
// r*Y. Party i answers with D_i = x_i*C1 and a proof that log_G(Y_i) equals
// log_C1(D_i); any t+1 proved shares give x*C1 = r*Y. A wrong share fails its
// proof (and names its party), a wrong combination fails the AEAD tag: the
// scheme fails closed and never yields a wrong plaintext.
package tss

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	_ "crypto/sha512" // registers crypto.SHA512 for the DLEQ transcript
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/secretsharing"
	"github.com/cloudflare/circl/zk/dleq"
)

// G is the prime-order group of the scheme.
var G = group.Ristretto255

var dleqParams = dleq.Params{G: G, H: crypto.SHA512, DST: []byte("kmschaos-tss-dleq-v1")}

const (
	elementLen  = 32
	ctMagic     = "KCT1"
	nonceLen    = 12
	valueLen    = 8
	aeadTagLen  = 16
	cipherLen   = len(ctMagic) + elementLen + nonceLen + valueLen + aeadTagLen
	kdfLabel    = "kmschaos-tss-kdf-v1"
	MaxParties  = 64
	keyIDLength = 64
)

// PublicKey is the public material of one threshold key: the cluster key and
// one verification key per party (index i-1 for party i).
type PublicKey struct {
	KeyID            string
	N, T             int
	Y                group.Element
	VerificationKeys []group.Element
}

// KeyShare is the private share x_i of party i.
type KeyShare struct {
	KeyID string
	Party int
	X     group.Scalar
}

// Share is one party's decryption share of one ciphertext.
type Share struct {
	Party int
	D     group.Element
	Proof []byte
}

// Ciphertext is a parsed ciphertext.
type Ciphertext struct {
	C1     group.Element
	Nonce  []byte
	Sealed []byte
}

// ValidateTopology checks n = 3t+1 and the size limits of the scheme.
func ValidateTopology(n, t int) error {
	if t < 1 {
		return fmt.Errorf("threshold must be greater than zero, got t=%d", t)
	}
	if n != 3*t+1 {
		return fmt.Errorf("3*t+1 must be equal to number of parties. Got t=%d but expected t=%d for n=%d parties", t, (n-1)/3, n)
	}
	if n > MaxParties {
		return fmt.Errorf("at most %d parties are supported, got n=%d", MaxParties, n)
	}
	return nil
}

// Deal generates a fresh key and its n shares (dealer key generation).
func Deal(rnd io.Reader, n, t int) (*PublicKey, []KeyShare, error) {
	if err := ValidateTopology(n, t); err != nil {
		return nil, nil, err
	}
	x := G.RandomNonZeroScalar(rnd)
	ss := secretsharing.New(rnd, uint(t), x)
	shares := ss.Share(uint(n))
	y := G.NewElement().MulGen(x)
	yb, err := y.MarshalBinaryCompress()
	if err != nil {
		return nil, nil, err
	}
	id := sha256.Sum256(yb)
	pk := &PublicKey{KeyID: hex.EncodeToString(id[:]), N: n, T: t, Y: y}
	out := make([]KeyShare, n)
	for i, s := range shares {
		pk.VerificationKeys = append(pk.VerificationKeys, G.NewElement().MulGen(s.Value))
		out[i] = KeyShare{KeyID: pk.KeyID, Party: i + 1, X: s.Value.Copy()}
	}
	return pk, out, nil
}

// Encrypt seals value under the cluster key.
func (pk *PublicKey) Encrypt(rnd io.Reader, value uint64) ([]byte, error) {
	r := G.RandomNonZeroScalar(rnd)
	c1 := G.NewElement().MulGen(r)
	k := G.NewElement().Mul(pk.Y, r)
	aead, err := pk.aead(k, c1)
	if err != nil {
		return nil, err
	}
	c1b, _ := c1.MarshalBinaryCompress()
	nonce := make([]byte, nonceLen)
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, err
	}
	var pt [valueLen]byte
	binary.BigEndian.PutUint64(pt[:], value)
	out := make([]byte, 0, cipherLen)
	out = append(out, ctMagic...)
	out = append(out, c1b...)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, pt[:], []byte(pk.KeyID)), nil
}

// ParseCiphertext decodes a ciphertext made by Encrypt.
func ParseCiphertext(b []byte) (*Ciphertext, error) {
	if len(b) != cipherLen || string(b[:len(ctMagic)]) != ctMagic {
		return nil, fmt.Errorf("not a kmschaos ciphertext: want %d bytes starting with %q, got %d bytes", cipherLen, ctMagic, len(b))
	}
	b = b[len(ctMagic):]
	c1 := G.NewElement()
	if err := c1.UnmarshalBinary(b[:elementLen]); err != nil {
		return nil, fmt.Errorf("ciphertext: bad ephemeral point: %w", err)
	}
	if c1.IsIdentity() {
		return nil, errors.New("ciphertext: ephemeral point is the identity")
	}
	return &Ciphertext{C1: c1, Nonce: b[elementLen : elementLen+nonceLen], Sealed: b[elementLen+nonceLen:]}, nil
}

// DecryptionShare computes x_i*C1 with its DLEQ proof.
func (ks *KeyShare) DecryptionShare(rnd io.Reader, pk *PublicKey, c1 group.Element) (Share, error) {
	d := G.NewElement().Mul(c1, ks.X)
	proof, err := dleq.Prover{Params: dleqParams}.Prove(ks.X, G.Generator(), pk.VerificationKeys[ks.Party-1], c1, d, rnd)
	if err != nil {
		return Share{}, err
	}
	pb, err := proof.MarshalBinary()
	if err != nil {
		return Share{}, err
	}
	return Share{Party: ks.Party, D: d, Proof: pb}, nil
}

// ErrInvalidShare reports a share whose proof does not verify.
var ErrInvalidShare = errors.New("decryption share proof verification failed")

// VerifyShare checks the proof of a share against the verification key of its party.
func (pk *PublicKey) VerifyShare(c1 group.Element, s Share) error {
	if s.Party < 1 || s.Party > pk.N {
		return fmt.Errorf("share from unknown party %d", s.Party)
	}
	var p dleq.Proof
	if err := p.UnmarshalBinary(G, s.Proof); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidShare, err)
	}
	if s.D == nil || !(dleq.Verifier{Params: dleqParams}).Verify(G.Generator(), pk.VerificationKeys[s.Party-1], c1, s.D, &p) {
		return ErrInvalidShare
	}
	return nil
}

// ErrDecryptionFailed is returned when the combined key does not open the
// ciphertext: the scheme refuses rather than returning a wrong value.
var ErrDecryptionFailed = errors.New("decryption failed: ciphertext authentication failed")

// Combine opens ct from the first t+1 shares, which the caller has verified.
func (pk *PublicKey) Combine(ct *Ciphertext, shares []Share) (uint64, error) {
	if len(shares) < pk.T+1 {
		return 0, fmt.Errorf("need %d decryption shares, got %d", pk.T+1, len(shares))
	}
	shares = shares[:pk.T+1]
	xs := make([]int, len(shares))
	for i, s := range shares {
		xs[i] = s.Party
	}
	k := G.Identity()
	for i, s := range shares {
		k.Add(k, G.NewElement().Mul(s.D, LagrangeAt(0, xs, i)))
	}
	aead, err := pk.aead(k, ct.C1)
	if err != nil {
		return 0, err
	}
	pt, err := aead.Open(nil, ct.Nonce, ct.Sealed, []byte(pk.KeyID))
	if err != nil || len(pt) != valueLen {
		return 0, ErrDecryptionFailed
	}
	return binary.BigEndian.Uint64(pt), nil
}

// CheckShare tells whether a private share matches this public material.
func (pk *PublicKey) CheckShare(ks *KeyShare) error {
	if ks.KeyID != pk.KeyID {
		return fmt.Errorf("key share is for key %s, public material for %s", ks.KeyID, pk.KeyID)
	}
	if ks.Party < 1 || ks.Party > pk.N {
		return fmt.Errorf("key share of party %d, but the key has %d parties", ks.Party, pk.N)
	}
	if !G.NewElement().MulGen(ks.X).IsEqual(pk.VerificationKeys[ks.Party-1]) {
		return fmt.Errorf("public material does not match the private key share of party %d", ks.Party)
	}
	return nil
}

// CheckConsistent verifies that the verification keys lie on one polynomial
// of degree t whose value at zero is the cluster key.
func (pk *PublicKey) CheckConsistent() error {
	if err := ValidateTopology(pk.N, pk.T); err != nil {
		return err
	}
	if len(pk.VerificationKeys) != pk.N {
		return fmt.Errorf("public material has %d verification keys for %d parties", len(pk.VerificationKeys), pk.N)
	}
	base := make([]int, pk.T+1)
	for i := range base {
		base[i] = i + 1
	}
	at := func(x int) group.Element {
		e := G.Identity()
		for i := range base {
			e.Add(e, G.NewElement().Mul(pk.VerificationKeys[i], LagrangeAt(x, base, i)))
		}
		return e
	}
	if !at(0).IsEqual(pk.Y) {
		return errors.New("public material is inconsistent: verification keys do not interpolate to the public key")
	}
	for x := pk.T + 2; x <= pk.N; x++ {
		if !at(x).IsEqual(pk.VerificationKeys[x-1]) {
			return fmt.Errorf("public material is inconsistent: verification key of party %d is off the sharing polynomial", x)
		}
	}
	return nil
}

func (pk *PublicKey) aead(k, c1 group.Element) (cipher.AEAD, error) {
	kb, err := k.MarshalBinaryCompress()
	if err != nil {
		return nil, err
	}
	c1b, err := c1.MarshalBinaryCompress()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte(kdfLabel))
	h.Write(kb)
	h.Write(c1b)
	block, err := aes.NewCipher(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// LagrangeAt returns the Lagrange coefficient of xs[i] for evaluating at x
// the polynomial through the points with abscissae xs.
func LagrangeAt(x int, xs []int, i int) group.Scalar {
	num := G.NewScalar().SetUint64(1)
	den := G.NewScalar().SetUint64(1)
	xi := scalarOf(xs[i])
	xv := scalarOf(x)
	for j, xj := range xs {
		if j == i {
			continue
		}
		sj := scalarOf(xj)
		num.Mul(num, G.NewScalar().Sub(xv, sj))
		den.Mul(den, G.NewScalar().Sub(xi, sj))
	}
	return num.Mul(num, G.NewScalar().Inv(den))
}

func scalarOf(v int) group.Scalar {
	if v >= 0 {
		return G.NewScalar().SetUint64(uint64(v))
	}
	return G.NewScalar().Neg(G.NewScalar().SetUint64(uint64(-v)))
}

// ValidID tells whether s is a 64 hex character identifier.
func ValidID(s string) bool {
	if len(s) != keyIDLength {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
