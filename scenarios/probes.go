package scenarios

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/probe"
)

// Detections particular to some scenarios, built on probe.New: how a user
// adds one.

// clientCheck runs the health check against party i's client link from
// the keeper, an operator outside the party: it must exit with code,
// match pattern, and return within bound (the tool never hangs).
func clientCheck(i, code int, pattern string, bound time.Duration) probe.Probe {
	re := regexp.MustCompile(pattern)
	return probe.New(fmt.Sprintf("health check of party %d through its client link says /%s/ within %s", i, pattern, bound), func(ctx context.Context, c *cluster.Cluster) error {
		res, err := c.KeeperExec(ctx, "kms-health-check", "live", "--endpoint", c.ClientProxyAddr(i))
		if err != nil {
			return err
		}
		switch {
		case res.ExitCode != code:
			return fmt.Errorf("exit %d, want %d", res.ExitCode, code)
		case !re.MatchString(res.Stdout):
			return fmt.Errorf("report lacks /%s/", pattern)
		case res.Took > bound:
			return fmt.Errorf("took %s, more than %s", res.Took.Round(time.Millisecond), bound)
		}
		return nil
	})
}

// decryptTime is the median time of three decryptions through party i. A
// decryption still running after limit counts as taking limit: a starved
// party may need longer than any probe should wait, and that is the answer.
func decryptTime(ctx context.Context, c *cluster.Cluster, i int, limit time.Duration) (time.Duration, error) {
	cl, err := c.Client(i)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var ds []time.Duration
	for range 3 {
		ct, _ := c.Key.Encrypt(rand.Reader, 99)
		start := time.Now()
		dctx, cancel := context.WithTimeout(ctx, limit)
		d, err := cl.PublicDecryptSync(dctx, ct, "")
		cancel()
		switch {
		case ctx.Err() != nil:
			return 0, ctx.Err()
		case status.Code(err) == codes.DeadlineExceeded:
			ds = append(ds, limit)
			continue
		case err != nil:
			return 0, errors.New(status.Convert(err).Message())
		case d.Value != 99:
			return 0, fmt.Errorf("WRONG value %d", d.Value)
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[1], nil
}

// decryptSlower holds when decryptions through party i take more than d:
// the latency objective is broken.
func decryptSlower(i int, d time.Duration) probe.Probe {
	return probe.New(fmt.Sprintf("decryptions through party %d slower than %s", i, d), func(ctx context.Context, c *cluster.Cluster) error {
		t, err := decryptTime(ctx, c, i, 8*d)
		if err != nil {
			return err
		}
		if t <= d {
			return fmt.Errorf("median %s", t.Round(time.Millisecond))
		}
		return nil
	})
}

// decryptFaster holds when decryptions through party i take less than d:
// back under the objective.
func decryptFaster(i int, d time.Duration) probe.Probe {
	return probe.New(fmt.Sprintf("decryptions through party %d faster than %s", i, d), func(ctx context.Context, c *cluster.Cluster) error {
		t, err := decryptTime(ctx, c, i, 15*time.Second)
		if err != nil {
			return err
		}
		if t >= d {
			return fmt.Errorf("median %s", t.Round(time.Millisecond))
		}
		return nil
	})
}

// request decrypts n ciphertexts through party i in one request within
// timeout.
func request(ctx context.Context, c *cluster.Cluster, i, n int, timeout time.Duration) error {
	var cts [][]byte
	for range n {
		ct, _ := c.Key.Encrypt(rand.Reader, 7)
		cts = append(cts, ct)
	}
	cl, err := c.Client(i)
	if err != nil {
		return err
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	vs, err := cl.PublicDecryptMany(rctx, cts)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v != 7 {
			return fmt.Errorf("WRONG value %d", v)
		}
	}
	return nil
}

// bandwidthStarved holds when a large request through party i times out
// while a small one passes.
func bandwidthStarved(i int) probe.Probe {
	return probe.New(fmt.Sprintf("large requests through party %d time out, small ones pass", i), func(ctx context.Context, c *cluster.Cluster) error {
		if err := request(ctx, c, i, 1, 4*time.Second); err != nil {
			return fmt.Errorf("a small request failed: %s", status.Convert(err).Message())
		}
		if err := request(ctx, c, i, 128, 4*time.Second); err == nil {
			return errors.New("a large request passed")
		}
		return nil
	})
}

// largeRequestsPass holds when a large request passes again.
func largeRequestsPass(i int) probe.Probe {
	return probe.New(fmt.Sprintf("large requests through party %d pass", i), func(ctx context.Context, c *cluster.Cluster) error {
		return request(ctx, c, i, 128, 4*time.Second)
	})
}

// flaps holds when party a's health check sees b both reachable and not
// within window.
func flaps(a, b int, window time.Duration) probe.Probe {
	up, down := probe.PeerReachable(a, b), probe.PeerUnreachable(a, b, "")
	return probe.New(fmt.Sprintf("party %d sees party %d come and go", a, b), func(ctx context.Context, c *cluster.Cluster) error {
		seenUp, seenDown := false, false
		deadline := time.Now().Add(window)
		for time.Now().Before(deadline) && !(seenUp && seenDown) {
			seenUp = seenUp || up.Check(ctx, c) == nil
			seenDown = seenDown || down.Check(ctx, c) == nil
		}
		if !(seenUp && seenDown) {
			return fmt.Errorf("in %s: reachable seen %v, unreachable seen %v", window, seenUp, seenDown)
		}
		return nil
	})
}

// initFailsNaming holds when kms-init, run by an operator over every
// party, exits non-zero and names party k as the one missing. Running it
// is the operator's attempt the guide describes; it stores nothing, since
// no party can finish without k.
func initFailsNaming(k int) probe.Probe {
	return probe.New(fmt.Sprintf("kms-init exits non-zero naming party %d", k), func(ctx context.Context, c *cluster.Cluster) error {
		var b [32]byte
		rand.Read(b[:])
		res, err := c.InitPRSS(ctx, fmt.Sprintf("%x", b))
		if err != nil {
			return err
		}
		out := res.Output()
		if res.ExitCode == 0 {
			return errors.New("kms-init succeeded")
		}
		if !strings.Contains(out, fmt.Sprintf("no PRSS contribution from parties [%d]", k)) {
			return fmt.Errorf("kms-init failed without naming party %d: %s", k, lastLines(out, 3))
		}
		return nil
	})
}

// noTempFiles holds when no half-written object is left in party i's keys.
func noTempFiles(i int) probe.Probe {
	return probe.New(fmt.Sprintf("no temp files in party %d's storage", i), func(ctx context.Context, c *cluster.Cluster) error {
		res, err := c.KeeperExec(ctx, "kms-admin", "ls", "-R", cluster.VolumePath(i, "keys"))
		if err != nil {
			return err
		}
		if strings.Contains(res.Stdout, ".tmp-") {
			return fmt.Errorf("temp files left: %s", lastLines(res.Stdout, 3))
		}
		return nil
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
