// Package verdict judges runbooks run against a cluster the one way the
// scenario runner and 'kmschaos runbook run' both do: every step must do
// what its expect says; then the cluster must be steady within a bound,
// every party's key material the baseline's, and nothing left different
// from the baseline besides what the runbooks that ran whole declare they
// renew. What only a scenario judges — the defect it expects of the
// guide, a restore by reset, who recovered, availability — stays in the
// scenario.
package verdict

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/runbook"
	"github.com/kmschaos/kmschaos/harness/secrets"
)

// Steady is the steady state runbooks must leave: every party Optimal, a
// fresh value decrypting right through every party.
var Steady = probe.New("steady state (every party Optimal, decrypts right through every party)", check.Steady)

// Judge judges runbooks run one after another on one cluster.
type Judge struct {
	C *cluster.Cluster
	// Touched are the parties on which what the runbooks declare they
	// renew is accepted: the fault's, or the party a runbook run by hand
	// is about.
	Touched []int
	// Scope are the parties the steady state and the key material are
	// judged on (runbook.Env.Scope); none: every party.
	Scope []int

	renews []string // what the runbooks that ran whole renewed on purpose
	test   *checks  // a test's stand-ins for the checks on the cluster
}

// checks are what a judge asks of the cluster after the steps.
type checks struct {
	steady probe.Probe
	keys   func(context.Context, *cluster.Cluster) error
	left   func(context.Context, *cluster.Cluster, check.Declared) error
}

func (j *Judge) checks() checks {
	if j.test != nil {
		return *j.test
	}
	if len(j.Scope) > 0 {
		return checks{steady: probe.New(fmt.Sprintf("steady state of parties %v (Optimal or missing only parties beyond them, decrypt right)", j.Scope), check.SteadyAmong(j.Scope)),
			keys: func(ctx context.Context, c *cluster.Cluster) error { return check.KeyMaterialIntactOf(ctx, c, j.Scope) }, left: check.NoFaultLeft}
	}
	return checks{steady: Steady, keys: check.KeyMaterialIntact, left: check.NoFaultLeft}
}

// Run runs rb's steps with env, against the judge's cluster. What a
// runbook that ran whole declares it renews, Left accepts; one that
// stopped half-way renewed nothing on purpose.
func (j *Judge) Run(ctx context.Context, rb *runbook.Runbook, env *runbook.Env) ([]report.Step, error) {
	steps, err := rb.Run(ctx, env)
	if err == nil {
		j.renews = append(j.renews, rb.Renews...)
	}
	return steps, err
}

// Steady waits up to within for the steady state, and for every probe of
// also with it.
func (j *Judge) Steady(ctx context.Context, within time.Duration, also ...probe.Probe) error {
	p := j.checks().steady
	if len(also) > 0 {
		p = probe.All(append([]probe.Probe{p}, also...)...)
	}
	return probe.Await(ctx, j.C, within, p)
}

// Keys fails, naming the objects, if any party's key material differs
// from the baseline.
func (j *Judge) Keys(ctx context.Context) error { return j.checks().keys(ctx, j.C) }

// Left fails, saying what, if anything differs from the baseline besides
// what the runbooks that ran whole renewed on the touched parties.
func (j *Judge) Left(ctx context.Context) error {
	return j.checks().left(ctx, j.C, check.Declared{Renews: j.renews, Touched: j.Touched})
}

// The checks after a runbook's steps, by name.
const (
	SteadyCheck = "steady state: every party Optimal, decrypts right through every party"
	KeysCheck   = "key material as the baseline"
	LeftCheck   = "nothing left different from the baseline"
)

// Check is one check after the steps: what it holds, why it did not
// (nil: it held), and when it was done, since the runbook began.
type Check struct {
	Name string
	Err  error
	At   time.Duration
}

// Verdict is one runbook judged whole.
type Verdict struct {
	Runbook string
	Party   int
	Steps   []report.Step
	// Err is how the steps ended: nil if every one did what it must, a
	// *runbook.StepError, a *runbook.DataLoss (key material lost), or
	// another error.
	Err                error
	Steady, Keys, Left Check
	Took               time.Duration
}

// Problems are why the runbook did not pass, a line each: how its steps
// ended, then each check that failed. None: it passed.
func (v *Verdict) Problems() []string {
	var out []string
	var loss *runbook.DataLoss
	switch {
	case errors.As(v.Err, &loss):
		out = append(out, "key material lost: "+v.Err.Error())
	case v.Err != nil:
		out = append(out, v.Err.Error())
	}
	if v.Steady.Err != nil {
		out = append(out, v.Steady.Err.Error()) // it names the steady state
	}
	for _, c := range []Check{v.Keys, v.Left} {
		if c.Err != nil {
			out = append(out, c.Name+": "+c.Err.Error())
		}
	}
	return out
}

// Runbook runs rb about env.Party on env.C and judges it whole: the
// steps, then the steady state within, the key material, and nothing
// left (what rb renews accepted on env.Party if it ran whole). A step's
// output is redacted of every secret the cluster holds while it runs.
// onCheck, if set, is told each check as soon as it is done. The error
// is one that kept the runbook from being judged.
func Runbook(ctx context.Context, rb *runbook.Runbook, env *runbook.Env, within time.Duration, onCheck func(Check)) (*Verdict, error) {
	j := &Judge{C: env.C, Touched: []int{env.Party}, Scope: env.Scope}
	return j.runbook(ctx, rb, env, within, onCheck)
}

func (j *Judge) runbook(ctx context.Context, rb *runbook.Runbook, env *runbook.Env, within time.Duration, onCheck func(Check)) (*Verdict, error) {
	start := time.Now()
	// A step's output may show a secret (a cat of a vault): masked.
	tracked, err := secrets.Track(ctx, j.C)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's secrets (to mask them in the output): %w", err)
	}
	defer tracked.Stop()
	v := &Verdict{Runbook: rb.Name, Party: env.Party}
	v.Steps, v.Err = j.Run(ctx, rb, env)
	done := func(name string, err error) Check {
		c := Check{Name: name, Err: err, At: time.Since(start)}
		if onCheck != nil {
			onCheck(c)
		}
		return c
	}
	steady, keys := SteadyCheck, KeysCheck
	if len(j.Scope) > 0 {
		steady = fmt.Sprintf("steady state of parties %v: Optimal (or missing only parties beyond them), decrypt right", j.Scope)
		keys = fmt.Sprintf("key material of parties %v as the baseline", j.Scope)
	}
	v.Steady = done(steady, j.Steady(ctx, within))
	v.Keys = done(keys, j.Keys(ctx))
	v.Left = done(LeftCheck, j.Left(ctx))
	v.Took = time.Since(start)
	return v, nil
}
