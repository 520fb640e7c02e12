package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/signals"
	"github.com/kmschaos/kmschaos/kms/health"
)

// monitor samples every party's container state and health grade each
// second and draws them as spans in the party's lane of the timeline; it
// hands each sample to the scenario's signals watch too.
type monitor struct {
	cancel context.CancelFunc
	done   chan struct{}
}

type partyState struct {
	label   string
	status  report.Status
	running bool
	since   time.Time
}

func startMonitor(c *cluster.Cluster, rec *report.Recorder, sig *signals.Watch) *monitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &monitor{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		cur := make([]partyState, c.Topology.N)
		flush := func(i int, now time.Time) {
			if s := cur[i]; s.label != "" {
				rec.Span(report.PartyLane(i+1), s.label, s.status, "", s.since, now)
			}
		}
		for {
			states := sample(ctx, c)
			now := time.Now()
			for i, s := range states {
				sig.Party(now, i+1, s.running, s.label, s.status == report.OK)
				if s.label != cur[i].label {
					flush(i, now)
					s.since = now
					cur[i] = s
				}
			}
			select {
			case <-ctx.Done():
				for i := range cur {
					flush(i, time.Now())
				}
				return
			case <-time.After(fixtures.Intervals.Scenario.MonitorPoll):
			}
		}
	}()
	return m
}

func (m *monitor) stop() {
	m.cancel()
	<-m.done
}

func sample(ctx context.Context, c *cluster.Cluster) []partyState {
	out := make([]partyState, c.Topology.N)
	_ = c.EachParty(func(i int) error { // a state that cannot be read is shown as unknown
		out[i-1] = sampleParty(ctx, c, i)
		return nil
	})
	return out
}

func sampleParty(ctx context.Context, c *cluster.Cluster, i int) partyState {
	st, err := c.Party(i).State(ctx)
	if err != nil {
		return partyState{label: "unknown", status: report.Info}
	}
	switch {
	case st.Paused:
		return partyState{label: "paused", status: report.Fail}
	case st.Restarting:
		return partyState{label: fmt.Sprintf("restarting (exit %s)", st.ExitStatus()), status: report.Fail}
	case !st.Running:
		return partyState{label: fmt.Sprintf("%s (exit %s)", st.Status, st.ExitStatus()), status: report.Fail}
	}
	hctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Scenario.MonitorHealthCall)
	defer cancel()
	pc, err := c.Health(hctx, i)
	if err != nil {
		return partyState{label: "running, health unknown", status: report.Warn, running: true}
	}
	word := health.Name(pc.GetStatus())
	if word != "Optimal" {
		return partyState{label: "running, " + word, status: report.Warn, running: true}
	}
	return partyState{label: "running, " + word, status: report.OK, running: true}
}
