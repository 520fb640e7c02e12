package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/kms/healthcheck"
)

// Report is one run of kms-health-check inside a party's container.
type Report struct {
	Party    int
	ExitCode int
	Text     string // text output, or JSON when JSON was asked for
	Result   *healthcheck.Result
}

// Status is the overall status word of the text report.
var statusLine = regexp.MustCompile(`\] Overall Status: (\w+)`)

// RunHealthCheck runs `kms-health-check <args>` in party i's container, as
// the guide's standard health checks do (kubectl exec / docker exec).
func RunHealthCheck(ctx context.Context, c *cluster.Cluster, i int, args ...string) (Report, error) {
	res, err := c.Party(i).HealthCheck(ctx, args...)
	if err != nil {
		return Report{}, err
	}
	r := Report{Party: i, ExitCode: res.ExitCode, Text: res.Stdout}
	if res.ExitCode == 2 {
		return r, fmt.Errorf("kms-health-check failed: %s", res.Output())
	}
	if len(args) > 1 && args[0] == "--format" && args[1] == "json" {
		var hr healthcheck.Result
		if err := json.Unmarshal([]byte(res.Stdout), &hr); err != nil {
			return r, fmt.Errorf("kms-health-check JSON: %w", err)
		}
		r.Result = &hr
	}
	return r, nil
}

// Live runs the live check of party i against its own API, in text.
func Live(ctx context.Context, c *cluster.Cluster, i int) (Report, error) {
	return RunHealthCheck(ctx, c, i, "live", "--endpoint", fmt.Sprintf("localhost:%d", c.Profile.APIPort))
}

// LiveJSON runs the live check of party i in JSON.
func LiveJSON(ctx context.Context, c *cluster.Cluster, i int) (Report, error) {
	return RunHealthCheck(ctx, c, i, "--format", "json", "live", "--endpoint", fmt.Sprintf("localhost:%d", c.Profile.APIPort))
}

// peersLine is the count of reachable peers in the text report.
var peersLine = regexp.MustCompile(`(?m)^\s*(\d+) of (\d+) peers reachable$`)

// PeersReachable is how many of its peers the party reached, from a text
// report; ok is false if the report has no peer status.
func (r Report) PeersReachable() (up, total int, ok bool) {
	m := peersLine.FindStringSubmatch(r.Text)
	if m == nil {
		return 0, 0, false
	}
	up, _ = strconv.Atoi(m[1])
	total, _ = strconv.Atoi(m[2])
	return up, total, true
}

// gradeLine is the recommendation the real tool prints under each
// context's peers (checks.rs process_health_status): the party's own grade
// of its peers, the only place the report shows it.
var gradeLine = regexp.MustCompile(`(?m)^\s*(Optimal: All|Healthy but not optimal:|\(!!!\)  INVESTIGATE:|Critical: Only)`)

var gradeOf = map[string]string{"Optimal: All": "Optimal", "Healthy but not optimal:": "Healthy",
	"(!!!)  INVESTIGATE:": "Degraded", "Critical: Only": "Unhealthy"}

// Grade is the party's grade of the cluster from a text report: the
// context's recommendation, or Unhealthy when the tool could not reach
// the party at all (its overall status then, with no context).
func (r Report) Grade() string {
	if m := gradeLine.FindStringSubmatch(r.Text); m != nil {
		return gradeOf[m[1]]
	}
	if strings.Contains(r.Text, "[FAIL] Cannot connect") {
		return "Unhealthy"
	}
	return ""
}

// OverallStatus is the status word of a text report: the real tool's
// overall status, which in a live check says only whether the party
// answered and listed a key.
func (r Report) OverallStatus() string {
	m := statusLine.FindStringSubmatch(r.Text)
	if m == nil {
		return ""
	}
	return m[1]
}

// HealthStatus holds when party i's health check grades the cluster one of
// want (Optimal, Healthy, Degraded, Unhealthy): the grade line of its
// report (Grade), in a report the tool printed whole (exit 0, as the real
// tool exits for every report).
func HealthStatus(i int, want ...string) Probe {
	return New(fmt.Sprintf("health check of party %d grades %s", i, strings.Join(want, " or ")), func(ctx context.Context, c *cluster.Cluster) error {
		r, err := Live(ctx, c, i)
		if err != nil {
			return err
		}
		got := r.Grade()
		if r.ExitCode != 0 {
			return fmt.Errorf("grade %q but exit code %d, want 0", got, r.ExitCode)
		}
		if slices.Contains(want, got) {
			return nil
		}
		return fmt.Errorf("grade %q (overall status %q)", got, r.OverallStatus())
	})
}

// peerStatus finds what party i's health check says of peer j.
func peerStatus(ctx context.Context, c *cluster.Cluster, i, j int) (healthcheck.PeerStatus, error) {
	r, err := LiveJSON(ctx, c, i)
	if err != nil {
		return healthcheck.PeerStatus{}, err
	}
	if r.Result == nil || len(r.Result.ContextInfo) == 0 {
		return healthcheck.PeerStatus{}, fmt.Errorf("party %d's report has no peer status (exit %d)", i, r.ExitCode)
	}
	for _, p := range r.Result.ContextInfo[0].Peers {
		if int(p.PeerID) == j {
			return p, nil
		}
	}
	return healthcheck.PeerStatus{}, fmt.Errorf("party %d's report does not list party %d", i, j)
}

// PeerUnreachable holds when party i's health check shows peer j [FAIL];
// with errContains, its error must say so (e.g. "Timeout", "refused").
func PeerUnreachable(i, j int, errContains string) Probe {
	return New(fmt.Sprintf("party %d sees party %d unreachable", i, j), func(ctx context.Context, c *cluster.Cluster) error {
		p, err := peerStatus(ctx, c, i, j)
		if err != nil {
			return err
		}
		if p.Reachable {
			return fmt.Errorf("party %d reachable (%dms)", j, p.LatencyMs)
		}
		if !strings.Contains(p.Error, errContains) {
			return fmt.Errorf("party %d unreachable but the error %q does not mention %q", j, p.Error, errContains)
		}
		return nil
	})
}

// PeerReachable holds when party i's health check shows peer j [OK].
func PeerReachable(i, j int) Probe {
	return New(fmt.Sprintf("party %d sees party %d reachable", i, j), func(ctx context.Context, c *cluster.Cluster) error {
		p, err := peerStatus(ctx, c, i, j)
		if err != nil {
			return err
		}
		if !p.Reachable {
			return fmt.Errorf("party %d unreachable: %s", j, p.Error)
		}
		return nil
	})
}

// PeerLatency holds when party i's health check reports peer j's latency
// within [min, max).
func PeerLatency(i, j int, min, max time.Duration) Probe {
	return New(fmt.Sprintf("party %d sees party %d at %s..%s", i, j, min, max), func(ctx context.Context, c *cluster.Cluster) error {
		p, err := peerStatus(ctx, c, i, j)
		if err != nil {
			return err
		}
		d := time.Duration(p.LatencyMs) * time.Millisecond
		if !p.Reachable || d < min || d >= max {
			return fmt.Errorf("reachable=%v latency %s", p.Reachable, d)
		}
		return nil
	})
}

// HealthCheckSays holds when the text report of `kms-health-check <args>`
// in party i's container matches pattern (a regular expression), the way a
// runbook greps it.
func HealthCheckSays(i int, pattern string, args ...string) Probe {
	re := regexp.MustCompile(pattern)
	return New(fmt.Sprintf("health check of party %d says /%s/", i, pattern), func(ctx context.Context, c *cluster.Cluster) error {
		if len(args) == 0 {
			args = []string{"live", "--endpoint", fmt.Sprintf("localhost:%d", c.Profile.APIPort)}
		}
		r, err := RunHealthCheck(ctx, c, i, args...)
		if err != nil {
			return err
		}
		if !re.MatchString(r.Text) {
			return fmt.Errorf("not in the report (grade %q, exit %d)", r.Grade(), r.ExitCode)
		}
		return nil
	})
}
