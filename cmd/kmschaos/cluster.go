package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/oracle"
)

func progress(start time.Time) func(string) {
	return func(msg string) { fmt.Printf("[%6.1fs] %s\n", time.Since(start).Seconds(), msg) }
}

func upCmd() *cobra.Command {
	var n, t int
	var detach, keep bool
	c := &cobra.Command{
		Use:   "up [--parties 13 --threshold 4] [--detach] [--keep-images]",
		Short: "Bring up a cluster and keep it until Ctrl-C",
		Long: `up builds the images if needed, brings up a cluster, checks that every party
reports Optimal and that a value decrypts right, prints how to reach it, and
keeps it until Ctrl-C, when it removes every container, network, volume and
image it made (--keep-images keeps the images for the next run). With
--detach it returns and leaves the cluster running, printing its run id
on the last line: 'kmschaos status', 'inject' and 'heal' attach to it (by
--run <id>, or as the only cluster running), and 'kmschaos down --run <id>'
removes it. The cluster keeps its baseline in itself, so any process can
reset and audit it. A cluster left by a killed 'up' is swept by the
next run, or by 'kmschaos sweep'.`,
		Example: `  kmschaos up
  kmschaos up --parties 4 --threshold 1 --detach`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := (cluster.Topology{N: n, T: t}).Validate(); err != nil {
				return badInputf("--parties %d --threshold %d: %v", n, t, err)
			}
			start := time.Now()
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			opts := []cluster.Option{cluster.WithTopology(n, t)}
			if detach {
				opts = append(opts, cluster.WithDetached())
			}
			if keep {
				opts = append(opts, cluster.WithKeptImages())
			}
			b, err := backend(ctx)
			if err != nil {
				return err
			}
			c, err := b.Start(ctx, append(opts, cluster.WithProgress(progress(start)))...)
			if err != nil {
				return err
			}
			if err := demo(ctx, c); err != nil {
				_ = c.Terminate(context.Background())
				return err
			}
			if detach {
				// The last line is the run id alone, for scripts:
				// run=$(kmschaos up --detach | tail -1).
				fmt.Printf("\nDetached: the cluster keeps running, and any kmschaos attaches to it with --run %s%s\n(status, inject, heal). Remove it with: kmschaos down --run %s%s\n%s\n", c.RunID, be.Flags(), c.RunID, be.Flags(), c.RunID)
				return nil
			}
			fmt.Println("\nThe cluster runs until Ctrl-C.")
			<-ctx.Done()
			fmt.Println("\nRemoving the cluster...")
			tctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			return c.Terminate(tctx)
		},
	}
	c.Flags().IntVar(&n, "parties", 13, "number of parties n (n = 3t+1)")
	c.Flags().IntVar(&t, "threshold", 4, "threshold t")
	c.Flags().BoolVar(&detach, "detach", false, "return and leave the cluster running")
	c.Flags().BoolVar(&keep, "keep-images", false, "keep the images on the engine when the cluster is removed")
	return c
}

// demo proves the cluster works and tells the user how to reach it.
func demo(ctx context.Context, c *cluster.Cluster) error {
	value := uint64(time.Now().UnixNano() % 1_000_000)
	r, err := oracle.Decrypt(ctx, c, oracle.Request{Party: 1, By: "kmschaos up", Value: &value, Timeout: 30 * time.Second})
	if oracle.IsWrong(err) {
		return fmt.Errorf("the cluster is WRONG, do not use it: %w", err)
	}
	if err != nil {
		return fmt.Errorf("demo decryption: %w", err)
	}
	d := r.Decryption
	p := c.Party(1)
	fmt.Printf(`
Cluster %s: %d parties, threshold %d, every party Optimal.
Decrypted %d through party 1 (contributing parties %v).

  party 1 API (through its client proxy):  %s
  party 1 metrics:                          %s
  toxiproxy API:                            %s
  network:                                  %s

Try:
  %s
  %s
`, c.RunID, c.Topology.N, c.Topology.T, value, d.Response.GetPayload().GetContributingParties(),
		p.Endpoint(), p.MetricsURL(), c.Mesh().Addr(), c.NetworkName(), c.OperatorCommand(1, "exec", "kms-health-check live --endpoint localhost:50100"),
		c.OperatorCommand(1, "logs", ""))
	return nil
}

func downCmd() *cobra.Command {
	var run string
	var keep bool
	c := &cobra.Command{
		Use:   "down --run <id> [--keep-images]",
		Short: "Remove a cluster left running by 'up --detach'",
		Long: `down removes the run's containers, networks and volumes, and the images
its containers ran unless --keep-images (an image another run's container
uses stays). A run id the engine has nothing of is refused (exit 2), and
nothing is removed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if run == "" {
				return badInputf("--run is required: see 'kmschaos ls'")
			}
			b, err := backend(cmd.Context())
			if err != nil {
				return err
			}
			removed, err := b.Remove(cmd.Context(), run, keep)
			if removed != "" {
				fmt.Printf("removed %s\n", removed)
			}
			return err
		},
	}
	c.Flags().StringVar(&run, "run", "", "run id of the cluster")
	c.Flags().BoolVar(&keep, "keep-images", false, "keep the run's images (those another cluster uses are always kept)")
	return c
}

func sweepCmd() *cobra.Command {
	var all, images bool
	c := &cobra.Command{
		Use:   "sweep [--all] [--images]",
		Short: "Remove what killed runs left behind",
		Long: `sweep removes the containers, networks and volumes labelled by kmschaos
whose creating process is gone (a killed run). --all removes those of live
runs too; --images also removes the cached images. Only resources labelled
org.kmschaos are ever touched. With --backend kubernetes it removes the
namespaces (with their volumes' contents) of runs whose process is gone,
or of every run with --all; only namespaces labelled
app.kubernetes.io/managed-by=kmschaos are touched. It also removes the
folders of the harness in the temp dir (kmschaos-images-* build contexts,
kmschaos-chart-* chart copies) whose maker is gone, at once: the maker
holds a lock on its folder for its life. A folder without the maker's
owner file (an older version's, like the kmschaos-golden-* key folders)
goes once older than two hours.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := backend(cmd.Context())
			if err != nil {
				return err
			}
			removed, err := b.Sweep(cmd.Context(), all, images)
			fmt.Printf("removed %s\n", removed)
			return err
		},
	}
	c.Flags().BoolVar(&all, "all", false, "also remove the resources of runs still alive")
	c.Flags().BoolVar(&images, "images", false, "also remove the cached images")
	return c
}

func lsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List kmschaos clusters on this engine (or, with --backend kubernetes, on the cluster)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := backend(cmd.Context())
			if err != nil {
				return err
			}
			runs, err := b.Runs(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, strings.Join(append([]string{"RUN", "OWNER"}, runs.Columns...), "\t"))
			for _, r := range runs.Runs {
				fmt.Fprintln(w, strings.Join(append([]string{r.ID, r.Owner}, r.Values...), "\t"))
			}
			return w.Flush()
		},
	}
}

func imagesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "images",
		Short: "Build the party and toxiproxy images, or reuse them when unchanged",
		Long: `images builds the party, toxiproxy and toolbox images on the Docker engine,
or reuses them when their sources are unchanged. With --backend kubernetes it
also imports them into the local cluster's containerd (make k8s-up), where
pods find them without a registry; for a cluster of your own, push them to
the registry its nodes pull from.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := backend(cmd.Context())
			if err != nil {
				return err
			}
			im, err := b.Images(cmd.Context(), progress(time.Now()))
			if err != nil {
				return err
			}
			fmt.Printf("party:     %s\ntoxiproxy: %s\ntoolbox:   %s\n", im.Party, im.Toxiproxy, im.Toolbox)
			return nil
		},
	}
}
