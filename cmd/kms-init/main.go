// Command kms-init sets up PRSS (a new MPC epoch) on every party at once.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/tss"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		addresses []string
		epochID   string
		timeout   time.Duration
		poll      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "kms-init --addresses http://host:50100 [--addresses ...]",
		Short: "Set up PRSS (a new MPC epoch) on all parties at once",
		Long: `kms-init starts the PRSS set-up of an epoch on every party at once
(NewMpcEpoch), then polls each party's GetEpochResult every second until all
have finished, for at most --timeout. Give it every party of the cluster: the
set-up needs all of them, and fails, naming the parties it waited for, when
one is unreachable.

It exits 0 when every party holds the epoch (also when all already did), and
1 naming each party that failed or timed out. An epoch that exists on some
parties but not others cannot be set up again under the same id: remove it
everywhere, or pass a new --epoch-id.`,
		Example: `  kms-init --addresses \
    http://kms-party-1:50100 \
    http://kms-party-2:50100 \
    http://kms-party-3:50100 \
    http://kms-party-4:50100
  kms-init --epoch-id $(head -c32 /dev/urandom | xxd -p -c64) --addresses ...`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// The real kms-init takes "--addresses a b c" (the guide's form):
		// the words after the flag are addresses too.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			addresses = append(addresses, args...)
			if len(addresses) == 0 {
				return errors.New("no --addresses given")
			}
			if !tss.ValidID(epochID) {
				return fmt.Errorf("--epoch-id must be 64 hex characters, got %q", epochID)
			}
			// A zero poll would spin on every party; a zero timeout would
			// fail before asking anyone.
			if poll <= 0 {
				return fmt.Errorf("--poll must be positive, got %s", poll)
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout must be positive, got %s", timeout)
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			fmt.Printf("Initialising PRSS epoch %s on %d parties (timeout %s)\n", epochID, len(addresses), timeout)
			done := 0
			outcomes := client.InitEpoch(ctx, addresses, epochID, poll, func(o client.EpochOutcome) {
				done++
				state := "done"
				if o.Err != nil {
					state = "FAILED: " + o.Err.Error()
				}
				fmt.Printf("  [%d/%d] %s %s (%s)\n", done, len(addresses), o.Endpoint, state, o.Took.Round(time.Millisecond))
			})
			failed, existed := client.Summarise(outcomes)
			if existed {
				fmt.Printf("Epoch %s already exists on all %d parties: nothing to do\n", epochID, len(addresses))
				return nil
			}
			if len(failed) > 0 {
				msg := fmt.Sprintf("PRSS initialisation failed on %d of %d parties:", len(failed), len(addresses))
				for _, o := range failed {
					msg += fmt.Sprintf("\n  %s: %v", o.Endpoint, o.Err)
				}
				return errors.New(msg)
			}
			fmt.Printf("PRSS epoch %s initialised on all %d parties\n", epochID, len(addresses))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&addresses, "addresses", nil, "API endpoint of a party, http://host:port (repeat, or comma-separate)")
	f.StringVar(&epochID, "epoch-id", material.DefaultEpochID, "id of the epoch to create (64 hex characters)")
	f.DurationVar(&timeout, "timeout", 120*time.Second, "give up after this long")
	f.DurationVar(&poll, "poll", time.Second, "how often to poll each party")
	return cmd
}
