package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/lever"
)

// exitHalted is the exit status of an injection refused because the
// cluster is halted: not bad input (the request may be right), not a
// failure of the cluster; a script tells it apart and waits for unhalt.
const exitHalted = 3

func isHalted(err error) bool {
	var h *halt.Error
	return errors.As(err, &h)
}

func haltCmd() *cobra.Command {
	var run, cause string
	c := &cobra.Command{
		Use:   `halt [--cause "why"] [--run ID]`,
		Short: "The safety lever: heal everything now and refuse new faults until unhalt",
		Long: `halt pulls the safety lever of the cluster (--run, or the only one running):

  1. it records the halt in the cluster — its cause, time and who pulled it —
     so that every process that injects refuses from now on: 'inject',
     'gameday start', a game day's next hidden fault, 'run' (exit 3, one
     line naming the halt);
  2. it heals everything at once, as 'heal --all' does: every link, party,
     resource limit and key object back to the baseline, every fault by hand
     forgotten;
  3. a game day running on the cluster ends: its background process sees
     the halt at its next tick, and its report says HALTED with the cause.
     Should that process be gone, halt ends the game day itself (as the
     facilitator, who can read its key; anyone else's halt leaves that to
     the facilitator's next 'gameday status'). A 'kmschaos run' in progress
     stops its scenario, heals and exits 3.

The guard rails pull the same lever on their own ('gameday start', 'run'
and 'inject --for' take --grace): more than t parties out of reach for
longer than the grace, a wrong decryption, a deadline passed with a fault
still on. 'status' and 'gameday status' show a halt; 'unhalt' lifts it.

Halting a halted cluster heals it again and keeps the first cause. No
cluster to attach to exits 2 and changes nothing.`,
		Example: `  kmschaos halt --cause "party 3's host is being replaced for real"
  kmschaos halt --run 5e1f0a2b
  kmschaos unhalt --run 5e1f0a2b`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			start := time.Now()
			c, err := attach(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			p, err := lever.Pull(ctx, c, cause, halt.ByPerson, time.Now())
			w := cmd.OutOrStdout()
			if p.Already {
				fmt.Fprintf(w, "cluster %s was already %s; healed again\n", c.RunID, p.Halt)
			} else if p.Cause != "" {
				fmt.Fprintf(w, "cluster %s %s\n", c.RunID, p.Halt)
			}
			for _, r := range p.Manual {
				fmt.Fprintf(w, "healed %s: %s\n", r.ID, r.Name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "healed everything: the cluster is back to its baseline (repaired: %s)\n", p.Repaired)
			switch {
			case p.GameDay == "":
			case p.GameDayEnded:
				fmt.Fprintf(w, "game day %s ended, halted; its report says so\n", p.GameDay)
			default:
				fmt.Fprintf(w, "game day %s: %s\n", p.GameDay, p.GameDayNote)
			}
			fmt.Fprintf(w, "no fault is injected on cluster %s until 'kmschaos unhalt --run %s%s' (%s)\n", c.RunID, c.RunID, be.Flags(), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	c.Flags().StringVar(&cause, "cause", "halted by hand", "why: shown by status, the live view and the game day's report")
	runFlag(c, &run)
	return c
}

func unhaltCmd() *cobra.Command {
	var run string
	c := &cobra.Command{
		Use:   "unhalt [--run ID]",
		Short: "Lift the halt: faults may be injected again",
		Long: `unhalt lifts the halt 'kmschaos halt' or a guard rail put on the cluster
(--run, or the only one running): 'inject', 'gameday start' and 'run' are
allowed again. It heals nothing and injects nothing; a game day the halt
ended stays ended (start a new one).

On a cluster that is not halted it says so and exits 0: what was asked
holds. No cluster to attach to exits 2.`,
		Example: `  kmschaos unhalt
  kmschaos unhalt --run 5e1f0a2b`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := attach(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			h, err := halt.Current(ctx, c)
			if err != nil {
				return err
			}
			if h == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "cluster %s is not halted: nothing to lift\n", c.RunID)
				return nil
			}
			if err := halt.Lift(ctx, c); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s: halt lifted (it was %s); faults may be injected again\n", c.RunID, h)
			return nil
		},
	}
	runFlag(c, &run)
	return c
}
