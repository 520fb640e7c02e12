package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/gameday"
	"github.com/kmschaos/kmschaos/harness/guard"
	"github.com/kmschaos/kmschaos/harness/results"
)

func gamedayCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "gameday",
		Short: "A timed game day: hidden faults, diagnoses scored against the truth, a report",
		Long: `A game day breaks the running cluster in ways the players are not told and
scores how they find and fix it.

The facilitator starts it ('gameday start'): K faults are drawn from the
fault kinds table ('kmschaos faults') within the fault budget (t parties)
from the seed, and injected one every --every while a background workload
decrypts through every party and the key material is compared with the
baseline. The truth goes into a sealed file only its owner can read, and
into the cluster's keeper encrypted (AES-256-GCM) under a key drawn for
this game day that exists only in the facilitator's file beside it,
gameday-ID.key (mode 0600). The keeper shows the players (who can read it
with docker) only the game day's id, start, background process and end.
What needs the truth — the background process, 'gameday status',
'reveal', 'end', 'abort' — reads that key: run them as the facilitator
who started the game day; anyone else gets exit 2.

The players see what an operator sees — 'kmschaos status', the guide's
commands on the live cluster — and say what they found with 'gameday
diagnose --party N --kind KIND'. It is recorded as said, with its time,
and told neither right nor wrong: the report scores it against the truth
(right party, right kind, at that time). They repair with the guide's
procedures, e.g. 'kmschaos runbook run', and escalate to the network
coordinator what is not an operator's to fix ('gameday escalate', which
the harness answers standing for the coordinator). The harness watches for the
recovery (the fault's trace gone from the audit, every party Optimal,
right decryptions, key material intact) and records its time; a fault
still on --limit after its injection is healed by the harness and
reported "not recovered".

'gameday end' heals what is left, writes the report — per fault: time to
the first right diagnosis, wrong diagnoses, time to recovery and who
recovered it, operations ok/failed/wrong; every wrong decryption, whoever
saw it (the workload, the harness's checks, the players' runbooks); key
material; what is left — as text, JSON and an HTML timeline with the
players' own lane, and exits 1 if anything saw a wrong value. 'gameday
abort' heals everything at once.

'gameday serve' opens the live view in the browser: the players' page
(what an operator sees) and the facilitator's (the truth, a HALT),
behind a URL with a token only the facilitator gets.

'start' leaves a background kmschaos ('gameday run', its log beside the
report) that injects, watches and heals. Everything but the key lives
with the cluster: a shell that is killed loses nothing, and the
facilitator's 'gameday status' from a new one continues (and restarts the
background process if it died).`,
	}
	c.AddCommand(gamedayStartCmd(), gamedayRunCmd(), gamedayStatusCmd(), gamedayDiagnoseCmd(), gamedayEscalateCmd(), gamedayRevealCmd(),
		gamedayEndCmd(false), gamedayEndCmd(true), gamedayServeCmd())
	return c
}

func gamedayStartCmd() *cobra.Command {
	var run, dir, kinds, db string
	var tags []string
	var o gameday.Options
	c := &cobra.Command{
		Use:   "start --seed S [--faults K] [--every D] [--limit D] [--grace D] [--kinds K1,K2] [--report DIR] [--tag K=V]...",
		Short: "Draw the hidden faults and start the game day",
		Long: `start draws the hidden faults from the seed and starts the game day's
background process (see 'kmschaos gameday --help').

Guard rails: the game day halts — every fault healed at once, the game day
ended, its report saying HALTED and why — when more than t parties are out
of reach (the background workload cannot decrypt through them) for longer
than --grace, when anything sees a wrong decryption, or when the last
fault is past its --limit and something is still on. 'kmschaos halt' pulls
the same lever by hand. On a halted cluster start is refused (exit 3).

When it ends, the game day is recorded in the results store (--db,
KMSCHAOS_DB, else the default file; 'kmschaos history --section "game
day"'): one row per hidden fault, 'game day: KIND', with the players' TTD
(their first right diagnosis) and TTR (injection to their recovery),
passed when they recovered it and nothing saw a wrong value. The store is
checked here, before anything starts.`,
		Example: `  kmschaos gameday start --seed 42 --faults 3 --every 5m --limit 20m
  kmschaos gameday start --seed 7 --faults 1 --every 30s --limit 10m --kinds kill,pause,latency`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("seed") {
				o.Seed = rand.Uint64() % 1_000_000_000
			}
			if kinds != "" {
				o.Kinds = strings.Split(kinds, ",")
			}
			if err := writableDir("--report", dir); err != nil {
				return err
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			o.Dir, o.Backend = abs, be.Args()
			o.On.Backend = be.Name // the volumes are known once attached: Begin checks again
			if err := o.Check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			// The store is checked now; the game day's end records it.
			rec, err := beginRecording(ctx, db, tags)
			if err != nil {
				return err
			}
			o.Results, o.Labels = results.Where(db), rec.Labels()
			if err := rec.Close(); err != nil {
				return err
			}
			c, err := attach(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			s, err := gameday.Start(ctx, c, o, time.Now())
			if err != nil {
				return err
			}
			files := s.Files()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "game day %s started on cluster %s (seed %d): %d hidden fault(s), the first in %s, then one every %s; each healed by the harness %s after its injection if the players have not recovered it\n",
				s.ID, c.RunID, s.Seed, len(s.Faults), s.Every, s.Every, s.Limit)
			grace := "off"
			if s.Grace > 0 {
				grace = s.Grace.String()
			}
			fmt.Fprintf(w, "guard rails: halted at once on a wrong decryption, more than t=%d parties out of reach for longer than %s, or a fault still on past the last limit\n", c.Topology.T, grace)
			fmt.Fprintf(w, "the truth (facilitator only, mode 0600): %s\n", files.Sealed())
			fmt.Fprintf(w, "its key (facilitator only, mode 0600; status, reveal, end, abort and the background process read it): %s\n", files.Key())
			fmt.Fprintf(w, "background process log: %s\n", files.Log())
			fmt.Fprintf(w, "players: kmschaos status; kmschaos gameday diagnose --party N --kind KIND \"what you saw\"; kmschaos gameday escalate --party N \"what we ask\"\n")
			fmt.Fprintf(w, "facilitator: kmschaos gameday status | reveal | end | abort\n")
			return nil
		},
	}
	c.Flags().Uint64Var(&o.Seed, "seed", 0, "seed of the draw (default: random)")
	countFlag(c.Flags(), &o.Faults, "faults", "", 1, "how many hidden faults")
	durationFlag(c.Flags(), &o.Every, "every", 2*time.Minute, false, "time before the first fault and between two faults")
	durationFlag(c.Flags(), &o.Limit, "limit", 15*time.Minute, false, "after this long the harness heals a fault the players have not recovered")
	durationFlag(c.Flags(), &o.Grace, "grace", guard.DefaultGrace, true, "halt the game day when more than t parties are out of reach for longer than this (0: never)")
	c.Flags().StringVar(&kinds, "kinds", "", "draw only from these fault kinds, comma-separated (default: every kind the backend offers; 'kmschaos faults' says which)")
	c.Flags().StringVar(&dir, "report", "reports/gameday", "directory of the sealed file, the log and the report")
	dbFlag(c, &db)
	tagFlag(c, &tags)
	runFlag(c, &run)
	return c
}

// revive starts a new background process for a running game day whose
// process died, and says so.
func revive(c *cluster.Cluster, h *gameday.Header, w io.Writer) {
	if started, err := gameday.Revive(c, h, time.Now()); err != nil {
		fmt.Fprintf(w, "warning: the game day's background process is gone and could not be restarted: %v\n", err)
	} else if started {
		fmt.Fprintf(w, "the game day's background process had stopped (last seen %s ago): started a new one\n", time.Since(h.Heartbeat).Round(time.Second))
	}
}

func gamedayRunCmd() *cobra.Command {
	var run string
	c := &cobra.Command{
		Use:    "run --run ID",
		Short:  "The game day's background process ('start' starts it)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if run == "" {
				return badInputf("--run: the cluster of the game day")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			c, err := attachTo(ctx, run)
			if err != nil {
				return err
			}
			r := &gameday.Runner{C: c, Log: cmd.OutOrStdout()}
			return facilitatorOnly(r.Run(ctx), "run it")
		},
	}
	runFlag(c, &run)
	return c
}

// loadHeader attaches and reads the game day's public header, all a
// player's command needs.
func loadHeader(ctx context.Context, run string, stderr io.Writer) (*cluster.Cluster, *gameday.Header, error) {
	c, err := attach(ctx, run, stderr)
	if err != nil {
		return nil, nil, err
	}
	h, err := gameday.CurrentHeader(ctx, c)
	return c, h, err
}

// loadTruth attaches and reads the whole game day, with the key only the
// facilitator can read: doing is what the others may not.
func loadTruth(ctx context.Context, run string, stderr io.Writer, doing string) (*cluster.Cluster, *gameday.State, error) {
	c, err := attach(ctx, run, stderr)
	if err != nil {
		return nil, nil, err
	}
	s, err := gameday.Current(ctx, c)
	return c, s, facilitatorOnly(err, doing)
}

// facilitatorOnly is the one line, exit 2, of a user who cannot read the
// game day's key.
func facilitatorOnly(err error, doing string) error {
	var k *gameday.KeyError
	if errors.As(err, &k) {
		return badInputf("only the facilitator who started game day %s can %s: %s is not readable (%v)", k.ID, doing, k.Path, k.Err)
	}
	return err
}

func gamedayStatusCmd() *cobra.Command {
	var run string
	var out output
	c := &cobra.Command{
		Use:   "status [--output json]",
		Short: "Where the game day stands, without the faults (for the facilitator)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, s, err := loadTruth(ctx, run, cmd.ErrOrStderr(), "see how it stands")
			if err != nil {
				return err
			}
			revive(c, &s.Header, cmd.ErrOrStderr())
			st, err := gameday.StatusOf(ctx, c, s, time.Now())
			if err != nil {
				return err
			}
			if out.json() {
				return writeJSON(cmd.OutOrStdout(), st)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "game day %s on cluster %s: %s, %s since the start\n", s.ID, s.Run, st.State, seconds(st.ElapsedS).Round(time.Second))
			fmt.Fprintf(w, "hidden faults: %d of %d injected", st.Injected, st.Faults)
			if st.NextInS != nil {
				fmt.Fprintf(w, ", the next in %s", seconds(*st.NextInS).Round(time.Second))
			}
			fmt.Fprintf(w, "\ndiagnoses recorded: %d\n", st.Diagnoses)
			if st.Halt != nil {
				fmt.Fprintf(w, "HALTED at %s by %s: %s\n", st.Halt.At.Local().Format(time.DateTime), st.Halt.By, st.Halt.Cause)
			}
			if !s.Running() {
				fmt.Fprintf(w, "report: %s\n", s.Files().Text())
			}
			return nil
		},
	}
	outputFlag(c, &out)
	runFlag(c, &run)
	return c
}

// seconds is a duration the JSON output gives in seconds.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func gamedayDiagnoseCmd() *cobra.Command {
	var run, kind string
	var party int
	c := &cobra.Command{
		Use:   `diagnose --party N --kind KIND ["what you saw"]`,
		Short: "Record a player's diagnosis, with its time (scored at the end)",
		Long: `diagnose records what a player found: the party (for a link, either end)
and the fault kind ('kmschaos faults' lists them), with free text, as said:
this command cannot read the truth and does not score it. The report at
the end scores it against the hidden truth — right party and right kind at
the time it was said — with the time since the fault's injection.`,
		Example: `  kmschaos gameday diagnose --party 3 --kind kill "party 3 exited 137, restarts 0"`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if party < 1 || kind == "" {
				return badInputf("give --party N and --kind KIND ('kmschaos faults' lists the kinds)")
			}
			text := ""
			if len(args) == 1 {
				text = args[0]
			}
			ctx := cmd.Context()
			c, s, err := loadHeader(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			d, err := gameday.Diagnose(ctx, c, party, kind, text, time.Now())
			if err != nil {
				return err
			}
			if !s.Alive(time.Now()) {
				// Only the facilitator can start another: it reads the key.
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: the game day's background process has not been seen for %s: tell the facilitator ('kmschaos gameday status' restarts it)\n", time.Since(s.Heartbeat).Round(time.Second))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "recorded at +%s: party %d, %s (scored against the truth at the end)\n",
				d.At.Sub(s.Started).Round(100*time.Millisecond), d.Party, d.Kind)
			return nil
		},
	}
	countFlag(c.Flags(), &party, "party", "p", 0, "the party at fault (for a link, either end)")
	c.Flags().StringVarP(&kind, "kind", "k", "", "the fault kind (see 'kmschaos faults')")
	runFlag(c, &run)
	return c
}

func gamedayRevealCmd() *cobra.Command {
	var run string
	var out output
	c := &cobra.Command{
		Use:   "reveal [--output json]",
		Short: "Print the hidden truth (for the facilitator)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			_, s, err := loadTruth(ctx, run, cmd.ErrOrStderr(), "reveal it")
			if err != nil {
				return err
			}
			if out.json() {
				return writeJSON(cmd.OutOrStdout(), s.Faults)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "game day %s (seed %d): %d hidden fault(s)\n", s.ID, s.Seed, len(s.Faults))
			for i, f := range s.Faults {
				when := fmt.Sprintf("due at +%s", f.At)
				if !f.InjectedAt.IsZero() {
					when = fmt.Sprintf("injected at +%s", f.InjectedAt.Sub(s.Started).Round(time.Millisecond))
				}
				how := "on"
				switch {
				case f.InjectedAt.IsZero():
					how = "not injected yet"
				case f.RecoveredBy == gameday.ByPlayers || f.RecoveredBy == gameday.ByCoordinator:
					how = fmt.Sprintf("recovered by %s after %s", gameday.Who(f.RecoveredBy), f.RecoveredAt.Sub(f.InjectedAt).Round(time.Millisecond))
				case f.RecoveredBy == gameday.ByHarness:
					how = fmt.Sprintf("healed by the harness after %s", f.RecoveredAt.Sub(f.InjectedAt).Round(time.Millisecond))
				}
				fmt.Fprintf(w, "  %d. %s on %s: %s; %s; %s\n", i+1, f.Kind, f.Target(), f.Name, when, how)
			}
			return nil
		},
	}
	outputFlag(c, &out)
	runFlag(c, &run)
	return c
}

// gamedayEndCmd is end, or abort: heal everything at once and stop.
func gamedayEndCmd(abort bool) *cobra.Command {
	var run string
	var out output
	use, short := "end", "End the game day: heal what is left, write and print the report"
	if abort {
		use, short = "abort", "Abort the game day: heal everything at once (the cluster back to its baseline)"
	}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			start := time.Now()
			// The facilitator's: a dead runner is finished from here, and
			// the report printed tells the truth.
			c, s, err := loadTruth(ctx, run, cmd.ErrOrStderr(), use+" it")
			if err != nil {
				return err
			}
			r, err := gameday.End(ctx, c, s, abort, func(msg string) {
				fmt.Fprintf(cmd.ErrOrStderr(), "[%5.1fs] %s\n", time.Since(start).Seconds(), msg)
			})
			if err != nil {
				return err
			}
			s, diags, notes := r.State, r.Diagnoses, r.Notes
			if out.json() {
				b, err := gameday.JSON(s, diags, notes)
				if err != nil {
					return err
				}
				if _, err = cmd.OutOrStdout().Write(append(b, '\n')); err != nil {
					return err
				}
				return gameday.Failed(s, notes)
			}
			gameday.WriteText(cmd.OutOrStdout(), s, diags, notes)
			files := s.Files()
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s, %s, %s\n", files.Text(), files.JSON(), files.HTML())
			sayRecorded(cmd, s)
			// A wrong value, whoever saw it, fails the game day: exit 1.
			return gameday.Failed(s, notes)
		},
	}
	outputFlag(c, &out)
	runFlag(c, &run)
	return c
}

// sayRecorded says where the ended game day was recorded, or on stderr
// why it was not (its reports stand either way).
func sayRecorded(cmd *cobra.Command, s *gameday.State) {
	switch {
	case s.Recorded != "":
		fmt.Fprintf(cmd.OutOrStdout(), "recorded as run %s in the results store ('kmschaos history %s')\n", s.Recorded, s.Recorded)
	case s.RecordError != "":
		fmt.Fprintf(cmd.ErrOrStderr(), "kmschaos: the game day was not recorded: %s (its reports are written all the same)\n", s.RecordError)
	}
}
