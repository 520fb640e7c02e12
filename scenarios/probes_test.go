package scenarios

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

// The checks behind the new detections, green and red for the right
// reason.

func TestUnderPressure(t *testing.T) {
	const mib = 1 << 20
	if err := underPressure(11*mib, 13*mib, 0.7); err != nil {
		t.Errorf("85%% of the limit: %v", err)
	}
	for _, tc := range []struct {
		used, limit uint64
		want        string
	}{
		{9 * mib, 256 * mib, "9.0 MiB of 256.0 MiB (4%)"}, // the baseline: no pressure
		{9 * mib, 13 * mib, "(69%)"},                      // just below the bound
		{9 * mib, 0, "of 0.0 MiB"},                        // no limit read: never pressure
	} {
		if err := underPressure(tc.used, tc.limit, 0.7); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d of %d: got %v, want an error with %q", tc.used, tc.limit, err, tc.want)
		}
	}
}

func TestSaturated(t *testing.T) {
	if err := saturated(8, 8); err != nil {
		t.Errorf("the whole bucket held: %v", err)
	}
	for _, usage := range []float64{0, 7} { // idle, one token free
		if err := saturated(usage, 8); err == nil || err.Error() != fmt.Sprintf("kms_rate_limiter_usage %.0f of 8", usage) {
			t.Errorf("usage %.0f of 8: got %v, want not saturated", usage, err)
		}
	}
}

func TestSameRun(t *testing.T) {
	start := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	base := cluster.State{Status: "running", Running: true, RestartCount: 2, StartedAt: start}
	if err := sameRun(base, base); err != nil {
		t.Errorf("the same run: %v", err)
	}
	oom := cluster.State{Status: "running", Running: true, RestartCount: 3, StartedAt: start.Add(time.Second), OOMKilled: true, ExitCode: 137, ExitKnown: true}
	restarted := cluster.State{Status: "running", Running: true, RestartCount: 2, StartedAt: start.Add(time.Second)} // docker restart keeps the count
	dead := cluster.State{Status: "exited", ExitCode: 137, ExitKnown: true, RestartCount: 2, StartedAt: start}
	for name, st := range map[string]cluster.State{"OOM-killed and restarted": oom, "restarted by hand": restarted, "dead": dead} {
		if err := sameRun(base, st); err == nil {
			t.Errorf("%s: held", name)
		}
	}
	if err := sameRun(base, oom); !strings.Contains(err.Error(), "OOMKilled=true, exit code 137, 1 restarts") {
		t.Errorf("OOM kill not named: %v", err)
	}
}

func TestListensOnEvery(t *testing.T) {
	ss := "State   Local Address:Port\nLISTEN  127.0.0.11:46713\nLISTEN  [::]:50001\nLISTEN  [::]:50100\n"
	if err := listensOnEvery(ss, 50100); err != nil {
		t.Errorf("dual-stack listener: %v", err)
	}
	if err := listensOnEvery("LISTEN  0.0.0.0:50100\n", 50100); err != nil {
		t.Errorf("IPv4 listener: %v", err)
	}
	for name, out := range map[string]string{
		"another port":    "LISTEN  [::]:501000\nLISTEN  [::]:5010\n",
		"loopback only":   "LISTEN  127.0.0.1:50100\n",
		"nothing listens": "State   Local Address:Port\n",
	} {
		if err := listensOnEvery(out, 50100); err == nil || !strings.Contains(err.Error(), "port 50100 not listening") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}
