package probe

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/oracle"
)

// Await polls p every 250 ms until it holds or within passes, and then
// returns what p last saw. within bounds when attempts start, not how long
// one may take: an attempt started in time runs to its answer (bounded by
// attemptGrace more), so a slow engine call is never cut mid-flight and
// mistaken for the condition's answer. A wrong decryption ends the wait at
// once: it is a verdict, not a condition that may yet change.
func Await(ctx context.Context, c *cluster.Cluster, within time.Duration, p Probe) error {
	deadline := time.Now().Add(within)
	actx, cancel := context.WithDeadline(ctx, deadline.Add(attemptGrace))
	defer cancel()
	for {
		err := p.Check(actx, c)
		switch {
		case err == nil:
			return nil
		case oracle.IsWrong(err):
			return fmt.Errorf("%s: %w", p.Name(), err)
		case ctx.Err() != nil:
			return fmt.Errorf("%s: interrupted: %w", p.Name(), err)
		case !time.Now().Before(deadline):
			return fmt.Errorf("%s: not within %s: %w", p.Name(), within, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: interrupted: %w", p.Name(), err)
		case <-time.After(min(fixtures.Intervals.Probe.AwaitPoll, time.Until(deadline))):
		}
	}
}

// attemptGrace is how long an attempt Await started in time may run past
// its bound.
var attemptGrace = fixtures.Intervals.Probe.AttemptGrace

// Decrypts holds when a fresh value decrypts right through each party.
func Decrypts(parties ...int) Probe {
	name := fmt.Sprintf("decrypts right through parties %v", parties)
	return New(name, func(ctx context.Context, c *cluster.Cluster) error {
		return cluster.Parallel(parties, func(i int) error {
			_, err := oracle.Decrypt(ctx, c, oracle.Request{Party: i, By: "probe: " + name})
			if err != nil && !oracle.IsWrong(err) {
				return errors.New(status.Convert(err).Message())
			}
			return err
		})
	})
}

// DecryptFails holds when a decryption through party i fails with a gRPC
// code whose name is code (Unavailable, NotFound, ...) and a message
// containing msg. A wrong value never counts as a failure.
func DecryptFails(i int, code, msg string) Probe {
	name := fmt.Sprintf("decryption through party %d fails %s %q", i, code, msg)
	return New(name, func(ctx context.Context, c *cluster.Cluster) error {
		_, err := oracle.Decrypt(ctx, c, oracle.Request{Party: i, By: "probe: " + name, Timeout: fixtures.Intervals.Probe.DecryptFailsCall})
		switch {
		case err == nil:
			return errors.New("it succeeded")
		case oracle.IsWrong(err):
			return err
		}
		st := status.Convert(err)
		if st.Code().String() != code || !strings.Contains(st.Message(), msg) {
			return fmt.Errorf("failed %s: %s", st.Code(), st.Message())
		}
		return nil
	})
}

// StartedSince holds when every listed party's container started after t
// and is running: they were (re)started. To the second: Kubernetes
// records a container's start in whole seconds, and a party started in
// the same second as t would otherwise count as started before it.
func StartedSince(t time.Time, parties ...int) Probe {
	t = t.Truncate(time.Second)
	return New(fmt.Sprintf("parties %v restarted", parties), func(ctx context.Context, c *cluster.Cluster) error {
		var stale []int
		for _, i := range parties {
			st, err := c.Party(i).State(ctx)
			if err != nil {
				return err
			}
			if !st.Running || st.StartedAt.Before(t) {
				stale = append(stale, i)
			}
		}
		if len(stale) > 0 {
			return fmt.Errorf("parties %v were not restarted", stale)
		}
		return nil
	})
}

// KeeperSays holds when a command run in the keeper (the operator's debug
// pod) exits with code and its output contains text.
func KeeperSays(name string, code int, text string, cmd ...string) Probe {
	return KeeperMatches(name, code, regexp.QuoteMeta(text), cmd...)
}

// KeeperMatches holds when a command run in the keeper exits with code and
// its output matches pattern.
func KeeperMatches(name string, code int, pattern string, cmd ...string) Probe {
	re := regexp.MustCompile(pattern)
	return New(name, func(ctx context.Context, c *cluster.Cluster) error {
		res, err := c.KeeperExec(ctx, cmd...)
		if err != nil {
			return err
		}
		out := res.Output()
		if res.ExitCode != code {
			return fmt.Errorf("exit %d, want %d: %s", res.ExitCode, code, firstLines(out, 3))
		}
		if !re.MatchString(out) {
			return fmt.Errorf("output does not match /%s/: %s", pattern, firstLines(out, 3))
		}
		return nil
	})
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

// OperatorSays holds when an operator's command (kubectl, helm) run
// against the cluster succeeds and its output matches pattern: what
// `kubectl get pod` or `kubectl describe pod` shows the operator.
func OperatorSays(name, pattern string, cmd ...string) Probe {
	re := regexp.MustCompile(pattern)
	return New(name, func(ctx context.Context, c *cluster.Cluster) error {
		res, err := c.Operate(ctx, cmd...)
		if err != nil {
			return err
		}
		out := res.Output()
		if res.ExitCode != 0 {
			return fmt.Errorf("%s: exit %d: %s", strings.Join(cmd, " "), res.ExitCode, firstLines(out, 3))
		}
		if !re.MatchString(out) {
			return fmt.Errorf("%s: output does not match /%s/: %s", strings.Join(cmd, " "), pattern, firstLines(out, 3))
		}
		return nil
	})
}
