package service

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/p2p"
	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

// LateSessions watches the party-to-party server's share requests and
// logs each one whose coordinator stopped waiting before this party's
// share reached it: its session is over at the coordinator, and this
// party is late for it, for good. A party frozen while its peers decrypt
// finds such requests waiting in its sockets when it runs again (often
// already cancelled, so that no handler ever sees them: hence a stats
// handler, which sees every call end).
//
// The real party learns it the same way, from the peer it sends to: a
// peer's gRPC server answers a message for a session it has completed
// with Status::Completed and drops the message
// (core/threshold-networking/src/grpc/server.rs:109-116 and 375), and the
// late sender logs at WARN, once per message refused, "Failed to send
// message to {other_role_kind} party since it claims the session is
// already completed" (sending_service/service.rs:251-260), the peer's
// RoleKind printed as SingleSet(<party id>) (threshold-types role.rs:41).
// It never gets that request's share through: the operations pages'
// "will never be able to catch up for this specific request"
// (docs/operations/advanced/common-errors.md:77). The pages quote an
// older line, "unknown session id SessionId(..) for from sender ..." of
// distributed_decryption::networking::grpc: the real source prints it
// nowhere any more (a message for a session a party has not started
// opens an Inactive session instead, server.rs:390-420).
func (s *Service) LateSessions() stats.Handler { return lateSessions{s} }

type lateSessions struct{ s *Service }

type lateCall struct{ sender string }

type lateKey struct{}

var decryptShareMethod = "/" + p2pv1.Peer_ServiceDesc.ServiceName + "/DecryptShare"

func (l lateSessions) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if info.FullMethodName != decryptShareMethod {
		return ctx
	}
	return context.WithValue(ctx, lateKey{}, &lateCall{})
}

func (l lateSessions) HandleRPC(ctx context.Context, st stats.RPCStats) {
	call, ok := ctx.Value(lateKey{}).(*lateCall)
	if !ok {
		return
	}
	switch ev := st.(type) {
	case *stats.InHeader:
		if v := ev.Header.Get(p2p.SessionSender); len(v) > 0 {
			if id, err := strconv.Atoi(v[0]); err == nil {
				call.sender = strconv.Itoa(id)
			}
		}
	case *stats.End:
		switch status.Code(ev.Error) {
		case codes.Canceled, codes.DeadlineExceeded:
			if call.sender != "" {
				l.s.log.Warn(fmt.Sprintf("Failed to send message to SingleSet(%s) party since it claims the session is already completed", call.sender))
			}
		}
	}
}

func (lateSessions) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (lateSessions) HandleConn(context.Context, stats.ConnStats) {}
