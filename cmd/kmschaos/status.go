package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/gameday"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/manual"
	"github.com/kmschaos/kmschaos/harness/partystate"
)

// statusReport is what 'kmschaos status' shows, and its JSON.
type statusReport struct {
	Run     string             `json:"run"`
	N       int                `json:"n"`
	T       int                `json:"t"`
	Parties []partystate.Party `json:"parties"`
	Links   []linkStatus       `json:"links"` // only the links that differ from the baseline
	// GameDay: a game day runs, and the links are not shown: the mesh
	// would tell the players where its hidden faults are.
	GameDay    string        `json:"gameday,omitempty"`
	Faults     []faultStatus `json:"faults"`
	BudgetLeft int           `json:"budget_left"`    // parties more faults may touch before going beyond t
	Halt       *halt.Halt    `json:"halt,omitempty"` // the cluster is halted: no fault is injected
	TookS      float64       `json:"took_s"`         // how long reading the status took
}

type linkStatus struct {
	Link    string   `json:"link"` // toxiproxy's name: p<i>-p<j>, client-p<i>, metrics-p<i>
	Enabled bool     `json:"enabled"`
	Toxics  []string `json:"toxics"` // name (type stream)
}

type faultStatus struct {
	manual.Record
	Age       time.Duration `json:"-"`
	ExpiresIn time.Duration `json:"-"`
	AgeS      float64       `json:"age_s"`
	ExpiresS  *float64      `json:"expires_in_s"` // null: until healed
}

func statusCmd() *cobra.Command {
	var run string
	var out output
	var watch time.Duration
	c := &cobra.Command{
		Use:   "status [--run ID] [--output json] [--watch 2s]",
		Short: "Show a running cluster: parties, health, links, faults, budget",
		Long: `status shows, for the cluster (--run, or the only one running):
  per party   the container's state and restart count (OOM kills too), and
              the health grade kms-health-check reports inside the party,
              with its exit code (0 Optimal/Healthy, 1 Degraded/Unhealthy,
              2 the tool failed; '-' when the party cannot run it)
  links       every link of the toxiproxy mesh that is not at its baseline:
              disabled, or with toxics (those of faults by hand are named by
              the fault's id)
  faults      the faults injected by hand and not healed, with their age
              and when they expire
  budget      how many more parties faults may touch before going beyond t
  halt        if the cluster is halted ('kmschaos halt', a guard rail): the
              cause, the time and who pulled it (a person, a guard)

With --watch it shows the status again at that interval until Ctrl-C (with
--output json, one JSON object per line).`,
		Example: `  kmschaos status
  kmschaos status --run 5e1f0a2b --output json
  kmschaos status --watch 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := attach(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for {
				s, err := readStatus(ctx, c, time.Now())
				if err != nil {
					return err
				}
				switch {
				case out.json() && watch > 0:
					// One object per line, for a script reading a stream.
					b, err := json.Marshal(s)
					if err != nil {
						return err
					}
					fmt.Fprintf(w, "%s\n", b)
				case out.json():
					return writeJSON(w, s)
				default:
					if watch > 0 {
						fmt.Fprintf(w, "\033[H\033[2J%s (every %s, Ctrl-C to stop)\n", time.Now().Format(time.TimeOnly), watch)
					}
					if err := s.write(w); err != nil {
						return err
					}
				}
				if watch <= 0 {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(watch):
				}
				// Faults whose --for ran out meanwhile are healed here too.
				if _, err := manual.Expire(ctx, c, time.Now()); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "healing overdue faults:", err)
				}
			}
		},
	}
	durationFlag(c.Flags(), &watch, "watch", 0, true, "show the status again at this interval (e.g. 2s) until Ctrl-C")
	runFlag(c, &run)
	outputFlag(c, &out)
	return c
}

func readStatus(ctx context.Context, c *cluster.Cluster, now time.Time) (*statusReport, error) {
	start := time.Now()
	s := &statusReport{Run: c.RunID, N: c.Topology.N, T: c.Topology.T, Parties: partystate.ReadAll(ctx, c), Links: []linkStatus{}, Faults: []faultStatus{}}
	proxies, err := c.Mesh().Client.Proxies()
	if err != nil {
		return nil, fmt.Errorf("reading toxiproxy: %w", err)
	}
	for name, px := range proxies {
		if px.Enabled && len(px.ActiveToxics) == 0 {
			continue
		}
		l := linkStatus{Link: name, Enabled: px.Enabled, Toxics: []string{}}
		for _, t := range px.ActiveToxics {
			l.Toxics = append(l.Toxics, fmt.Sprintf("%s (%s %s)", t.Name, t.Type, t.Stream))
		}
		sort.Strings(l.Toxics)
		s.Links = append(s.Links, l)
	}
	sort.Slice(s.Links, func(i, j int) bool { return s.Links[i].Link < s.Links[j].Link })
	if gd, err := gameday.LoadHeader(ctx, c); err != nil {
		return nil, err
	} else if gd.Running() {
		s.GameDay, s.Links = gd.ID, []linkStatus{}
	}
	active, err := manual.Active(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, r := range active {
		f := faultStatus{Record: r, Age: now.Sub(r.InjectedAt)}
		f.AgeS = f.Age.Seconds()
		if !r.ExpiresAt.IsZero() {
			f.ExpiresIn = r.ExpiresAt.Sub(now)
			left := f.ExpiresIn.Seconds()
			f.ExpiresS = &left
		}
		s.Faults = append(s.Faults, f)
	}
	s.BudgetLeft = manual.Budget(c.Topology, active)
	if s.Halt, err = halt.Current(ctx, c); err != nil {
		return nil, err
	}
	s.TookS = time.Since(start).Seconds()
	return s, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (s *statusReport) write(w io.Writer) error {
	fmt.Fprintf(w, "Cluster %s: %d parties, threshold %d\n\n", s.Run, s.N, s.T)
	if s.Halt != nil {
		fmt.Fprintf(w, "HALTED at %s by %s: %s\nNo fault is injected until 'kmschaos unhalt'.\n\n", s.Halt.At.Local().Format(time.DateTime), s.Halt.By, s.Halt.Cause)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTY\tSTATE\tRESTARTS\tHEALTH\tEXIT\tNOTE")
	for _, p := range s.Parties {
		state := p.State
		if p.OOMKilled {
			state += " (OOMKilled)"
		}
		if p.State == "exited" {
			code := "unknown"
			if p.ExitCode != nil {
				code = fmt.Sprint(*p.ExitCode)
			}
			state += " (exit " + code + ")"
		}
		health, exit := "-", "-"
		if p.Health != "" {
			health = p.Health
		}
		if p.HealthExit != nil {
			exit = fmt.Sprint(*p.HealthExit)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", p.Party, state, p.Restarts, health, exit, p.Error)
	}
	tw.Flush()
	fmt.Fprintln(w)
	switch {
	case s.GameDay != "":
		fmt.Fprintf(w, "Links: not shown while game day %s runs (the mesh is no operator's view; 'kmschaos gameday reveal' tells the truth)\n", s.GameDay)
	case len(s.Links) == 0:
		fmt.Fprintln(w, "Links: every link enabled, no toxic")
	default:
		fmt.Fprintln(w, "Links not at their baseline:")
		for _, l := range s.Links {
			what := l.Toxics
			if !l.Enabled {
				what = append([]string{"DISABLED (connection refused)"}, what...)
			}
			fmt.Fprintf(w, "  %-12s %s\n", l.Link, strings.Join(what, ", "))
		}
	}
	fmt.Fprintln(w)
	if len(s.Faults) == 0 {
		fmt.Fprintln(w, "Faults by hand: none active")
	} else {
		fmt.Fprintln(w, "Faults by hand:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tTARGET\tAGE\tEXPIRES\tWHAT")
		for _, f := range s.Faults {
			exp := "when healed"
			if !f.ExpiresAt.IsZero() {
				exp = "in " + f.ExpiresIn.Round(time.Second).String()
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", f.ID, f.Target(), f.Age.Round(time.Second), exp, f.Name)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	if s.BudgetLeft >= 0 {
		fmt.Fprintf(w, "Fault budget: %d of t=%d parties left\n", s.BudgetLeft, s.T)
	} else {
		fmt.Fprintf(w, "Fault budget: exceeded by %d parties (t=%d): the cluster is expected to fail closed\n", -s.BudgetLeft, s.T)
	}
	return nil
}
