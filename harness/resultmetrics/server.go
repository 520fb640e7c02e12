package resultmetrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/kmschaos/kmschaos/fixtures"
)

// Path is where the metrics are served, here and in the game day's live
// view.
const Path = "/metrics"

// Serve serves metrics (Handler) at /metrics on ln until ctx ends, and
// at / a line saying where they are.
func Serve(ctx context.Context, ln net.Listener, metrics http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, metrics)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "kmschaos results for Prometheus: %s\n", Path)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: fixtures.Intervals.Metrics.ReadHeader, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), fixtures.Intervals.Metrics.Shutdown)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
