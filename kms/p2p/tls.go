package p2p

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/release"
)

// Pinned is what a party's certificate must show: the public key of the
// certificate configured for it (its tls_cert) and, as CN, its mpc_identity.
// Pinning the key, not a host name, keeps verification working through a
// TCP proxy, and lets a certificate re-issued for the same key replace an
// expired one without touching every peer's config.
type Pinned struct {
	ID       int
	Identity string
	Cert     *x509.Certificate
}

// Refusal is why a certificate was not accepted. Reason is a short label
// for metrics: no_certificate, bad_certificate, unknown_certificate,
// identity_mismatch, expired, not_yet_valid, wrong_party, impersonation,
// untrusted_release (ReasonUntrustedRelease), handshake.
type Refusal struct {
	Reason string
	Msg    string
}

func (r *Refusal) Error() string { return r.Msg }

// Auth authenticates party-to-party links in both directions with mutual
// TLS against the pinned certificates of the cluster's parties.
type Auth struct {
	me      int
	cert    tls.Certificate
	pinned  map[int]Pinned
	trusted []release.PCRs // none: releases are not checked
	now     func() time.Time
	refused func(inbound bool, reason, remote string, err error)
}

// NewAuth builds the authenticator of party me from its certificate and
// key and every party's pinned certificate.
func NewAuth(me int, cert tls.Certificate, pinned []Pinned) *Auth {
	a := &Auth{me: me, cert: cert, pinned: map[int]Pinned{}, now: time.Now, refused: func(bool, string, string, error) {}}
	for _, p := range pinned {
		a.pinned[p.ID] = p
	}
	return a
}

// AuthFromConfig loads threshold.tls and the peers' tls_cert; nil when the
// config has no TLS section.
func AuthFromConfig(c *config.Config) (*Auth, error) {
	t := c.Threshold
	if t.TLS == nil || t.TLS.Manual == nil {
		return nil, nil
	}
	certPEM, err := t.TLS.Manual.Cert.Read()
	if err != nil {
		return nil, fmt.Errorf("cannot read the TLS certificate (threshold.tls.manual.cert): %w", err)
	}
	keyPEM, err := t.TLS.Manual.Key.Read()
	if err != nil {
		return nil, fmt.Errorf("cannot read the TLS private key (threshold.tls.manual.key): %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("invalid TLS certificate or key (threshold.tls.manual): %w", err)
	}
	if cert, err = Attest(cert, release.Current()); err != nil {
		return nil, fmt.Errorf("bundling the attestation into the TLS certificate: %w", err)
	}
	var trusted []release.PCRs
	for _, r := range t.TLS.Manual.TrustedReleases {
		pcrs, err := release.ParseHex(r.PCR0, r.PCR1, r.PCR2)
		if err != nil {
			return nil, err
		}
		trusted = append(trusted, pcrs)
	}
	var pinned []Pinned
	for _, p := range t.Peers {
		raw, err := p.TLSCert.Read()
		if err != nil {
			return nil, fmt.Errorf("cannot read the tls_cert of peer %d: %w", p.PartyID, err)
		}
		pc, err := ParseCertificate(raw)
		if err != nil {
			return nil, fmt.Errorf("invalid tls_cert of peer %d: %w", p.PartyID, err)
		}
		// The real party checks every peer's certificate against the
		// peer's mpc_identity before it serves, and stops on the first
		// that does not match: a peer renamed in one party's list only
		// stops that party (core/service/src/bin/kms-server.rs,
		// build_tls_config; TlsCert::into_pem in
		// core/service/src/conf/threshold.rs).
		if cn := pc.Subject.CommonName; cn != p.Identity() {
			return nil, fmt.Errorf("Certificate subject %s does not match mpc_identity %s", cn, p.Identity())
		}
		pinned = append(pinned, Pinned{ID: p.PartyID, Identity: p.Identity(), Cert: pc})
	}
	a := NewAuth(t.MyID, cert, pinned)
	a.trusted = trusted
	return a, nil
}

// ParseCertificate decodes the first certificate of a PEM document.
func ParseCertificate(pemBytes []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, pemBytes = pem.Decode(pemBytes)
		if b == nil {
			return nil, errors.New("no PEM certificate found")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// OnRefused sets what happens when a certificate is refused: inbound, a
// caller of this party; outbound, a peer this party dialled.
func (a *Auth) OnRefused(fn func(inbound bool, reason, remote string, err error)) { a.refused = fn }

// SetClock replaces time.Now (tests).
func (a *Auth) SetClock(now func() time.Time) { a.now = now }

// SelfCheck tells whether this party's own certificate would be accepted
// by its peers: what an operator reads at start-up.
func (a *Auth) SelfCheck() error {
	if len(a.cert.Certificate) == 0 {
		return errors.New("no TLS certificate")
	}
	_, err := a.identify(a.cert.Certificate[:1], a.me)
	if err != nil {
		return err
	}
	return nil
}

// identify finds the party whose pinned key signed the presented
// certificate and checks its CN and validity. want > 0 demands that party.
func (a *Auth) identify(raw [][]byte, want int) (int, *Refusal) {
	if len(raw) == 0 {
		return 0, &Refusal{"no_certificate", "no client certificate presented: only parties of the cluster may call this party"}
	}
	leaf, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return 0, &Refusal{"bad_certificate", "unparsable certificate: " + err.Error()}
	}
	cn := leaf.Subject.CommonName
	id := 0
	for pid, p := range a.pinned {
		if bytes.Equal(leaf.RawSubjectPublicKeyInfo, p.Cert.RawSubjectPublicKeyInfo) {
			id = pid
			break
		}
	}
	if id == 0 {
		return 0, &Refusal{"unknown_certificate", fmt.Sprintf("certificate of subject %s is not the certificate of any party of the cluster", cn)}
	}
	if want > 0 && id != want {
		return 0, &Refusal{"wrong_party", fmt.Sprintf("certificate of party %d (subject %s) presented where party %d was expected", id, cn, want)}
	}
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		return 0, &Refusal{"bad_certificate", fmt.Sprintf("certificate of subject %s is not signed by the pinned key of party %d: %v", cn, id, err)}
	}
	if p := a.pinned[id]; cn != p.Identity {
		return 0, &Refusal{"identity_mismatch", fmt.Sprintf("Certificate subject %s does not match mpc_identity %s", cn, p.Identity)}
	}
	now := a.now()
	if now.After(leaf.NotAfter) {
		return 0, &Refusal{"expired", fmt.Sprintf("certificate has expired: subject %s was valid until %s", cn, leaf.NotAfter.UTC().Format(time.RFC3339))}
	}
	if now.Before(leaf.NotBefore) {
		return 0, &Refusal{"not_yet_valid", fmt.Sprintf("certificate is not yet valid: subject %s is valid from %s", cn, leaf.NotBefore.UTC().Format(time.RFC3339))}
	}
	return id, nil
}

func (a *Auth) base() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{a.cert},
		MinVersion:   tls.VersionTLS13,
	}
}

// ServerCredentials require a certificate of a party of the cluster from
// every caller and count and report every refusal.
func (a *Auth) ServerCredentials() credentials.TransportCredentials {
	c := a.base()
	// RequestClientCert, not RequireAnyClientCert: the verifier then sees
	// a missing certificate too, and the refusal is counted with a reason.
	c.ClientAuth = tls.RequestClientCert
	c.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		if _, r := a.identify(raw, 0); r != nil {
			return r
		}
		if r := a.attested(raw[0]); r != nil {
			return r
		}
		return nil
	}
	return &countingCreds{TransportCredentials: credentials.NewTLS(c), a: a}
}

// dialCredentials accept only the pinned certificate of party id, with
// its mpc_identity as CN, whatever host name was dialled.
func (a *Auth) dialCredentials(id int) credentials.TransportCredentials {
	c := a.base()
	c.InsecureSkipVerify = true // replaced by the pinned-key check below
	c.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		_, r := a.identify(raw, id)
		if r == nil {
			r = a.attested(raw[0])
		}
		if r != nil {
			a.refused(false, r.Reason, fmt.Sprintf("peer %d", id), r)
			return r
		}
		return nil
	}
	return credentials.NewTLS(c)
}

// countingCreds report every failed server-side handshake but the ones
// closed before a word was said (a TCP port probe).
type countingCreds struct {
	credentials.TransportCredentials
	a *Auth
}

func (c *countingCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	remote := conn.RemoteAddr().String()
	nc, info, err := c.TransportCredentials.ServerHandshake(conn)
	if err != nil && !errors.Is(err, io.EOF) {
		reason := "handshake"
		var r *Refusal
		if errors.As(err, &r) {
			reason = r.Reason
		}
		c.a.refused(true, reason, remote, err)
	}
	return nc, info, err
}

func (c *countingCreds) Clone() credentials.TransportCredentials {
	return &countingCreds{TransportCredentials: c.TransportCredentials.Clone(), a: c.a}
}

// Caller is the party that made the call, by its certificate; 0 on a
// connection without TLS.
func (a *Auth) Caller(ctx context.Context) int {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return 0
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return 0
	}
	id, r := a.identify([][]byte{info.State.PeerCertificates[0].Raw}, 0)
	if r != nil {
		return 0
	}
	return id
}

// UnaryInterceptor refuses a call whose sender field names another party
// than the certificate it came with: a party cannot speak for another.
func (a *Auth) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		caller := a.Caller(ctx)
		if caller == 0 {
			return nil, status.Error(codes.Unauthenticated, "only parties of the cluster may call this party")
		}
		if f, ok := req.(interface{ GetFrom() uint32 }); ok && int(f.GetFrom()) != caller {
			r := &Refusal{"impersonation", fmt.Sprintf("party %d (by its certificate) sent a request as party %d", caller, f.GetFrom())}
			remote := ""
			if p, ok := peer.FromContext(ctx); ok {
				remote = p.Addr.String()
			}
			a.refused(true, r.Reason, remote, r)
			return nil, status.Error(codes.PermissionDenied, r.Msg)
		}
		return handler(ctx, req)
	}
}
