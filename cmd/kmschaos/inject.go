package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/guard"
	"github.com/kmschaos/kmschaos/harness/manual"
)

func injectCmd() *cobra.Command {
	var run, link string
	var party int
	var params []string
	var req manual.Request
	var grace time.Duration
	c := &cobra.Command{
		Use:   "inject KIND [--party N | --link I-J] [--param k=v]... [--for DURATION [--grace D]] [--beyond-threshold]",
		Short: "Inject one fault by hand into a running cluster and print its id",
		Long: `inject injects one fault of a kind 'kmschaos faults' lists into the cluster
(--run, or the only one running) and prints its id on stdout. The fault is
recorded in the cluster itself, so any later kmschaos finds it: 'status'
shows it, 'heal ID' undoes it, 'heal --all' returns the cluster to its
baseline. With --for it heals itself when the time is up (a background
kmschaos waits for it; should that one be killed, the next kmschaos
command that attaches heals it).

A fault with --for is watched by guard rails until it heals: every fault
on the cluster is halted at once ('kmschaos halt': healed, and no new one
injected until 'kmschaos unhalt') when more than t parties are out of
reach for longer than --grace (90s; off with --beyond-threshold unless
given: failing closed is then the point), when a wrong decryption is seen,
or when the fault is still on past its --for. On a halted cluster inject
is refused: exit 3, one line naming the halt.

The fault budget is t parties: a fault that would bring the parties
touched by the active faults beyond t is refused unless --beyond-threshold
says it is meant (the cluster is then expected to fail closed).

Bad input — an unknown kind, a party out of range, a link to itself, over
the budget — exits 2 with one line, and nothing is injected.`,
		Example: `  kmschaos inject kill --party 2 --for 2m
  kmschaos inject link-hang --link 1-3
  kmschaos inject latency --party 4 --param latency=800ms --param jitter=100ms
  id=$(kmschaos inject pause --party 1) && kmschaos heal "$id"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Kind, req.Party = args[0], party
			// What needs no cluster is checked before attaching to one.
			if _, ok := fault.LookupKind(req.Kind); !ok {
				return badInputf("unknown fault kind %q: did you mean %q? ('kmschaos faults' lists them)", req.Kind, fault.Closest(req.Kind))
			}
			var err error
			if link != "" {
				if req.Link, err = parseLink(link); err != nil {
					return err
				}
			}
			req.Params = map[string]string{}
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return badInputf("--param %q: write name=value", p)
				}
				req.Params[k] = v
			}
			if cmd.Flags().Changed("grace") && req.For == 0 {
				return badInputf("--grace watches a fault with --for: give --for too (a fault until healed has no watcher)")
			}
			if req.BeyondThreshold && !cmd.Flags().Changed("grace") {
				grace = 0
			}
			ctx := cmd.Context()
			c, err := attach(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			r, err := manual.Inject(ctx, c, req, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), r.ID)
			until := "until healed"
			if !r.ExpiresAt.IsZero() {
				until = "until " + r.ExpiresAt.Local().Format(time.TimeOnly)
				if err := healLater(c.RunID, r, grace); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: no background heal (%v); the next kmschaos command after %s heals it\n", err, until)
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "injected %s: %s, %s. Undo: kmschaos heal %s --run %s%s\n", r.ID, r.Name, until, r.ID, c.RunID, be.Flags())
			return nil
		},
	}
	countFlag(c.Flags(), &party, "party", "p", 0, "the party to fault (1 to n)")
	c.Flags().StringVarP(&link, "link", "l", "", "the directed peer link I-J to fault: party I's connection to party J")
	c.Flags().StringArrayVar(&params, "param", nil, "a parameter of the kind, name=value (see 'kmschaos faults')")
	durationFlag(c.Flags(), &req.For, "for", 0, true, "heal the fault after this long (default: until healed)")
	durationFlag(c.Flags(), &grace, "grace", guard.DefaultGrace, true, "with --for: halt when more than t parties are out of reach longer than this (0: never)")
	c.Flags().BoolVar(&req.BeyondThreshold, "beyond-threshold", false, "allow faulting more than t parties in all")
	runFlag(c, &run)
	return c
}

// parseLink reads I-J.
func parseLink(s string) ([2]int, error) {
	a, b, ok := strings.Cut(s, "-")
	i, err1 := strconv.Atoi(a)
	j, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return [2]int{}, badInputf("--link %q: write I-J, e.g. 1-3 for party 1's link to party 3", s)
	}
	if i == j {
		return [2]int{}, badInputf("--link %s is a link to itself: a party has no link to itself", s)
	}
	return [2]int{i, j}, nil
}

// healLater starts a detached kmschaos that watches the guard rails
// (grace) while the fault is on and heals it when its --for runs out,
// and outlives this one. It keeps no file: it finds the
// fault in the cluster at that time, or finds it healed already.
func healLater(run string, r manual.Record, grace time.Duration) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	// The same backend flags as this command: the heal must reach the same cluster.
	cmd := exec.Command(exe, append([]string{"heal", r.ID, "--run", run, "--at", r.ExpiresAt.Format(time.RFC3339Nano), "--grace", grace.String()}, be.Args()...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
