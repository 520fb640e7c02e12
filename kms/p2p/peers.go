// Package p2p is the party-to-party network: one gRPC connection per peer,
// dialled lazily and re-dialled fast after a fault heals, and per-call
// deadlines so that a silent peer never stalls a caller.
package p2p

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

// Peer is one remote party.
type Peer struct {
	ID      int
	Address string // host:port
}

// Peers holds the connections of one party to all others.
type Peers struct {
	me    int
	auth  *Auth // nil: links without TLS
	peers map[int]Peer
	mu    sync.Mutex
	conns map[int]*grpc.ClientConn
}

// NewPeers prepares connections to peers (none is dialled yet), mutually
// authenticated with auth unless it is nil.
func NewPeers(me int, peers []Peer, auth *Auth) *Peers {
	p := &Peers{me: me, auth: auth, peers: map[int]Peer{}, conns: map[int]*grpc.ClientConn{}}
	for _, x := range peers {
		if x.ID != me {
			p.peers[x.ID] = x
		}
	}
	return p
}

// IDs lists the peers in ascending order.
func (p *Peers) IDs() []int {
	var out []int
	for id := 1; id <= len(p.peers)+1; id++ {
		if _, ok := p.peers[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

// Endpoint is the address used for a peer.
func (p *Peers) Endpoint(id int) string { return p.peers[id].Address }

// DialOptions are the client settings of every party-to-party connection:
// reconnect within a second of a healed fault, and drop a connection whose
// peer stopped answering keepalives (a hung link), so the next call dials
// again. creds nil: no TLS.
func DialOptions(creds credentials.TransportCredentials) []grpc.DialOption {
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	return []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 3 * time.Second,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 2 * time.Second, Timeout: 2 * time.Second, PermitWithoutStream: true}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
	}
}

// ServerOptions match DialOptions on the serving side; with auth, every
// caller must be a party of the cluster.
func ServerOptions(auth *Auth) []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 5 * time.Second, Timeout: 3 * time.Second}),
		grpc.MaxRecvMsgSize(64 << 20),
	}
	if auth != nil {
		opts = append(opts, grpc.Creds(auth.ServerCredentials()), grpc.UnaryInterceptor(auth.UnaryInterceptor()))
	}
	return opts
}

func (p *Peers) client(id int) (p2pv1.PeerClient, error) {
	peer, ok := p.peers[id]
	if !ok {
		return nil, fmt.Errorf("unknown peer %d", id)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[id]; ok {
		return p2pv1.NewPeerClient(c), nil
	}
	// passthrough: the name is resolved on every dial, so a restored DNS
	// record is used at the next reconnect, not after a resolver backoff.
	var creds credentials.TransportCredentials
	if p.auth != nil {
		creds = p.auth.dialCredentials(id)
	}
	c, err := grpc.NewClient("passthrough:///"+peer.Address, DialOptions(creds)...)
	if err != nil {
		return nil, err
	}
	p.conns[id] = c
	return p2pv1.NewPeerClient(c), nil
}

// Ping measures a round trip to a peer, bounded by timeout.
func (p *Peers) Ping(ctx context.Context, id int, timeout time.Duration) (time.Duration, error) {
	c, err := p.client(id)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.Ping(ctx, &p2pv1.PingRequest{From: uint32(p.me)}, grpc.WaitForReady(false))
	if err != nil {
		return 0, Describe(err, timeout)
	}
	if int(resp.PartyId) != id {
		return 0, fmt.Errorf("answered by party %d, expected party %d: peer addresses are crossed", resp.PartyId, id)
	}
	return time.Since(start), nil
}

// DecryptShare asks a peer for its decryption shares.
func (p *Peers) DecryptShare(ctx context.Context, id int, req *p2pv1.ShareRequest) (*p2pv1.ShareResponse, error) {
	c, err := p.client(id)
	if err != nil {
		return nil, err
	}
	// The sender rides in the call's header too, so that a party that
	// never reads the request (its caller gave up first) still knows whose
	// session it was late for (service.LateSessions).
	ctx = metadata.AppendToOutgoingContext(ctx, SessionSender, strconv.Itoa(int(req.GetFrom())))
	return c.DecryptShare(ctx, req)
}

// SessionSender is the header of a share request naming the party whose
// session it is.
const SessionSender = "kms-session-sender"

// PrssContribute delivers PRSS set-up contributions to a peer.
func (p *Peers) PrssContribute(ctx context.Context, id int, m *p2pv1.PrssContribution) error {
	c, err := p.client(id)
	if err != nil {
		return err
	}
	_, err = c.PrssContribute(ctx, m)
	return err
}

// PrssConfirm delivers a PRSS confirmation digest to a peer.
func (p *Peers) PrssConfirm(ctx context.Context, id int, m *p2pv1.PrssConfirmation) error {
	c, err := p.client(id)
	if err != nil {
		return err
	}
	_, err = c.PrssConfirm(ctx, m)
	return err
}

// Close closes every connection.
func (p *Peers) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range p.conns {
		c.Close()
		delete(p.conns, id)
	}
}

// Describe turns a call error into what an operator should read: a timeout
// names its bound, a refused or unresolvable peer keeps the dial error.
func Describe(err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	st, _ := status.FromError(err)
	if st.Code() == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("Timeout after %s", formatSeconds(timeout))
	}
	return errors.New(st.Message())
}

func formatSeconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.Itoa(int(d/time.Second)) + " s"
	}
	return d.String()
}

// HostPort joins an address and a port.
func HostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
