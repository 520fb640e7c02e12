package scenarios

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/kms/material"
)

// Detections particular to some scenarios, built on probe.New: how a user
// adds one.

// clientCheck runs the health check against party i's client link from
// the keeper, an operator outside the party: it must print a whole report
// (exit 0, as the real tool does for any report), match pattern, and
// return within bound (the tool never hangs).
func clientCheck(i int, pattern string, bound time.Duration) probe.Probe {
	re := regexp.MustCompile(pattern)
	return probe.New(fmt.Sprintf("health check of party %d through its client link says /%s/ within %s", i, pattern, bound), func(ctx context.Context, c *cluster.Cluster) error {
		res, err := c.KeeperExec(ctx, "kms-health-check", "live", "--endpoint", c.ClientProxyAddr(i))
		if err != nil {
			return err
		}
		switch {
		case res.ExitCode != 0:
			return fmt.Errorf("exit %d, want 0: %s", res.ExitCode, res.Output())
		case !re.MatchString(res.Stdout):
			return fmt.Errorf("report lacks /%s/", pattern)
		case res.Took > bound:
			return fmt.Errorf("took %s, more than %s", res.Took.Round(time.Millisecond), bound)
		}
		return nil
	})
}

// decryptTime is the median time of three decryptions through party i. A
// decryption still running after limit counts as taking limit — a starved
// party may need longer than any probe should wait — but only while the
// party still answers its API: a party that answers nothing hangs, and a
// hung party is not a slow one.
func decryptTime(ctx context.Context, c *cluster.Cluster, i int, limit time.Duration, by string) (time.Duration, error) {
	var ds []time.Duration
	for range 3 {
		r, err := oracle.Decrypt(ctx, c, oracle.Request{Party: i, By: by, Mode: oracle.Sync, Timeout: limit})
		switch {
		case ctx.Err() != nil:
			return 0, ctx.Err()
		case status.Code(err) == codes.DeadlineExceeded || status.Code(err) == codes.Unavailable:
			// A call to a frozen party ends either way: past its deadline,
			// or with the connection never getting the server's preface.
			if aerr := answers(ctx, c, i); aerr != nil {
				return 0, fmt.Errorf("no decryption within %s and the party does not answer its API (%v): it hangs, it is not slow", limit, aerr)
			}
			if status.Code(err) == codes.Unavailable {
				return 0, errors.New(status.Convert(err).Message())
			}
			ds = append(ds, limit)
			continue
		case oracle.IsWrong(err):
			return 0, err
		case err != nil:
			return 0, errors.New(status.Convert(err).Message())
		}
		ds = append(ds, r.Took)
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[1], nil
}

// answers tells whether party i answers the standard gRPC health check on
// its client link within 5 s: the cheapest call it serves, with no peer
// involved.
func answers(ctx context.Context, c *cluster.Cluster, i int) error {
	cl, err := c.Client(i)
	if err != nil {
		return err
	}
	defer cl.Close()
	hctx, cancel := context.WithTimeout(ctx, timings.Probes.AnswersCall)
	defer cancel()
	_, err = healthpb.NewHealthClient(cl.Conn()).Check(hctx, &healthpb.HealthCheckRequest{})
	return err
}

// DecryptSlower holds when decryptions through party i take more than d:
// the latency objective is broken.
func DecryptSlower(i int, d time.Duration) probe.Probe {
	name := fmt.Sprintf("decryptions through party %d slower than %s", i, d)
	return probe.New(name, func(ctx context.Context, c *cluster.Cluster) error {
		t, err := decryptTime(ctx, c, i, 8*d, "probe: "+name)
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
	name := fmt.Sprintf("decryptions through party %d faster than %s", i, d)
	return probe.New(name, func(ctx context.Context, c *cluster.Cluster) error {
		t, err := decryptTime(ctx, c, i, timings.Probes.DecryptFasterLimit, "probe: "+name)
		if err != nil {
			return err
		}
		if t >= d {
			return fmt.Errorf("median %s", t.Round(time.Millisecond))
		}
		return nil
	})
}

// request decrypts n fresh values through party i in one request within
// timeout.
func request(ctx context.Context, c *cluster.Cluster, i, n int, timeout time.Duration, by string) error {
	_, err := oracle.DecryptMany(ctx, c, oracle.Request{Party: i, By: by, Timeout: timeout}, n)
	return err
}

// bandwidthStarved holds when a large request through party i times out
// while a small one passes. Only a timeout counts: a large request refused
// for another reason is not the bandwidth cap.
func bandwidthStarved(i int) probe.Probe {
	name := fmt.Sprintf("large requests through party %d time out, small ones pass", i)
	return probe.New(name, func(ctx context.Context, c *cluster.Cluster) error {
		if err := request(ctx, c, i, 1, timings.Probes.Request, "probe: "+name); err != nil {
			if oracle.IsWrong(err) {
				return err
			}
			return fmt.Errorf("a small request failed: %s", status.Convert(err).Message())
		}
		err := request(ctx, c, i, 128, timings.Probes.Request, "probe: "+name)
		switch {
		case err == nil:
			return errors.New("a large request passed")
		case oracle.IsWrong(err):
			return err
		case status.Code(err) != codes.DeadlineExceeded:
			return fmt.Errorf("a large request failed, but not by timing out: %s: %s", status.Code(err), status.Convert(err).Message())
		}
		return nil
	})
}

// largeRequestsPass holds when a large request passes again.
func largeRequestsPass(i int) probe.Probe {
	return probe.New(fmt.Sprintf("large requests through party %d pass", i), func(ctx context.Context, c *cluster.Cluster) error {
		return request(ctx, c, i, 128, timings.Probes.Request, fmt.Sprintf("probe: large requests through party %d pass", i))
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
	return probe.New(fmt.Sprintf("a new PRSS epoch (kms-client new-epoch) fails, and another party's log names party %d", k), func(ctx context.Context, c *cluster.Cluster) error {
		var b [32]byte
		rand.Read(b[:])
		id := fmt.Sprintf("%x", b)
		asked := time.Now()
		res, err := c.NewEpoch(ctx, id)
		if err != nil {
			return err
		}
		if res.ExitCode == 0 {
			return errors.New("kms-client new-epoch succeeded")
		}
		// The client is told the code and the request id only, as the
		// real core-client is: the reason is in the parties' logs.
		j := 1
		if j == k {
			j = 2
		}
		logs, err := c.Party(j).LogsSince(ctx, asked)
		if err != nil {
			return err
		}
		if !regexp.MustCompile(fmt.Sprintf(`PRSS set-up of epoch %s failed: no PRSS contribution from parties \[([0-9 ]* )?%d( [0-9 ]*)?\]`, id, k)).MatchString(logs) {
			return fmt.Errorf("kms-client new-epoch failed (%s) but party %d's log does not name party %d", lastLines(res.Output(), 1), j, k)
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
		if res.ExitCode != 0 { // an empty listing of a vault that cannot be read proves nothing
			return fmt.Errorf("cannot list the storage: %s", lastLines(res.Output(), 2))
		}
		if strings.Contains(res.Stdout, ".partial.") {
			return fmt.Errorf("temp files left: %s", lastLines(res.Stdout, 3))
		}
		return nil
	})
}

// keySizedPartial holds when kms-admin ls in the keeper (the operator's
// debug pod) shows, beside party i's key share, the temp file of a killed
// write (".<id>.partial.<pid>.<seq>") at least as big as the share: the
// key-sized disk a crash pinned.
func keySizedPartial(i int, keyID string) probe.Probe {
	partial := regexp.MustCompile(`^\.[0-9a-f]{64}\.partial\.[0-9]+\.[0-9]+$`)
	return probe.New(fmt.Sprintf("a key-sized .partial file beside party %d's key share (kms-admin ls)", i), func(ctx context.Context, c *cluster.Cluster) error {
		share := c.KeyObject(i, "PRIV", material.FheKeyInfo, keyID)
		res, err := c.KeeperExec(ctx, "kms-admin", "ls", path.Dir(share))
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("cannot list the storage: %s", lastLines(res.Output(), 2))
		}
		shareSize, partialSize := int64(-1), int64(-1)
		for line := range strings.Lines(res.Stdout) {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			size, err := strconv.ParseInt(f[len(f)-2], 10, 64)
			switch p := f[len(f)-1]; {
			case err != nil:
			case p == share:
				shareSize = size
			case partial.MatchString(path.Base(p)):
				partialSize = max(partialSize, size)
			}
		}
		switch {
		case shareSize < 0:
			return fmt.Errorf("no key share listed: %s", lastLines(res.Stdout, 3))
		case partialSize < 0:
			return errors.New("no .partial file listed")
		case partialSize < shareSize:
			return fmt.Errorf("the .partial file holds %d bytes, less than the share's %d", partialSize, shareSize)
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

// memoryPressure holds when party i uses at least ratio of its memory
// limit, as `docker stats` shows it (MEM USAGE / LIMIT, MEM %): the
// guide's "Check resource limits and requests" and "Monitor real-time
// resource usage", read from the engine.
func memoryPressure(i int, ratio float64) probe.Probe {
	return probe.New(fmt.Sprintf("party %d uses at least %.0f%% of its memory limit (docker stats MEM %%)", i, 100*ratio), func(ctx context.Context, c *cluster.Cluster) error {
		used, limit, err := c.MemoryOf(ctx, i)
		if err != nil {
			return err
		}
		return underPressure(used, limit, ratio)
	})
}

// underPressure judges docker stats' MEM USAGE / LIMIT against ratio.
func underPressure(used, limit uint64, ratio float64) error {
	if limit == 0 || float64(used) < ratio*float64(limit) {
		return fmt.Errorf("%.1f MiB of %.1f MiB (%.0f%%)", float64(used)/(1<<20), float64(limit)/(1<<20), 100*float64(used)/float64(max(limit, 1)))
	}
	return nil
}

// neverRestarted holds while party i runs in the container it ran in just
// before the injection (Armed): not OOM-killed, not restarted. It catches
// a kill at any time during the scenario.
func neverRestarted(i int) probe.Probe {
	return probe.Since(fmt.Sprintf("party %d never OOM-killed nor restarted", i), probe.StateOf(i), sameRun)
}

// sameRun tells whether a container's state is still the run base saw:
// running, never OOM-killed, not restarted since.
func sameRun(base, st cluster.State) error {
	if st.OOMKilled || !st.Running || st.RestartCount != base.RestartCount || !st.StartedAt.Equal(base.StartedAt) {
		return fmt.Errorf("status %s, OOMKilled=%v, exit code %s, %d restarts since the fault", st.Status, st.OOMKilled, st.ExitStatus(), st.RestartCount-base.RestartCount)
	}
	return nil
}

// portListening holds when `kms-admin ss` (the guide's `ss -tuln | grep
// 50100`) run in party i's network namespace lists port as listening on
// every interface. It runs where an operator's debug container would
// (Party.NetExec): the party's own container may be crash-looping.
func portListening(i, port int) probe.Probe {
	return probe.New(fmt.Sprintf("ss in party %d's network namespace lists port %d listening", i, port), func(ctx context.Context, c *cluster.Cluster) error {
		res, err := c.Party(i).NetExec(ctx, c.Profile.AdminCmd("ss")...)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("ss exited %d: %s", res.ExitCode, lastLines(res.Output(), 2))
		}
		return listensOnEvery(res.Stdout, port)
	})
}

// listensOnEvery tells whether ss's listing has port listening on every
// interface. Go listens on 0.0.0.0 as a dual-stack socket: ss shows
// [::]:port.
func listensOnEvery(ss string, port int) error {
	want := regexp.MustCompile(fmt.Sprintf(`(?m)^LISTEN  (0\.0\.0\.0|\[::\]):%d$`, port))
	if !want.MatchString(ss) {
		return fmt.Errorf("port %d not listening on every interface: %s", port, lastLines(ss, 4))
	}
	return nil
}

// rateLimiterSaturated holds when party i's kms_rate_limiter_usage reads
// its whole bucket: what docs/operations/advanced/metrics.md bids an
// operator alert on ("alert if kms_rate_limiter_usage saturates"). The
// gauge is the party's own sample, taken every 5 s as the real party's is
// (observability/src/conf.rs, SYS_METRIC_REFRESH_INTERVAL_MS).
func rateLimiterSaturated(i, bucket int) probe.Probe {
	return probe.New(fmt.Sprintf("party %d's kms_rate_limiter_usage reads its whole bucket (%d)", i, bucket), func(ctx context.Context, c *cluster.Cluster) error {
		fams, err := probe.Scrape(ctx, c, i)
		if err != nil {
			return err
		}
		if _, ok := fams["kms_rate_limiter_usage"]; !ok {
			return errors.New("no kms_rate_limiter_usage among its metrics")
		}
		return saturated(probe.Sum(fams, "kms_rate_limiter_usage", nil), bucket)
	})
}

// saturated judges a usage reading against the bucket's size.
func saturated(usage float64, bucket int) error {
	if usage < float64(bucket) {
		return fmt.Errorf("kms_rate_limiter_usage %.0f of %d", usage, bucket)
	}
	return nil
}

// noKeyListed holds when party i's health check lists no FHE key: what the
// real tool shows of a lost key share (the ids in private storage, with
// "No keys found - run key generation").
func noKeyListed(i int) probe.Probe {
	return probe.HealthCheckSays(i, `\[OK\] FHE Keys: 0\n(?s:.*)No keys found - run key generation`)
}

// dfAbove holds when kms-admin df, the shell-less image's df -h, shows
// party i's keys volume used at a percentage matching percent (a regexp):
// the guide's custom-health-check.sh alerts above 85.
func dfAbove(i int, percent string) probe.Probe {
	return probe.KeeperMatches(fmt.Sprintf("kms-admin df of party %d's keys volume shows it used at /%s/%%", i, percent), 0,
		` used=`+percent+`%`, "kms-admin", "df", cluster.VolumePath(i, "keys"))
}

// backupWritable holds when the party's user can write its backup vault
// again: kms-admin mkdir run as uid in the keeper, the test directory
// removed after.
func backupWritable(i int, uid string) probe.Probe {
	return probe.New(fmt.Sprintf("party %d's user writes its backup vault", i), func(ctx context.Context, c *cluster.Cluster) error {
		dir := fmt.Sprintf("%s/BACKUP-p%d/.kmschaos-rw-test", cluster.VolumePath(i, "backup"), i)
		res, err := c.KeeperExec(ctx, "kms-admin", "run-as", uid+":"+uid, "--", "kms-admin", "mkdir", dir)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("kms-admin mkdir as %s: exit %d: %s", uid, res.ExitCode, lastLines(res.Output(), 2))
		}
		if res, err := c.KeeperExec(ctx, "kms-admin", "rm", "-rf", dir); err != nil || res.ExitCode != 0 {
			return fmt.Errorf("removing the test directory: %v %s", err, res.Output())
		}
		return nil
	})
}
