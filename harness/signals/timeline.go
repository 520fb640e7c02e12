package signals

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// reading is one sample of a party's signal: whether it showed the party
// well, how long the answer took, and what it answered when not.
type reading struct {
	At     time.Time
	Party  int
	OK     bool
	Took   time.Duration
	Detail string
}

// firstBad is the first reading from origin on that did not show the
// party well, as a plain signal (Fired is when it showed). A party
// already failing at origin (an earlier fault's restart still warming
// up) counts only once it has been well again.
func firstBad(name, source string, rs []reading, origin time.Time) report.Signal {
	s := report.Signal{Name: name, Source: source}
	carried := failingAt(rs, origin)
	for _, r := range rs {
		switch {
		case r.At.Before(origin):
		case r.OK:
			carried[r.Party] = false
		case !carried[r.Party]:
			s.Fired = report.Secs(r.At.Sub(origin).Seconds())
			s.Detail = fmt.Sprintf("party %d: %s", r.Party, r.Detail)
			return s
		}
	}
	return s
}

// failingAt are the parties whose last reading before origin failed.
func failingAt(rs []reading, origin time.Time) map[int]bool {
	out := map[int]bool{}
	for _, r := range rs {
		if r.At.Before(origin) {
			out[r.Party] = !r.OK
		}
	}
	return out
}

// kubeletProbe is a probe of the chart (charts/kms-core values.yaml,
// kmsCore.readinessProbe / livenessProbe) with kubelet's defaults where
// the chart sets nothing (periodSeconds 10, timeoutSeconds 1).
type kubeletProbe struct {
	Name             string
	Period, Timeout  time.Duration
	FailureThreshold int
	Acts             string // what kubelet does at the threshold
}

// The chart's gRPC probes on the client port (50100). Its startup probe
// (initialDelaySeconds 30, periodSeconds 10, failureThreshold 10) and
// the initial delays count from a container's start, before which the
// parties were running: they are not evaluated.
var (
	readiness = kubeletProbe{Name: report.ProbeReadiness, Period: 5 * time.Second, Timeout: time.Second, FailureThreshold: 30, Acts: "the pod leaves its Service's endpoints"}
	liveness  = kubeletProbe{Name: report.ProbeLiveness, Period: 10 * time.Second, Timeout: 5 * time.Second, FailureThreshold: 10, Acts: "kubelet restarts the container"}
)

// evaluate runs the probe as kubelet would over the window [origin, end]:
// a probe every Period from origin, its outcome the party's latest
// reading at that time (failed if the answer took longer than Timeout),
// FailureThreshold failures in a row acting. Pending is the first failed
// probe of any party, Fired the first party's threshold. A party already
// failing at origin counts only once it has passed a probe again.
func (p kubeletProbe) evaluate(rs []reading, origin, end time.Time, n int) report.Signal {
	s := report.Signal{Name: p.Name, Source: report.SourceKubelet,
		Needs: fmt.Sprintf("%d failed probes %s apart", p.FailureThreshold, p.Period)}
	byParty := map[int][]reading{}
	for _, r := range rs {
		byParty[r.Party] = append(byParty[r.Party], r)
	}
	var pendingAt, firedAt time.Time
	carried := failingAt(rs, origin)
	for party := 1; party <= n; party++ {
		own := byParty[party]
		failures, k, carried := 0, 0, carried[party]
		for at := origin; !at.After(end); at = at.Add(p.Period) {
			for k < len(own) && !own[k].At.After(at) {
				k++
			}
			if k == 0 { // no reading yet: kubelet's probe would see what the first one saw
				continue
			}
			r := own[k-1]
			if r.OK && r.Took <= p.Timeout {
				failures, carried = 0, false
				continue
			}
			if carried {
				continue
			}
			failures++
			if failures == 1 && (pendingAt.IsZero() || at.Before(pendingAt)) {
				pendingAt = at
				s.Pending = report.Secs(at.Sub(origin).Seconds())
				s.Detail = fmt.Sprintf("party %d: %s", party, why(r, p.Timeout))
			}
			if failures == p.FailureThreshold && (firedAt.IsZero() || at.Before(firedAt)) {
				firedAt = at
				s.Fired = report.Secs(at.Sub(origin).Seconds())
				s.Detail = fmt.Sprintf("party %d: %s (%s)", party, why(r, p.Timeout), p.Acts)
			}
		}
	}
	return s
}

func why(r reading, timeout time.Duration) string {
	if r.OK {
		return fmt.Sprintf("answered SERVING after %s, past the probe's timeout of %s", r.Took.Round(time.Millisecond), timeout)
	}
	return r.Detail
}

// rule is one alert of the shipped rules file.
type rule struct {
	Alert string
	Expr  string
	For   string
}

// alertSignals makes one signal per rule from the ALERTS series over
// [origin, ...] (a range query whose first point is at origin). A series
// of the alert already active at origin — the same labels, whichever
// state — was left by an earlier fault: it marks the alert Before and is
// not credited, nor is its later firing.
func alertSignals(rules []rule, series []Series, origin time.Time) []report.Signal {
	out := make([]report.Signal, len(rules))
	for i, r := range rules {
		out[i] = report.Signal{Name: r.Alert, Source: report.SourceAlert, Needs: "for: " + r.For}
		if r.For == "" {
			out[i].Needs = "no for:, fires at once"
		}
	}
	index := map[string]int{}
	for i, r := range rules {
		index[r.Alert] = i
	}
	before := map[string]bool{} // an alert's instance (labels but alertstate) active at origin
	for _, s := range series {
		if len(s.Points) > 0 && !s.Points[0].At.After(origin) {
			before[instanceKey(s.Labels)] = true
		}
	}
	for _, s := range series {
		i, ok := index[s.Labels["alertname"]]
		if !ok || len(s.Points) == 0 {
			continue
		}
		sig := &out[i]
		if before[instanceKey(s.Labels)] {
			sig.Before = true
			continue
		}
		at := report.Secs(s.Points[0].At.Sub(origin).Seconds())
		switch s.Labels["alertstate"] {
		case "pending":
			if sig.Pending == nil || *at < *sig.Pending {
				sig.Pending = at
				sig.Detail = describe(s.Labels)
			}
		case "firing":
			if sig.Fired == nil || *at < *sig.Fired {
				sig.Fired = at
				sig.Detail = describe(s.Labels)
			}
		}
	}
	return out
}

// instanceKey is an ALERTS series' labels but its state: one instance of
// an alert, pending then firing.
func instanceKey(l map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		if k != "alertstate" {
			fmt.Fprintf(&b, "%s=%q,", k, l[k])
		}
	}
	return b.String()
}

// describe names what an alert's series is about: its party, and the
// labels that tell its cause.
func describe(l map[string]string) string {
	var parts []string
	if p := l["party"]; p != "" {
		parts = append(parts, "party "+p)
	}
	for _, k := range []string{"operation", "error"} {
		if v := l[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
