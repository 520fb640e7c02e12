package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/lever"
	"github.com/kmschaos/kmschaos/harness/liveview"
	"github.com/kmschaos/kmschaos/harness/resultmetrics"
	"github.com/kmschaos/kmschaos/harness/results"
)

func gamedayServeCmd() *cobra.Command {
	var run, listen, db string
	var metrics bool
	c := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:8090] [--metrics [--db STORE]]",
		Short: "The game day's live view in the browser: the players' page and the facilitator's",
		Long: `serve starts a web server with two pages, updated live (server-sent
events; every asset is in this binary, nothing comes from the network):

  /             the players' view: what an operator sees — each party's
                state, restarts, health grade and peers reachable, the
                quorum against the guide's grades (Optimal n, Healthy 2t+1,
                Degraded t+2), operations per second and failures, the
                diagnoses, escalations and runbooks recorded, the time,
                a halt
  /facilitator  the same with the truth: the hidden faults, their
                injection and time left to the limit, a lane each on a
                timeline, the diagnoses scored, a reveal and a HALT button

The facilitator's URL carries a token derived from the game day's key:
serve prints it once, and only the facilitator (who can read the key)
can run serve. Without it, or with another, /facilitator answers 403.
The players' pages never carry a hidden fault's kind, target or time.

HALT pulls the safety lever as 'kmschaos halt' does: the halt recorded
(cause, time), every fault healed at once, the game day ended halted, new
faults refused until 'kmschaos unhalt'.

--metrics also serves /metrics on the same port: the results store (--db)
for Prometheus, as 'kmschaos serve' does (see its help for the metrics).

It listens on 127.0.0.1 unless --listen says otherwise (e.g. 0.0.0.0:8090
to show it on a room's screen from another machine). Ctrl-C stops it; the
game day goes on.`,
		Example: `  kmschaos gameday serve
  kmschaos gameday serve --listen 0.0.0.0:8090
  kmschaos gameday serve --metrics --db postgres://kmschaos@db.example/results`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := net.SplitHostPort(listen); err != nil {
				return badInputf("--listen %q: give host:port, e.g. 127.0.0.1:8090", listen)
			}
			// Listening first: a port in use is told before anything else.
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return badInputf("--listen %s: %v (is another serve running? choose another with --listen)", listen, unwrapOp(err))
			}
			defer ln.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			logf := stampedLog(cmd.ErrOrStderr())
			var metricsHandler http.Handler
			if db != "" && !metrics {
				return badInputf("--db %s: it is the store of --metrics; give --metrics too", db)
			}
			if metrics {
				store, err := results.Open(ctx, results.Where(db))
				if err != nil {
					return badInputf("%s", err)
				}
				defer func() { _ = store.Close() }()
				metricsHandler = resultmetrics.Handler(resultmetrics.New(store, resultmetrics.Options{Log: logf}))
			}
			c, s, err := loadTruth(ctx, run, cmd.ErrOrStderr(), "open its live view")
			if err != nil {
				return err
			}
			if !s.Running() {
				return badInputf("game day %s on cluster %s has %s: nothing to watch live (its report: %s)", s.ID, c.RunID, s.Stage(), s.Files().Text())
			}
			token := s.Derive(liveview.TokenPurpose)
			base := "http://" + ln.Addr().String()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "live view of game day %s on cluster %s\n", s.ID, c.RunID)
			fmt.Fprintf(w, "players (share this):      %s/\n", base)
			fmt.Fprintf(w, "facilitator (yours alone): %s/facilitator?token=%s\n", base, token)
			if metricsHandler != nil {
				fmt.Fprintf(w, "Prometheus (results store): %s%s\n", base, resultmetrics.Path)
			}
			fmt.Fprintln(w, "Ctrl-C stops the view; the game day goes on")
			return liveview.Serve(ctx, ln, liveview.Options{
				Read:    liveview.ReadCluster(c, s.ID),
				Token:   token,
				Halt:    haltGameDay(c),
				Log:     logf,
				Metrics: metricsHandler,
			})
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:8090", "address to listen on (host:port; 0.0.0.0:8090 to share it with the room)")
	c.Flags().BoolVar(&metrics, "metrics", false, "also serve the results store at /metrics for Prometheus (as 'kmschaos serve')")
	dbFlag(c, &db)
	runFlag(c, &run)
	return c
}

// haltGameDay is the live view's HALT: the safety lever as 'kmschaos
// halt' pulls it (lever.Pull) — the halt recorded, everything healed at
// once, the game day ended halted by its background process.
func haltGameDay(c *cluster.Cluster) func(context.Context, string) error {
	return func(ctx context.Context, cause string) error {
		_, err := lever.Pull(ctx, c, cause, halt.ByPerson, time.Now())
		return err
	}
}

// unwrapOp is a listen error without its "listen tcp …:" prefix, which
// the line already says.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// stampedLog writes a server's messages a line each, after the time:
// what the live view and 'kmschaos serve' say while they run.
func stampedLog(w io.Writer) func(format string, a ...any) {
	return func(format string, a ...any) {
		fmt.Fprintf(w, "%s %s\n", time.Now().Format(time.TimeOnly), fmt.Sprintf(format, a...))
	}
}
