package service

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/p2p"
)

// A share request that ends because its coordinator stopped waiting is a
// session that moved on without this party: it logs the real late
// sender's WARN line naming the coordinator as SingleSet(<id>)
// (sending_service/service.rs:258), once; a request answered, or failing
// for another reason, logs nothing of it, nor does any other call.
func TestALateShareRequestLogsTheSessionCompleted(t *testing.T) {
	const line = "Failed to send message to SingleSet(3) party since it claims the session is already completed"
	end := func(method string, err error) string {
		var out bytes.Buffer
		h := (&Service{log: slog.New(slog.NewTextHandler(&out, nil))}).LateSessions()
		ctx := h.TagRPC(context.Background(), &stats.RPCTagInfo{FullMethodName: method})
		h.HandleRPC(ctx, &stats.InHeader{FullMethod: method, Header: metadata.Pairs(p2p.SessionSender, "3")})
		h.HandleRPC(ctx, &stats.End{Error: err})
		return out.String()
	}
	for _, err := range []error{status.Error(codes.Canceled, "context canceled"), status.Error(codes.DeadlineExceeded, "context deadline exceeded")} {
		if got := end(decryptShareMethod, err); strings.Count(got, "level=WARN msg=\""+line+"\"") != 1 {
			t.Errorf("a share request ended by %v logged:\n%s\nwant WARN %q once", err, got, line)
		}
	}
	for _, c := range []struct {
		method string
		err    error
	}{
		{decryptShareMethod, nil},
		{decryptShareMethod, status.Error(codes.NotFound, "Epoch 01 not found")},
		{"/kms.p2p.v1.Peer/Ping", status.Error(codes.Canceled, "context canceled")},
	} {
		if got := end(c.method, c.err); strings.Contains(got, "already completed") {
			t.Errorf("%s ending with %v logged %q", c.method, c.err, got)
		}
	}
}

// A share request whose coordinator already gave up is not worked on.
func TestALateShareRequestComputesNothing(t *testing.T) {
	s, logs, _, err := boot(t, func(string, string) {})
	if err != nil {
		t.Fatalf("boot: %v\n%s", err, logs)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	resp, err := s.DecryptShare(gone, nil)
	if resp != nil || status.Code(err) != codes.Canceled {
		t.Fatalf("a share for a completed session: %v, %v", resp, err)
	}
}
