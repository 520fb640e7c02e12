package p2p

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/kmschaos/kmschaos/kms/release"
	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

// releaseAuth is party p's authenticator attesting release v and
// trusting the releases given, recording every refusal, both ways.
func releaseAuth(t *testing.T, p party, v string, pinned []Pinned, trusted ...string) (*Auth, func() []string) {
	t.Helper()
	cert, err := Attest(p.good(t), release.Measure(v))
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuth(p.id, cert, pinned)
	for _, tr := range trusted {
		a.trusted = append(a.trusted, release.Measure(tr))
	}
	var mu sync.Mutex
	var refs []string
	a.OnRefused(func(inbound bool, reason, _ string, err error) {
		mu.Lock()
		defer mu.Unlock()
		refs = append(refs, reason+": "+err.Error())
	})
	return a, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), refs...) }
}

func serveAuth(t *testing.T, a *Auth) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(ServerOptions(a)...)
	p2pv1.RegisterPeerServer(g, pinger{me: a.me})
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

func pingWith(a *Auth, addr string) error {
	p := NewPeers(a.me, []Peer{{ID: 1, Address: addr}}, a)
	defer p.Close()
	_, err := p.Ping(context.Background(), 1, 3*time.Second)
	return err
}

func untrusted(v string) string {
	p0, p1, p2 := release.Measure(v).Hex()
	return "untrusted_release: bundled attestation document validation error for party kms-party-2: Bad certificate: untrusted release hash triple " + p0 + ", " + p1 + ", " + p2 + " in attestation document"
}

// A release the peers trust interoperates with theirs: what a rolling
// upgrade relies on once every party trusts the old and the new release.
func TestTrustedReleasesInteroperate(t *testing.T) {
	p1, p2 := newParty(t, 1), newParty(t, 2)
	pinned := pins(t, p1, p2)
	srv, srvRefs := releaseAuth(t, p1, "0.15.0", pinned, "0.15.0", "0.15.1")
	cli, cliRefs := releaseAuth(t, p2, "0.15.1", pinned, "0.15.0", "0.15.1")
	if err := pingWith(cli, serveAuth(t, srv)); err != nil {
		t.Fatalf("a trusted release was refused: %v", err)
	}
	if r := append(srvRefs(), cliRefs()...); len(r) > 0 {
		t.Fatalf("refusals between trusted releases: %v", r)
	}
}

// A release no peer trusts is refused on every link: by the peer it calls
// (inbound) and by the peer that calls it (outbound), each with the real
// verifier's message naming the attested triple.
func TestUntrustedReleaseRefusedBothWays(t *testing.T) {
	p1, p2 := newParty(t, 1), newParty(t, 2)
	pinned := pins(t, p1, p2)
	old, oldRefs := releaseAuth(t, p1, "0.15.0", pinned, "0.15.0", "0.15.1")
	// The new party trusts the old release: only its peers refuse it.
	rogue, _ := releaseAuth(t, p2, "0.16.0", pinned, "0.15.0", "0.15.1")
	if err := pingWith(rogue, serveAuth(t, old)); err == nil {
		t.Fatal("a peer accepted a call from a release it does not trust")
	}
	awaitRefusals(t, oldRefs, untrusted("0.16.0"))

	// The other way: the untrusted release serves, and the old party
	// dialling it refuses it.
	caller, callerRefs := releaseAuth(t, p1, "0.15.0", pinned, "0.15.0", "0.15.1")
	server, _ := releaseAuth(t, p2, "0.16.0", pinned, "0.15.0", "0.15.1")
	p := NewPeers(1, []Peer{{ID: 2, Address: serveAuth(t, server)}}, caller)
	defer p.Close()
	if _, err := p.Ping(context.Background(), 2, 3*time.Second); err == nil || !strings.Contains(err.Error(), "untrusted release hash triple") {
		t.Fatalf("dialling an untrusted release: %v", err)
	}
	awaitRefusals(t, callerRefs, untrusted("0.16.0"))
}

// With no trusted release configured nothing is checked, as the real
// party skips the attestation when its list is empty.
func TestNoTrustedReleasesChecksNothing(t *testing.T) {
	p1, p2 := newParty(t, 1), newParty(t, 2)
	pinned := pins(t, p1, p2)
	srv, _ := releaseAuth(t, p1, "0.15.0", pinned)
	cli, _ := releaseAuth(t, p2, "0.16.0", pinned)
	if err := pingWith(cli, serveAuth(t, srv)); err != nil {
		t.Fatalf("refused with no trusted release configured: %v", err)
	}
}

func awaitRefusals(t *testing.T, refs func() []string, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range refs() {
			if r == want {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no refusal %q; got %q", want, refs())
}
