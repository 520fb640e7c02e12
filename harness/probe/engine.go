package probe

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

// CrashLooping holds once party i's container has failed and the engine is
// restarting it again and again: it is waiting to restart it after an
// error exit, or has restarted it since the injection (Armed). (The engine
// backs off between restarts, up to a minute, like CrashLoopBackOff; the
// restart count alone can lag that long.)
func CrashLooping(i int) Armed {
	return Since(fmt.Sprintf("party %d crash-looping (restarting after an error exit)", i), StateOf(i),
		func(before, now cluster.State) error {
			if now.RestartCount > before.RestartCount || (now.Restarting && now.ExitKnown && now.ExitCode != 0) {
				return nil
			}
			return fmt.Errorf("status %s, exit code %s, %d restarts since the fault", now.Status, now.ExitStatus(), now.RestartCount-before.RestartCount)
		})
}

// StateOf reads party i's state: the reading of engine probes made with
// Since.
func StateOf(i int) func(context.Context, *cluster.Cluster) (cluster.State, error) {
	return func(ctx context.Context, c *cluster.Cluster) (cluster.State, error) { return c.Party(i).State(ctx) }
}

// OOMKilled holds when the engine reports party i killed for memory
// (OOMKilled, exit 137).
func OOMKilled(i int) Probe {
	return New(fmt.Sprintf("party %d OOM-killed (exit 137)", i), func(ctx context.Context, c *cluster.Cluster) error {
		st, err := c.Party(i).State(ctx)
		if err != nil {
			return err
		}
		if !st.OOMKilled || !st.ExitKnown || st.ExitCode != 137 {
			return fmt.Errorf("OOMKilled=%v exit code %s, status %s", st.OOMKilled, st.ExitStatus(), st.Status)
		}
		return nil
	})
}

// Exited holds when party i's container has exited with code. An exit
// the backend did not see fails it: a status nobody reported proves
// nothing.
func Exited(i, code int) Probe {
	return New(fmt.Sprintf("party %d exited with code %d", i, code), func(ctx context.Context, c *cluster.Cluster) error {
		st, err := c.Party(i).State(ctx)
		if err != nil {
			return err
		}
		if !st.Running && !st.Restarting && !st.ExitKnown {
			return fmt.Errorf("status %s, exit status unknown: the %s backend did not see how the party ended", st.Status, c.Backend())
		}
		if st.Running || st.Restarting || st.ExitCode != code {
			return fmt.Errorf("status %s, exit code %s", st.Status, st.ExitStatus())
		}
		return nil
	})
}

// Killed holds when party i is down after a kill: not running, and exited
// with 137 (SIGKILL) where the backend saw how it ended. Where it did not
// (Kubernetes deletes a killed party's pod before the kubelet reports an
// exit), the party being gone is what an operator sees, and all the probe
// claims: it never reads a 137 nobody reported.
func Killed(i int) Probe {
	return New(fmt.Sprintf("party %d down after a kill (exited 137 where the backend reports it)", i), func(ctx context.Context, c *cluster.Cluster) error {
		st, err := c.Party(i).State(ctx)
		if err != nil {
			return err
		}
		if st.Running || st.Restarting || (st.ExitKnown && st.ExitCode != 137) {
			return fmt.Errorf("status %s, exit code %s", st.Status, st.ExitStatus())
		}
		return nil
	})
}

// Paused holds when party i's container is frozen.
func Paused(i int) Probe {
	return New(fmt.Sprintf("party %d paused", i), func(ctx context.Context, c *cluster.Cluster) error {
		st, err := c.Party(i).State(ctx)
		if err != nil {
			return err
		}
		if !st.Paused {
			return fmt.Errorf("status %s", st.Status)
		}
		return nil
	})
}

// LogSays holds when party i's container logs (every start included, the
// "previous container logs" of a crash loop) match pattern. Only lines
// written since the fault's injection count (WithInjectedAt), or since the
// probe was made where no injection time is known.
func LogSays(i int, pattern string) Probe {
	re := regexp.MustCompile(pattern)
	made := time.Now()
	return New(fmt.Sprintf("logs of party %d match /%s/", i, pattern), func(ctx context.Context, c *cluster.Cluster) error {
		logs, err := c.Party(i).LogsSince(ctx, since(ctx, made))
		if err != nil {
			return err
		}
		if !re.MatchString(logs) {
			return fmt.Errorf("not in the %d bytes logged since the fault", len(logs))
		}
		return nil
	})
}

// AnyLogSays holds when the logs of any party, since the fault, match
// pattern.
func AnyLogSays(pattern string) Probe {
	re := regexp.MustCompile(pattern)
	made := time.Now()
	return New(fmt.Sprintf("logs of some party match /%s/", pattern), func(ctx context.Context, c *cluster.Cluster) error {
		for _, p := range c.Parties() {
			logs, err := p.LogsSince(ctx, since(ctx, made))
			if err == nil && re.MatchString(logs) {
				return nil
			}
		}
		return fmt.Errorf("in no party's logs since the fault")
	})
}

// LogQuiet holds when none of parties has logged a line matching pattern
// in the last window: what an operator watching the logs calls "it
// stopped" once a fault is healed (the real KMS counts no rejected share,
// refused certificate or failed peer call in a metric; it logs them).
func LogQuiet(parties []int, pattern string, window time.Duration) Probe {
	re := regexp.MustCompile(pattern)
	return New(fmt.Sprintf("no log line of parties %v matches /%s/ for %s", parties, pattern, window), func(ctx context.Context, c *cluster.Cluster) error {
		from := time.Now().Add(-window)
		for _, i := range parties {
			logs, err := c.Party(i).LogsSince(ctx, from)
			if err != nil {
				return err
			}
			if m := re.FindString(logs); m != "" {
				return fmt.Errorf("party %d logged %q within the last %s", i, m, window)
			}
		}
		return nil
	})
}

func since(ctx context.Context, made time.Time) time.Time {
	if t := InjectedAt(ctx); !t.IsZero() {
		return t
	}
	return made
}
