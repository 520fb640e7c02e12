package client

import (
	"context"
	"fmt"
	"net"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/tonic"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// Connect dials endpoint at once, as tonic's connect does (kms-init and
// the core-client connect before any call): an unreachable core fails
// here, with the dial's error.
func Connect(ctx context.Context, endpoint string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", HostPort(endpoint))
	if err != nil {
		return nil, err
	}
	conn.Close()
	return Dial(endpoint)
}

// NewEpoch is the core-client's new-epoch without resharing
// (core-client/src/mpc_epoch.rs, do_new_epoch): it connects to every
// core, asks each at once to set up the epoch, fails on the first
// refusal, then polls every core's GetEpochResult every 500 ms while it
// answers Unavailable, at most maxIter times, and fails on the first
// other error. Its errors are tonic's, naming no core.
func NewEpoch(ctx context.Context, endpoints []string, epochID string, maxIter int) error {
	clients := make([]*Client, len(endpoints))
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i, ep := range endpoints {
		c, err := Connect(ctx, ep)
		if err != nil {
			return fmt.Errorf("transport error: %s", tonic.TransportError(err))
		}
		clients[i] = c
	}
	id := &kmsv1.RequestId{RequestId: epochID}
	send, sctx := errgroup.WithContext(ctx)
	for _, c := range clients {
		send.Go(func() error {
			_, err := c.NewMpcEpoch(sctx, &kmsv1.NewMpcEpochRequest{EpochId: id})
			return statusError(err)
		})
	}
	if err := send.Wait(); err != nil {
		return err
	}
	poll, pctx := errgroup.WithContext(ctx)
	for _, c := range clients {
		poll.Go(func() error {
			var err error
			for range max(maxIter, 1) {
				if !sleep(pctx, 500*time.Millisecond) {
					return pctx.Err()
				}
				if _, err = c.GetEpochResult(pctx, id); status.Code(err) != codes.Unavailable {
					break
				}
			}
			return statusError(err)
		})
	}
	return poll.Wait()
}

// DestroyEpoch is the core-client's destroy-mpc-epoch
// (core-client/src/mpc_epoch.rs, do_destroy_mpc_epoch): it connects to
// every core, asks each at once to destroy the epoch, and fails on the
// first refusal, naming no core.
func DestroyEpoch(ctx context.Context, endpoints []string, epochID string) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, ep := range endpoints {
		g.Go(func() error {
			c, err := Connect(gctx, ep)
			if err != nil {
				return fmt.Errorf("transport error: %s", tonic.TransportError(err))
			}
			defer c.Close()
			_, err = c.DestroyMpcEpoch(gctx, &kmsv1.DestroyMpcEpochRequest{EpochId: &kmsv1.RequestId{RequestId: epochID}})
			return statusError(err)
		})
	}
	return g.Wait()
}

// statusError is a refusal with its code and message only, as the
// core-client reports a tonic Status: it names no core.
func statusError(err error) error {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	return fmt.Errorf("status: %s, message: %q", tonic.Name(st.Code()), st.Message())
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
