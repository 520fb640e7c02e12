package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/guide"
	"github.com/kmschaos/kmschaos/harness/literal"
	"github.com/kmschaos/kmschaos/harness/secrets"
)

type guideRunOpts struct {
	guide, mapping, run string
	party               int
	blocks              []string
	limit               time.Duration
	output              bool
}

func guideRunCmd() *cobra.Command {
	o := guideRunOpts{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "run the guide's shell blocks as written on a party's host of a running cluster",
		Long: `Runs each shell block of the guide (every one, or those --block names) through
bash in an operator's toolbox on a party's host: a container that shares the
party's network and process namespaces, mounts its volumes where the party
sees them and drives the engine with the docker CLI. The guide's names are
resolved by the mapping table (--mapping); every command it touches is shown
as mapped, with the reason. A block holding text the table marks unsafe
(docker system prune) never runs; one with a <placeholder> the table does not
map is refused. The cluster is one 'kmschaos up --detach' started (--run, or
the only one running); what a block changes stays changed: 'kmschaos heal
--all' returns the cluster to its baseline.

Each command is reported: ran, failed (exit status and error), bad option
(the tool lacks an option the guide uses), tool absent (with the table's
reason), needs a tty, privileges, interrupted (still running at --limit),
not reached, unsafe. Output is redacted of the cluster's secrets.

Exit status: 0 when every command ran, 1 when one did not, 2 on bad input.

Examples:
  kmschaos guide run --party 3
  kmschaos guide run --party 3 --block "Advanced Diagnostics > Memory Analysis > block 1" --show-output`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			code, err := runGuideRun(c.Context(), o, c.OutOrStdout(), c.ErrOrStderr())
			if err != nil {
				return err
			}
			if code != 0 {
				os.Exit(code)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.guide, "guide", "fixtures/guide/troubleshooting-guide.md", "the guide")
	cmd.Flags().StringVar(&o.mapping, "mapping", "fixtures/guide/mapping.yaml", "the mapping table: the guide's names on this cluster")
	countFlag(cmd.Flags(), &o.party, "party", "", 1, "the party whose host the blocks run on")
	cmd.Flags().StringArrayVar(&o.blocks, "block", nil, "a block's address (repeatable; default: every shell block)")
	durationFlag(cmd.Flags(), &o.limit, "limit", literal.DefaultLimit, false, "how long a block may run (docker events streams until stopped)")
	cmd.Flags().BoolVar(&o.output, "show-output", false, "print each block's standard output")
	runFlag(cmd, &o.run)
	return cmd
}

func runGuideRun(ctx context.Context, o guideRunOpts, stdout, stderr io.Writer) (int, error) {
	g, err := guide.ParseFile(o.guide)
	if err != nil {
		return 0, inputErr(err)
	}
	m, err := literal.LoadMapping(o.mapping)
	if err != nil {
		return 0, inputErr(err)
	}
	var blocks []*guide.Node
	if len(o.blocks) == 0 {
		blocks = literal.ShellBlocks(g)
	}
	for _, a := range o.blocks {
		b := g.Lookup(a)
		if b == nil || b.Kind != guide.KindBlock {
			return 0, badInputf("%s: no code block at %q (kmschaos guide check lists the addresses)", o.guide, a)
		}
		blocks = append(blocks, b)
	}
	c, err := attach(ctx, o.run, stderr)
	if err != nil {
		return 0, err
	}
	if o.party > c.Topology.N {
		return 0, badInputf("--party %d: the cluster has parties 1..%d", o.party, c.Topology.N)
	}
	// Refuse before running anything: a block the table cannot resolve.
	for _, b := range blocks {
		if _, err := literal.Prepare(g, b, m, literal.PartyVars(c, o.party)); err != nil {
			return 0, inputErr(err)
		}
	}
	tracked, err := secrets.Track(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("reading the cluster's secrets to redact output: %w", err)
	}
	defer tracked.Stop()
	// secrets.Mask masks what the tracker knows when it is called: the
	// secrets a block made too, once the cluster's storage was read since.
	r := &literal.Runner{C: c, Guide: g, Mapping: m, Options: literal.Options{Limit: o.limit, Redact: secrets.Mask}}
	code := 0
	for _, b := range blocks {
		fmt.Fprintf(stderr, "running %s (line %d) on party %d's host…\n", b.Address, b.Line, o.party)
		out, err := r.Block(ctx, o.party, b.Address)
		if err != nil {
			return 0, err
		}
		printOutcome(stdout, out, o.output)
		if out.Status != literal.Ran {
			code = 1
		}
	}
	return code, nil
}

func printOutcome(w io.Writer, o *literal.Outcome, output bool) {
	fmt.Fprintf(w, "\n%s (line %d), party %d: %s", o.Address, o.Line, o.Party, o.Status)
	if o.Took > 0 {
		fmt.Fprintf(w, " in %s", o.Took.Round(100*time.Millisecond))
	}
	if o.Why != "" {
		fmt.Fprintf(w, ": %s", o.Why)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, l := range o.Lines {
		why := l.Why
		if l.Status == literal.Failed && why == "" {
			why = fmt.Sprintf("exit %d", l.Exit)
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", l.Status, l.Line, clipLine(l.Text, 70), clipLine(why, 120))
		for _, u := range l.Mapped {
			fmt.Fprintf(tw, "  \t\t  mapped: %s → %s\t(%s)\n", u.Guide, clipLine(u.Cluster, 50), clipLine(u.Why, 90))
		}
	}
	tw.Flush()
	if output && strings.TrimSpace(o.Stdout) != "" {
		fmt.Fprintf(w, "  output:\n    %s\n", strings.ReplaceAll(strings.TrimRight(o.Stdout, "\n"), "\n", "\n    "))
	}
}

// clipLine is s on one line (oneLine), at most n runes.
func clipLine(s string, n int) string {
	r := []rune(oneLine(s))
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return string(r)
}

// inputErr makes a guide or mapping error exit 2, keeping its file:line.
func inputErr(err error) error {
	var ie *guide.InputError
	if errors.As(err, &ie) || errors.Is(err, os.ErrNotExist) {
		return inputError{err.Error()}
	}
	return err
}
