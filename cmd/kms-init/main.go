// Command kms-init sets up PRSS on every party: the real kms-init
// (zama-ai/kms core/service/src/bin/kms-init.rs), which knows one epoch
// only, DEFAULT_EPOCH_ID, and stops at the first party that refuses it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/logging"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/tonic"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, time.Second))
}

// The real tool polls each party's GetEpochResult once a second, 120
// times, before it gives up on it.
const maxRetries = 120

func run(args []string, stdout, stderr io.Writer, poll time.Duration) int {
	var addresses []string
	cmd := &cobra.Command{
		Use:   "kms-init --addresses <address>...",
		Short: "Initialise the PRSS state of the threshold KMS core nodes",
		Long: `kms-init initialises the PRSS state of every KMS core it is given, the
final step after the servers are up. It asks each core at once to set up
the default epoch (NewMpcEpoch), then polls each every second, up to 120
times, until the set-up is done.

It is the real kms-init's behaviour, and its limits: the epoch is always
the default one (there is no flag for another), and the first core that
refuses (one that already holds the epoch answers InvalidArgument), fails
its set-up, cannot be reached or does not finish in 120 polls ends the
run with a panic and exit status 1. A core that holds the epoch cannot be
given it again: a fresh epoch on every core is the core-client's
new-epoch (kms-client new-epoch here).`,
		Example:       `  kms-init -a http://127.0.0.1:50100 http://127.0.0.1:50200 http://127.0.0.1:50300 http://127.0.0.1:50400`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// "-a a b c" as clap's num_args(1..) takes it: the words after
		// the flag are addresses too.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, rest []string) error {
			addresses = append(addresses, rest...)
			if len(addresses) == 0 {
				return errors.New("the following required arguments were not provided: --addresses <ADDRESSES>")
			}
			return nil
		},
	}
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.Flags().StringSliceVarP(&addresses, "addresses", "a", nil, "a list of addresses of uninitialized cores")
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 2
	}
	if cmd.Flags().Changed("help") {
		return 0
	}
	return initAll(addresses, stdout, stderr, poll)
}

// initAll runs one task per address, as the real tool's tokio tasks, and
// waits for them in the order given: the first that failed (in that
// order, not in time) ends the run. Each task's panic is printed when it
// happens, as Rust's panic hook does.
func initAll(addresses []string, stdout, stderr io.Writer, poll time.Duration) int {
	log := logging.New(stdout, slog.LevelInfo, "kms_init")
	var mu sync.Mutex
	results := make([]chan panicked, len(addresses))
	for i, addr := range addresses {
		results[i] = make(chan panicked, 1)
		go func() {
			p := initOne(addr, log, poll)
			if p.msg != "" {
				mu.Lock()
				fmt.Fprintf(stderr, "\nthread 'tokio-runtime-worker' panicked at %s:\n%s\n", p.at, p.msg)
				mu.Unlock()
			}
			results[i] <- p
		}()
	}
	for i, r := range results {
		if p := <-r; p.msg != "" {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stderr, "Error: JoinError::Panic(Id(%d), %q, ...)\n", i+1, p.msg)
			return 1
		}
	}
	return 0
}

// panicked is a task's panic: where in the real source, and its message
// (the payload JoinError carries); none when msg is empty.
type panicked struct{ at, msg string }

// initOne is one task: what it panicked with, if it did.
func initOne(addr string, log *slog.Logger, poll time.Duration) panicked {
	ctx := context.Background()
	c, err := client.Connect(ctx, addr)
	if err != nil {
		return panicked{"core/service/src/bin/kms-init.rs:43:18", "called `Result::unwrap()` on an `Err` value: " + tonic.TransportError(err)}
	}
	defer c.Close()
	id := &kmsv1.RequestId{RequestId: material.DefaultEpochID}
	if _, err := c.NewMpcEpoch(ctx, &kmsv1.NewMpcEpochRequest{EpochId: id}); err != nil {
		return panicked{"core/service/src/bin/kms-init.rs:57:61", "called `Result::unwrap()` on an `Err` value: " + tonic.StatusDebug(err)}
	}
	for i := range maxRetries {
		time.Sleep(poll)
		_, err := c.GetEpochResult(ctx, id)
		switch st := status.Convert(err); {
		case err == nil:
			log.Info("Epoch initialization completed on " + addr)
			return panicked{}
		case st.Code() == codes.Unavailable:
			if i%10 == 0 {
				log.Info(fmt.Sprintf("Waiting for epoch initialization on %s... (%d/%d)", addr, i, maxRetries))
			}
		default:
			return panicked{"core/service/src/bin/kms-init.rs:80:25", fmt.Sprintf("Epoch initialization failed on %s: %s - %s", addr, tonic.Description(st.Code()), st.Message())}
		}
	}
	return panicked{"core/service/src/bin/kms-init.rs:88:13", fmt.Sprintf("Epoch initialization timed out on %s after %ds", addr, maxRetries)}
}
