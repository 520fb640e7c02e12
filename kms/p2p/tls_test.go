package p2p

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

// party is one party's key, with a certificate issued for it.
type party struct {
	id  int
	key *ecdsa.PrivateKey
}

func newParty(t *testing.T, id int) party {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return party{id: id, key: k}
}

func (p party) cert(t *testing.T, cn string, from, until time.Time) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(p.id)), Subject: pkix.Name{CommonName: cn},
		NotBefore: from, NotAfter: until, BasicConstraintsValid: true, IsCA: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: p.key, Leaf: leaf}
}

func (p party) good(t *testing.T) tls.Certificate {
	t.Helper()
	return p.cert(t, identity(p.id), time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

func identity(id int) string { return "kms-party-" + string(rune('0'+id)) }

// server is party 1 serving Ping with TLS, recording every refusal.
type server struct {
	addr string
	mu   sync.Mutex
	refs []string // reason: message
}

func (s *server) refusals() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refs...)
}

type pinger struct {
	p2pv1.UnimplementedPeerServer
	me int
}

func (p pinger) Ping(context.Context, *p2pv1.PingRequest) (*p2pv1.PingResponse, error) {
	return &p2pv1.PingResponse{PartyId: uint32(p.me)}, nil
}

func pins(t *testing.T, parties ...party) []Pinned {
	t.Helper()
	var out []Pinned
	for _, p := range parties {
		c := p.good(t)
		out = append(out, Pinned{ID: p.id, Identity: identity(p.id), Cert: c.Leaf})
	}
	return out
}

func serve(t *testing.T, me party, pinned []Pinned) *server {
	t.Helper()
	a := NewAuth(me.id, me.good(t), pinned)
	s := &server{}
	a.OnRefused(func(inbound bool, reason, _ string, err error) {
		if inbound {
			s.mu.Lock()
			s.refs = append(s.refs, reason+": "+err.Error())
			s.mu.Unlock()
		}
	})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(ServerOptions(a)...)
	p2pv1.RegisterPeerServer(g, pinger{me: me.id})
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	s.addr = lis.Addr().String()
	return s
}

// ping calls party 1 as party `as` presenting cert.
func ping(t *testing.T, s *server, as int, cert tls.Certificate, pinned []Pinned) error {
	t.Helper()
	a := NewAuth(as, cert, pinned)
	p := NewPeers(as, []Peer{{ID: 1, Address: s.addr}}, a)
	defer p.Close()
	_, err := p.Ping(context.Background(), 1, 3*time.Second)
	return err
}

func awaitRefusal(t *testing.T, s *server, want string) {
	t.Helper()
	gomega.NewWithT(t).Eventually(s.refusals).WithTimeout(5*time.Second).WithPolling(10*time.Millisecond).
		Should(gomega.ContainElement(gomega.ContainSubstring(want)), "no refusal %q", want)
}

func TestGoodPeerAccepted(t *testing.T) {
	p1, p2 := newParty(t, 1), newParty(t, 2)
	pinned := pins(t, p1, p2)
	s := serve(t, p1, pinned)
	if err := ping(t, s, 2, p2.good(t), pinned); err != nil {
		t.Fatalf("a party with its own certificate was refused: %v", err)
	}
	if r := s.refusals(); len(r) != 0 {
		t.Fatalf("refusals counted for a good peer: %q", r)
	}
}

func TestReissuedCertificateForThePinnedKeyAccepted(t *testing.T) {
	p1, p2 := newParty(t, 1), newParty(t, 2)
	pinned := pins(t, p1, p2)
	s := serve(t, p1, pinned)
	renewed := p2.cert(t, identity(2), time.Now().Add(-time.Minute), time.Now().Add(48*time.Hour))
	if err := ping(t, s, 2, renewed, pinned); err != nil {
		t.Fatalf("a certificate re-issued for the pinned key was refused: %v", err)
	}
}

func TestIdentityMismatchRefused(t *testing.T) {
	p1, p2 := newParty(t, 1), newParty(t, 2)
	pinned := pins(t, p1, p2)
	s := serve(t, p1, pinned)
	bad := p2.cert(t, "kms-party-2-old", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err := ping(t, s, 2, bad, pinned); err == nil {
		t.Fatal("a certificate whose CN is not the mpc_identity was accepted")
	}
	awaitRefusal(t, s, "identity_mismatch: Certificate subject kms-party-2-old does not match mpc_identity kms-party-2")
}

func TestExpiredRefused(t *testing.T) {
	p1, p2 := newParty(t, 1), newParty(t, 2)
	pinned := pins(t, p1, p2)
	s := serve(t, p1, pinned)
	old := p2.cert(t, identity(2), time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	if err := ping(t, s, 2, old, pinned); err == nil {
		t.Fatal("an expired certificate was accepted")
	}
	awaitRefusal(t, s, "expired: certificate has expired: subject kms-party-2")
}

func TestSelfMadeCertificateRefused(t *testing.T) {
	p1, p2 := newParty(t, 1), newParty(t, 2)
	pinned := pins(t, p1, p2)
	s := serve(t, p1, pinned)
	// An outsider names itself party 2 but has not party 2's key.
	outsider := newParty(t, 2)
	if err := ping(t, s, 2, outsider.good(t), pinned); err == nil {
		t.Fatal("a self-made certificate was accepted")
	}
	awaitRefusal(t, s, "unknown_certificate: certificate of subject kms-party-2 is not the certificate of any party of the cluster")
}

func TestNoCertificateRefused(t *testing.T) {
	p1 := newParty(t, 1)
	pinned := pins(t, p1)
	s := serve(t, p1, pinned)
	// TLS, but no client certificate.
	creds := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
	conn, err := tls.Dial("tcp", s.addr, creds)
	if err == nil {
		// TLS 1.3: the refusal reaches the client at its first read.
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Fatal("a caller without a certificate was served")
	}
	awaitRefusal(t, s, "no_certificate: no client certificate presented")
	// No TLS at all.
	c, err := grpc.NewClient("passthrough:///"+s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := p2pv1.NewPeerClient(c).DecryptShare(context.Background(), &p2pv1.ShareRequest{From: 2}); err == nil {
		t.Fatal("a plaintext caller was served")
	}
	awaitRefusal(t, s, "handshake: ")
}

func TestImpersonationRefused(t *testing.T) {
	p1, p2, p3 := newParty(t, 1), newParty(t, 2), newParty(t, 3)
	pinned := pins(t, p1, p2, p3)
	s := serve(t, p1, pinned)
	// Party 2, authenticated, claims to be party 3.
	a := NewAuth(2, p2.good(t), pinned)
	p := NewPeers(3, []Peer{{ID: 1, Address: s.addr}}, a)
	defer p.Close()
	if _, err := p.Ping(context.Background(), 1, 3*time.Second); err == nil || !strings.Contains(err.Error(), "party 2 (by its certificate) sent a request as party 3") {
		t.Fatalf("impersonation not refused as such: %v", err)
	}
	awaitRefusal(t, s, "impersonation: ")
}

func TestDialVerifiesThePeer(t *testing.T) {
	p1, p2 := newParty(t, 1), newParty(t, 2)
	pinned := pins(t, p1, p2)
	// Party 1 serves with a certificate whose CN is wrong: party 2,
	// dialling it, refuses it with the operator's message.
	a := NewAuth(1, p1.cert(t, "someone-else", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), pinned)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(ServerOptions(a)...)
	p2pv1.RegisterPeerServer(g, pinger{me: 1})
	go func() { _ = g.Serve(lis) }()
	defer g.Stop()
	err = ping(t, &server{addr: lis.Addr().String()}, 2, p2.good(t), pinned)
	if err == nil || !strings.Contains(err.Error(), "Certificate subject someone-else does not match mpc_identity kms-party-1") {
		t.Fatalf("dialling a peer with a wrong CN: %v", err)
	}
}
