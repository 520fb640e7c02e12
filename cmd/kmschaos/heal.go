package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/guard"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/lever"
	"github.com/kmschaos/kmschaos/harness/manual"
)

func healCmd() *cobra.Command {
	var run, at string
	var all bool
	var grace time.Duration
	c := &cobra.Command{
		Use:   "heal (ID | --all) [--run ID]",
		Short: "Undo a fault injected by hand, or every fault (--all)",
		Long: `heal ID undoes one fault 'kmschaos inject' injected (ids: 'kmschaos status'),
from the cluster alone: it needs nothing of the process that injected it.

heal --all is the kill switch: it returns the whole cluster to its baseline
at once — every link enabled and without toxics, every party running
unpaused with its baseline resources, config and key material (restored
byte for byte from the golden copy), every party Optimal — whatever made
it drift, by hand or not, and forgets every fault injected by hand.`,
		Example: `  kmschaos heal latency-3f9a1c
  kmschaos heal --all --run 5e1f0a2b`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if at != "" {
				return healAt(ctx, run, args, at, grace)
			}
			switch {
			case all && len(args) > 0:
				return badInputf("give a fault id or --all, not both")
			case !all && len(args) == 0:
				return badInputf("give the id of a fault to heal ('kmschaos status' lists them), or --all")
			}
			start := time.Now()
			c, err := attach(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if !all {
				r, err := manual.Heal(ctx, c, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "healed %s: %s\n", r.ID, r.Name)
				return nil
			}
			rep, forgot, err := manual.HealAll(ctx, c)
			for _, r := range forgot {
				fmt.Fprintf(w, "healed %s: %s\n", r.ID, r.Name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "cluster %s is back to its baseline, every party Optimal (%s; repaired: %s)\n", c.RunID, time.Since(start).Round(time.Millisecond), rep)
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "return the whole cluster to its baseline (the kill switch)")
	c.Flags().StringVar(&at, "at", "", "wait until this time (RFC 3339), then heal the fault if it is still there (what 'inject --for' runs)")
	_ = c.Flags().MarkHidden("at")
	durationFlag(c.Flags(), &grace, "grace", 0, true, "with --at: the guard's grace for more than t parties out of reach (0: off)")
	_ = c.Flags().MarkHidden("grace")
	runFlag(c, &run)
	return c
}

// healAt is the background heal of 'inject --for': until the fault's
// expiry it watches the guard rails (lever.Watch: a tripped one halts
// the cluster and heals everything); at the expiry it heals the fault,
// and if the fault is still on then, the deadline rail halts. It gives up
// as soon as the cluster is gone.
func healAt(ctx context.Context, run string, args []string, at string, grace time.Duration) error {
	when, err := time.Parse(time.RFC3339Nano, at)
	if err != nil || len(args) != 1 || run == "" {
		return badInputf("--at needs a time (RFC 3339), a fault id and --run")
	}
	b, err := backend(ctx)
	if err != nil {
		return err
	}
	c, err := b.Attach(ctx, run)
	if err != nil {
		return nil // the cluster is gone (down, swept): nothing is left to expire
	}
	wctx, cancel := context.WithDeadline(ctx, when)
	defer cancel()
	h, err := lever.Watch(wctx, c, guard.Limits{T: c.Topology.T, Grace: grace})
	switch {
	case err != nil:
		if runs, rerr := b.Runs(ctx); rerr == nil && !runs.Has(run) {
			return nil // the cluster is gone, and its faults with it
		}
		return err
	case h != nil || ctx.Err() != nil:
		return nil // halted: the lever healed everything
	}
	_, err = manual.Expire(ctx, c, time.Now())
	if err == nil {
		return nil
	}
	// The deadline rail: the fault is still on past its --for.
	_, perr := lever.Pull(ctx, c, guard.DeadlineCause(when, 1)+" ("+oneLine(err.Error())+")", halt.ByGuard, time.Now())
	return errors.Join(err, perr)
}
