package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/gameday"
)

// coordinatorKinds are the kinds whose fix is the coordinator's, for the
// help.
func coordinatorKinds() string {
	var out []string
	for _, k := range fault.Kinds() {
		if k.Fix == fault.FixCoordinator {
			out = append(out, k.Name)
		}
	}
	return strings.Join(out, ", ")
}

// errUnanswered: the escalation is recorded, the coordinator has not
// answered in time; exit 1.
type errUnanswered struct{ wait time.Duration }

func (e errUnanswered) Error() string {
	return fmt.Sprintf("the coordinator did not answer within %s: the request stays recorded and is answered when the game day's background process runs (tell the facilitator: 'kmschaos gameday status' restarts it)", e.wait)
}

func gamedayEscalateCmd() *cobra.Command {
	var run string
	var party int
	var wait time.Duration
	c := &cobra.Command{
		Use:   `escalate --party N "what we ask"`,
		Short: "Ask the network coordinator to act on a party's network (a player's move)",
		Long: `escalate is what an operator does about a fault that is not theirs to fix:
the network between the parties, or between clients and a party, which the
guide leaves to "the network coordinator". Say which party's network, and
what you ask, as you would write it to them.

During a game day the harness stands for the coordinator: it looks at that
party's network and undoes the hidden faults there that are the
coordinator's (for a link, either end counts), and nothing else. Those are
the network's kinds:
  ` + coordinatorKinds() + `.
The answer says only what a real coordinator would: that they acted on
party N's network, or found nothing to fix there. The escalation is recorded with its time; once the
cluster is back the fault counts as recovered by the players, through the
coordinator. A wrong escalation changes nothing and is listed in the
report: asking about every party in turn shows.

What is the operator's own (a party down, its memory, its storage) no
escalation fixes: use the guide's procedures ('kmschaos runbook run').
A runbook step 'escalate: "..."' does the same for the runbook's party.

It waits for the answer up to --wait (the background process answers
within a second or two) and exits 0 once answered, whatever the answer;
1 if no answer came; 2, recording nothing, outside a game day, for a party
out of range or an empty request.`,
		Example: `  kmschaos gameday escalate --party 3 "party 3's peers cannot reach it: please check its links"`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if party < 1 {
				return badInputf("--party N: the party whose network you ask about (1 to n)")
			}
			if len(args) == 0 || strings.TrimSpace(args[0]) == "" {
				return badInputf(`say what you ask the coordinator: kmschaos gameday escalate --party N "what we ask"`)
			}
			ctx := cmd.Context()
			c, h, err := loadHeader(ctx, run, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			name, e, err := gameday.Ask(ctx, c, party, args[0], time.Now())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "asked at +%s: party %d, %q\n", e.At.Sub(h.Started).Round(100*time.Millisecond), e.Party, e.Ask)
			e, answered, err := gameday.Await(ctx, c, name, wait)
			if err != nil {
				return err
			}
			if !answered {
				return errUnanswered{wait}
			}
			fmt.Fprintf(w, "answered at +%s: %s\n", e.AnsweredAt.Sub(h.Started).Round(100*time.Millisecond), e.Answer)
			return nil
		},
	}
	countFlag(c.Flags(), &party, "party", "p", 0, "the party whose network you ask about")
	durationFlag(c.Flags(), &wait, "wait", time.Minute, false, "how long to wait for the coordinator's answer")
	runFlag(c, &run)
	return c
}
