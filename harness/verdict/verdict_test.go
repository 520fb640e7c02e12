package verdict

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/runbook"
)

// stand-ins are a judge's checks on a fake cluster: each holds unless
// told why not; left keeps what the runbooks declared.
type standIns struct {
	steady, keys, left error
	declared           check.Declared
}

func (s *standIns) judge(c *cluster.Cluster, touched ...int) *Judge {
	return &Judge{C: c, Touched: touched, test: &checks{
		steady: probe.New(Steady.Name(), func(context.Context, *cluster.Cluster) error { return s.steady }),
		keys:   func(context.Context, *cluster.Cluster) error { return s.keys },
		left: func(_ context.Context, _ *cluster.Cluster, d check.Declared) error {
			s.declared = d
			return s.left
		},
	}}
}

// fake is a cluster of fake parties (n=4); party 2 answers the runbook's
// command with exit status code.
func fake(t *testing.T, code *int) *cluster.Cluster {
	t.Helper()
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	parties[1].OnExec = func(string, []string) cluster.ExecResult {
		return cluster.ExecResult{ExitCode: *code, Stdout: "epoch renewed\n"}
	}
	return c
}

func renewEpoch(t *testing.T) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Parse("runbooks/renew.yaml", []byte(`name: renew
origin: repaired
renews: [prss-epoch]
steps:
  - name: Renew the epoch
    exec: {command: [renew]}
`))
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

// A runbook whose steps and checks all hold passes; each check is told
// as it is done, in order.
func TestRunbookPasses(t *testing.T) {
	code := 0
	s := &standIns{}
	var told []string
	cl := fake(t, &code)
	v, err := s.judge(cl, 2).runbook(context.Background(), renewEpoch(t), &runbook.Env{C: cl, Party: 2}, 0, func(c Check) {
		told = append(told, c.Name)
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := v.Problems(); len(p) != 0 || len(v.Steps) != 1 || !v.Steps[0].OK {
		t.Errorf("problems %q, steps %+v; want it passed, its one step ok", p, v.Steps)
	}
	if !slices.Equal(told, []string{SteadyCheck, KeysCheck, LeftCheck}) {
		t.Errorf("checks told %q", told)
	}
}

// Each check that does not hold fails the verdict, saying which and why;
// a step that fails does too, and the checks are still made.
func TestEachCheckCanFail(t *testing.T) {
	for _, c := range []struct {
		name string
		code int
		s    standIns
		want string
	}{
		{"step", 1, standIns{}, `runbook "renew", step "Renew the epoch": exit status 1, want 0`},
		{"steady", 0, standIns{steady: errors.New("party 3: reaches 3 of 4 nodes")},
			"steady state (every party Optimal, decrypts right through every party): not within 0s: party 3: reaches 3 of 4 nodes"},
		{"keys", 0, standIns{keys: errors.New("key material differs from the baseline: missing or changed: x")},
			"key material as the baseline: key material differs from the baseline: missing or changed: x"},
		{"left", 0, standIns{left: errors.New("left behind: party 2: paused")},
			"nothing left different from the baseline: left behind: party 2: paused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code := c.code
			cl := fake(t, &code)
			checked := 0
			v, err := c.s.judge(cl, 2).runbook(context.Background(), renewEpoch(t), &runbook.Env{C: cl, Party: 2}, 0, func(Check) { checked++ })
			if err != nil {
				t.Fatal(err)
			}
			p := v.Problems()
			if len(p) != 1 || !strings.HasPrefix(p[0], c.want) {
				t.Errorf("problems %q, want one: %q", p, c.want)
			}
			if checked != 3 {
				t.Errorf("%d checks made, want all 3", checked)
			}
		})
	}
}

// Key material lost in a step is said as such.
func TestKeyMaterialLost(t *testing.T) {
	v := &Verdict{Err: &runbook.DataLoss{Runbook: "purge", Step: "Empty the vault", Objects: []string{"PRIV-p2/FheKeyInfo/4acd"}}}
	want := `key material lost: runbook "purge" lost key material at step "Empty the vault": PRIV-p2/FheKeyInfo/4acd`
	if p := v.Problems(); len(p) != 1 || p[0] != want {
		t.Errorf("problems %q, want %q", p, want)
	}
}

// What a runbook renews is accepted on the party it is about only if it
// ran whole: one that stopped half-way renewed nothing on purpose, and
// what it changed is left behind.
func TestRenewsAcceptedOnlyWhenRunWhole(t *testing.T) {
	for _, c := range []struct {
		code   int
		renews []string
	}{{0, []string{runbook.RenewsEpoch}}, {1, nil}} {
		code := c.code
		cl := fake(t, &code)
		s := &standIns{}
		if _, err := s.judge(cl, 2).runbook(context.Background(), renewEpoch(t), &runbook.Env{C: cl, Party: 2}, 0, nil); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.declared.Renews, c.renews) || !slices.Equal(s.declared.Touched, []int{2}) {
			t.Errorf("step exit %d: the audit accepted %+v, want renews %q on party 2", code, s.declared, c.renews)
		}
	}
}

// The steady state is awaited with the probes a caller adds, all of
// them named in what did not hold.
func TestSteadyWithMoreProbes(t *testing.T) {
	code := 0
	s := &standIns{}
	j := s.judge(fake(t, &code))
	more := probe.New("party 3 restarted", func(context.Context, *cluster.Cluster) error { return errors.New("restarts 0") })
	err := j.Steady(context.Background(), 0, more)
	if err == nil || !strings.Contains(err.Error(), "[party 3 restarted]") || !strings.Contains(err.Error(), "restarts 0") {
		t.Errorf("steady with a probe that fails: %v", err)
	}
	if err := j.Steady(context.Background(), 0); err != nil {
		t.Errorf("steady alone: %v", err)
	}
}
