package scenarios

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/health"
)

// More than t parties down, judged with the client the Helm chart
// deploys. The pages grade a 13-party network by parties reachable
// (docs/operations/advanced/metrics.md, "13-Party Network Health
// Status") and call the grades "functional" and "operational"
// (tools/kms-health-check/README.md, "Health Status Levels"); the chart's
// kmsCoreClient lists every party in [[cores]] with num_majority 5 and
// num_reconstruct 9 (charts/kms-core/values.yaml:257-258,
// templates/kms-core-client-configmap.yaml). The sweep kills one party
// more at a time, down to t left, and at each count measures the three:
// what kms-health-check grades, what the chart's client gets, and what a
// decryption through one party gets.

// quorumRow is what was measured at one count of reachable parties.
type quorumRow struct {
	Grade       string        // the grade line of kms-health-check on a survivor
	ClientValue *uint64       // what the chart's client printed, nil if it failed
	ClientExit  int           // its exit code
	ClientSaid  string        // its output's last line
	ClientTook  time.Duration // its wall time
	OneParty    error         // a decryption through a survivor
}

// quorumSweep kills order one at a time, measuring before the first kill
// and after each; rows are keyed by the parties still reachable.
type quorumSweep struct {
	n, observer int
	order       []int
	mu          sync.Mutex
	rows        map[int]quorumRow
}

func (s *quorumSweep) row(reachable int) (quorumRow, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[reachable]
	return r, ok
}

// fault is the sweep as one fault: its heal starts every party it killed.
// While it measures, a killed party's client link refuses, as a
// Kubernetes Service with no ready endpoint does; toxiproxy would accept
// and reset instead, after a slow lookup of the stopped container (about
// 0.7 s a try, 5.5 s a run of the client, measured). The links are back
// when it returns: what is left is the killed parties, for the runbook.
func (s *quorumSweep) fault() fault.Fault {
	name := fmt.Sprintf("SIGKILL parties %v one at a time, measuring at each count of reachable parties", s.order)
	return fault.New(name, fault.Process, s.order, func(ctx context.Context, c *cluster.Cluster) (fault.Heal, error) {
		var kills, links []fault.Heal
		undo := func(hs []fault.Heal) fault.Heal {
			return func(ctx context.Context) error {
				var errs []error
				for _, h := range hs {
					errs = append(errs, h(ctx))
				}
				return errors.Join(errs...)
			}
		}
		heal := func(ctx context.Context) error { return errors.Join(undo(links)(ctx), undo(kills)(ctx)) }
		err := s.measure(ctx, c, s.n)
		for k, p := range s.order {
			if err != nil {
				break
			}
			// The link first: toxiproxy stalls disabling a link whose
			// upstream is dead while clients keep dialling it (measured
			// at n=4: 25 s, then an unreadable answer).
			var h fault.Heal
			h, err = fault.ClientRefused(p).Inject(ctx, c)
			links = append(links, h)
			if err == nil {
				h, err = fault.Kill(p).Inject(ctx, c)
				kills = append(kills, h)
			}
			if err == nil {
				err = s.measure(ctx, c, s.n-k-1)
			}
		}
		return heal, errors.Join(err, undo(links)(ctx))
	})
}

// measure takes one row: the three measurements at once.
func (s *quorumSweep) measure(ctx context.Context, c *cluster.Cluster, reachable int) error {
	var r quorumRow
	var hcErr, clErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		var rep probe.Report
		rep, hcErr = probe.Live(ctx, c, s.observer)
		r.Grade = rep.Grade()
	})
	wg.Go(func() { clErr = s.chartClient(ctx, c, &r) })
	wg.Go(func() {
		_, r.OneParty = oracle.Decrypt(ctx, c, oracle.Request{Party: s.observer, By: "probe: quorum sweep, one party"})
	})
	wg.Wait()
	if hcErr != nil || clErr != nil {
		return fmt.Errorf("at %d reachable: health check: %v; chart's client: %v", reachable, hcErr, clErr)
	}
	s.mu.Lock()
	s.rows[reachable] = r
	s.mu.Unlock()
	return nil
}

// chartClient runs kms-client as the chart's core-client, from the
// operator's debug pod (the keeper) on the cluster network: its config
// lists every party through its client link, with the chart's counts and
// each party's public folder.
func (s *quorumSweep) chartClient(ctx context.Context, c *cluster.Cluster, r *quorumRow) error {
	var conf strings.Builder
	fmt.Fprintf(&conf, "kms_type = \"threshold\"\nnum_majority = %d\nnum_reconstruct = %d\n", chartMajority(s.n), chartReconstruct(s.n))
	for i := 1; i <= s.n; i++ {
		fmt.Fprintf(&conf, "[[cores]]\nparty_id = %d\naddress = \"http://%s\"\ns3_endpoint = %q\nobject_folder = \"PUB-p%d\"\n",
			i, c.ClientProxyAddr(i), cluster.VolumePath(i, "keys"), i)
	}
	want := oracleValue()
	ct, err := c.Key.Encrypt(rand.Reader, want)
	if err != nil {
		return err
	}
	res, err := c.KeeperExec(ctx, "bash", "-c", `printf %s "$1" > /tmp/core-client.toml && exec kms-client public-decrypt -f /tmp/core-client.toml --ciphertext "$2"`,
		"chart-client", conf.String(), hex.EncodeToString(ct))
	if err != nil {
		return err
	}
	out := strings.TrimSpace(res.Output())
	lines := strings.Split(out, "\n")
	r.ClientExit, r.ClientSaid, r.ClientTook = res.ExitCode, lines[len(lines)-1], res.Took
	if res.ExitCode != 0 {
		return nil
	}
	got, err := strconv.ParseUint(strings.TrimSpace(res.Stdout), 10, 64)
	if err != nil {
		return fmt.Errorf("the chart's client exited 0 without a value: %q", out)
	}
	r.ClientValue = &got
	if got != want {
		w := oracle.Wrong{At: time.Now(), Sent: want, Got: got, By: "the chart's core-client (every party, num_majority)"}
		oracle.WitnessOf(c).Saw(w)
		return &oracle.WrongError{Wrong: w}
	}
	return nil
}

// oracleValue is a fresh random value to encrypt.
func oracleValue() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// The chart's counts at n = 13 (values.yaml:257-258); scaled for a
// smaller test cluster as t+1 and 2t+1 of it.
func chartMajority(n int) int    { return n/3 + 1 }
func chartReconstruct(n int) int { return 2*(n/3) + 1 }

// pagesCall is what metrics.md's table calls r reachable parties of n.
func pagesCall(n, t, r int) string {
	switch {
	case r >= n:
		return `Optimal, "Normal operations"`
	case r >= health.MinHealthy(n):
		return `Healthy, "functional"`
	case r >= t+1:
		return `Degraded, "operational with reduced fault tolerance"`
	}
	return `Unhealthy, "Cannot perform threshold operations"`
}

// rowProbe holds when the row at reachable parties was measured and is
// what the scenario claims: the health check's grade, the chart's client
// decrypting only with every party up, one party decrypting down to t+1.
type rowProbe struct {
	s            *quorumSweep
	t, reachable int
}

func (p rowProbe) clientOK() bool { return p.reachable == p.s.n }
func (p rowProbe) oneOK() bool    { return p.reachable > p.t }
func (p rowProbe) grade() string  { return health.Name(health.Grade(p.s.n, p.reachable)) }
func (p rowProbe) verdict(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func (p rowProbe) Name() string {
	return fmt.Sprintf("%d of %d reachable: kms-health-check %s, the pages %s; the chart's client %s; one party %s",
		p.reachable, p.s.n, p.grade(), pagesCall(p.s.n, p.t, p.reachable),
		p.verdict(p.clientOK(), "decrypts right", "exits 1"), p.verdict(p.oneOK(), "decrypts right", "fails closed"))
}

func (p rowProbe) Check(context.Context, *cluster.Cluster) error {
	r, ok := p.s.row(p.reachable)
	if !ok {
		return fmt.Errorf("not measured yet")
	}
	var bad []string
	if r.Grade != p.grade() {
		bad = append(bad, fmt.Sprintf("kms-health-check graded %q", r.Grade))
	}
	if got := r.ClientExit == 0 && r.ClientValue != nil; got != p.clientOK() {
		bad = append(bad, fmt.Sprintf("the chart's client exited %d: %s", r.ClientExit, r.ClientSaid))
	}
	if oracle.IsWrong(r.OneParty) {
		return r.OneParty
	}
	if (r.OneParty == nil) != p.oneOK() {
		bad = append(bad, fmt.Sprintf("one party: %v", r.OneParty))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

// Note is the chart's client's answer and wall time, for the timeline.
func (p rowProbe) Note() string {
	r, _ := p.s.row(p.reachable)
	return fmt.Sprintf("the chart's client: exit %d in %s: %s", r.ClientExit, r.ClientTook.Round(time.Millisecond), r.ClientSaid)
}

// quorumScenario builds the sweep's plan.
func quorumScenario(e *scenario.Env) scenario.Plan {
	survivors := e.Pick(e.T)
	order := e.Others(survivors...)
	e.Rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	s := &quorumSweep{n: e.N, observer: survivors[0], order: order, rows: map[int]quorumRow{}}
	var rows []probe.Probe
	for r := e.N; r >= e.T; r-- {
		rows = append(rows, rowProbe{s: s, t: e.T, reachable: r})
	}
	return scenario.Plan{
		Faults:          []fault.Fault{s.fault()},
		BeyondThreshold: true,
		Detect:          rows,
		Target:          survivors[0], Runbooks: []string{"start-parties"}, Vars: map[string]string{"targets": list(sortedCopy(order))},
		Defects: []string{fmt.Sprintf("the pages call %d-%d reachable parties Healthy, \"functional\", and %d-%d Degraded, \"operational with reduced fault tolerance\" "+
			"(docs/operations/advanced/metrics.md, tools/kms-health-check/README.md), and down to t+1 = %d a decryption through one party does work; "+
			"but the client the chart deploys (every party in [[cores]], num_majority %d, num_reconstruct %d) exits 1 with a transport error as soon as one party is down: "+
			"core-client connects to every core of its file before it sends anything and stops at the first it cannot reach (core-client/src/lib.rs:1933), "+
			"so for it nothing decrypts below %d of %d reachable, and num_majority and num_reconstruct never come into play",
			health.MinHealthy(e.N), e.N-1, e.T+1, health.MinHealthy(e.N)-1, e.T+1, chartMajority(e.N), chartReconstruct(e.N), e.N, e.N)},
	}
}

func sortedCopy(xs []int) []int {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}
