package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/manual"
)

// runFlag adds --run, the cluster a command attaches to.
func runFlag(c *cobra.Command, run *string) {
	c.Flags().StringVar(run, "run", "", "run id of the cluster (default: the only one running; see 'kmschaos ls')")
}

// attach attaches to the cluster and heals what is overdue first, so
// every command sees a cluster whose faults by hand have not outlived
// their --for, even when the process that was to heal one was killed.
func attach(ctx context.Context, run string, stderr io.Writer) (*cluster.Cluster, error) {
	c, err := attachTo(ctx, run)
	if err != nil {
		return nil, err
	}
	healed, err := manual.Expire(ctx, c, time.Now())
	for _, r := range healed {
		fmt.Fprintf(stderr, "healed %s (%s): its --for ran out at %s\n", r.ID, r.Name, r.ExpiresAt.Local().Format(time.TimeOnly))
	}
	return c, err
}
