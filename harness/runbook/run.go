package runbook

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/secrets"
)

// Env is what a runbook runs against.
type Env struct {
	C     *cluster.Cluster
	Party int                             // the party the runbook is about: {{party}}
	Heal  func(ctx context.Context) error // heals the injected fault (heal steps)
	// Escalate answers an escalate step about Party: what the one asked
	// says back, or why the step fails. Nil: the step heals (Heal), the
	// harness standing for whoever was asked.
	Escalate func(ctx context.Context, ask string) (answer string, err error)
	// Scope are the parties the runbook is judged on: its expect
	// optimal, and the verdict's steady state and key material, look at
	// them alone. None: every party. (A game day's players' runbook: the
	// parties it touches, see Touches.)
	Scope []int
	Vars  map[string]string // more variables, or overrides
	Rec   *report.Recorder
	// OnStep, if set, is told each step as soon as it has run: what a
	// person watching the runbook sees.
	OnStep func(report.Step)
	// BeforeActing, if set, is called before the first step that may
	// change the cluster (Step.Acts), and before no other: the scenario
	// runner's observation of the fault goes on through the steps that
	// only look and ends there. Its error fails that step.
	BeforeActing func(ctx context.Context) error
}

// StepError is a runbook step that did not do what it must.
type StepError struct {
	Runbook, Step string
	Err           error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("runbook %q, step %q: %v", e.Runbook, e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// DataLoss is key material gone after a step.
type DataLoss struct {
	Runbook, Step string
	Objects       []string
}

func (e *DataLoss) Error() string {
	return fmt.Sprintf("runbook %q lost key material at step %q: %s", e.Runbook, e.Step, strings.Join(e.Objects, ", "))
}

var varRef = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

// expand fills {{var}} in args; an argument that is just a many-valued
// variable becomes several arguments.
func expand(args []string, v map[string][]string) ([]string, error) {
	var out []string
	for _, a := range args {
		if m := varRef.FindStringSubmatch(a); m != nil && m[0] == a {
			vals, ok := v[m[1]]
			if !ok {
				return nil, fmt.Errorf("unknown variable %s", m[0])
			}
			out = append(out, vals...)
			continue
		}
		var bad error
		out = append(out, varRef.ReplaceAllStringFunc(a, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			vals, ok := v[name]
			if !ok {
				bad = fmt.Errorf("unknown variable %s", ref)
			}
			return strings.Join(vals, " ")
		}))
		if bad != nil {
			return nil, bad
		}
	}
	return out, nil
}

// Run executes the steps in order. After every step it compares the key
// material with the baseline (a step after which it cannot be read
// fails). It stops at the first step that fails and returns a *StepError,
// or a *DataLoss when key objects went missing or changed before (that
// explains the failure better); a runbook that ends with key objects
// missing or changed returns a *DataLoss too, naming the step where they
// went.
//
// A runbook that does not validate, or whose declared variables the
// caller does not supply, is an error before any step runs.
func (rb *Runbook) Run(ctx context.Context, e *Env) ([]report.Step, error) {
	if !rb.valid {
		if err := rb.Validate(); err != nil {
			return nil, err
		}
	}
	if err := rb.CheckVars(e.Vars); err != nil {
		return nil, err
	}
	v := e.vars()
	var out []report.Step
	base := e.C.BaselineKeyMaterial()
	lostAt := map[string]string{} // object -> first step after which it differed
	set := map[string][]int{}     // resource declared a new baseline -> parties a step updated
	acting := e.BeforeActing
	for _, s := range rb.Steps {
		if acting != nil && s.Acts() {
			if err := acting(ctx); err != nil {
				return out, &StepError{Runbook: rb.Name, Step: s.Name, Err: err}
			}
			acting = nil
		}
		start := time.Now()
		rs := report.Step{Name: s.Name, Guide: s.Guide, UndoesFault: s.UndoesHarnessFault(), ChecksNothing: s.ChecksNothing()}
		output, cmd, err := rb.step(ctx, e, s, v, start)
		if err == nil {
			err = s.read(output, v)
		}
		took := time.Since(start)
		// The key material after every step: what the step lost, and any
		// secret it made (a fresh epoch), which the cluster's storage
		// watcher learns before the step's output is redacted. What cannot
		// be read cannot be said intact: the step fails.
		switch now, kerr := e.C.KeyMaterial(ctx); {
		case err != nil:
		case kerr != nil:
			err = fmt.Errorf("reading the key material after the step: %w", kerr)
		default:
			for i := 1; i <= e.C.Topology.N; i++ {
				for _, obj := range base.Diff(now, i) {
					if _, seen := lostAt[obj]; !seen {
						lostAt[obj] = s.Name
					}
				}
			}
		}
		rs.Command, rs.Output, rs.Took = cmd, secrets.Redact(output), took
		rs.OK = err == nil
		status := report.OK
		if err != nil {
			rs.Error = secrets.Redact(err.Error())
			status = report.Fail
		}
		if e.Rec != nil {
			e.Rec.Span(report.LaneRunbook, rb.Name+": "+s.Name, status, cmd+"\n"+rs.Error, start, time.Now())
		}
		out = append(out, rs)
		if e.OnStep != nil {
			e.OnStep(rs)
		}
		if err == nil {
			for _, what := range rb.Baseline {
				if s.sets(what) {
					ids, _ := parties(s.Engine.Parties, e.C.Topology.N, v)
					set[what] = append(set[what], ids...)
				}
			}
		}
		if err != nil {
			// Key material lost earlier explains a failure better than
			// the failure itself does.
			loss, lerr := rb.loss(ctx, e, base, lostAt)
			if loss != nil {
				loss.Objects = append(loss.Objects, fmt.Sprintf("(then step %q failed: %v)", s.Name, err))
				return out, loss
			}
			return out, &StepError{Runbook: rb.Name, Step: s.Name, Err: errors.Join(err, lerr)}
		}
	}
	if loss, err := rb.loss(ctx, e, base, lostAt); loss != nil || err != nil {
		if loss != nil {
			return out, loss
		}
		return out, fmt.Errorf("runbook %q: %w", rb.Name, err)
	}
	return out, rb.newBaseline(ctx, e, set)
}

// newBaseline makes the limits the runbook's update steps set, on the
// parties they set them, those parties' baseline: what the runbook
// declared (Baseline) and nothing else.
func (rb *Runbook) newBaseline(ctx context.Context, e *Env, set map[string][]int) error {
	byParty := map[int][]string{}
	for what, ids := range set {
		for _, i := range ids {
			byParty[i] = append(byParty[i], what)
		}
	}
	for i, whats := range byParty {
		st, err := e.C.Party(i).State(ctx)
		if err != nil {
			return fmt.Errorf("runbook %q: reading party %d's new limits: %w", rb.Name, i, err)
		}
		base := e.C.BaselineOf(i)
		r := cluster.Resources{Memory: base.Memory, NanoCPUs: base.NanoCPUs}
		for _, what := range whats {
			switch what {
			case BaselineMemory:
				r.Memory = st.Memory
			case BaselineCPUs:
				r.NanoCPUs = st.NanoCPUs
			}
		}
		if err := e.C.SetBaseline(ctx, i, r); err != nil {
			return fmt.Errorf("runbook %q: keeping party %d's new baseline: %w", rb.Name, i, err)
		}
		if e.Rec != nil {
			e.Rec.Mark(report.LaneRunbook, fmt.Sprintf("party %d: new baseline %s", i, strings.Join(whats, ", ")), report.Info, "declared by runbook "+rb.Name)
		}
	}
	return nil
}

// loss names the first step after which key objects went missing or
// changed and stayed so; an error if the key material cannot be read.
func (rb *Runbook) loss(ctx context.Context, e *Env, base cluster.Manifest, lostAt map[string]string) (*DataLoss, error) {
	now, err := e.C.KeyMaterial(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the key material at the end: %w", err)
	}
	byStep := map[string][]string{}
	for i := 1; i <= e.C.Topology.N; i++ {
		for _, obj := range base.Diff(now, i) {
			byStep[lostAt[obj]] = append(byStep[lostAt[obj]], obj)
		}
	}
	for _, s := range rb.Steps { // the first step, in runbook order
		if objs := byStep[s.Name]; len(objs) > 0 {
			sort.Strings(objs)
			if len(objs) > 6 {
				objs = append(objs[:6], fmt.Sprintf("and %d more", len(objs)-6))
			}
			return &DataLoss{Runbook: rb.Name, Step: s.Name, Objects: objs}, nil
		}
	}
	return nil, nil
}

func (rb *Runbook) step(ctx context.Context, e *Env, s Step, v map[string][]string, start time.Time) (output, command string, err error) {
	command = s.Command()
	switch {
	case s.Exec != nil:
		output, command, err = runExec(ctx, e, s, v)
	case s.inspects():
		output, err = inspect(ctx, e, s.Engine, v)
		if err == nil {
			err = judge(s.Expect, output)
		}
	case s.Engine != nil:
		err = runEngine(ctx, e, s.Engine, v)
	case s.Heal, s.Escalate != "" && e.Escalate == nil:
		if e.Heal == nil {
			err = fmt.Errorf("no fault to heal")
		} else {
			err = e.Heal(ctx)
		}
	case s.Escalate != "":
		var ask []string
		if ask, err = expand([]string{s.Escalate}, v); err == nil {
			command = "[escalate] " + ask[0]
			output, err = e.Escalate(ctx, ask[0])
		}
	case s.Wait > 0:
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(time.Duration(s.Wait)):
		}
	}
	if err != nil {
		return output, command, err
	}
	return output, command, poll(ctx, e, s.Expect, v, start)
}

func runExec(ctx context.Context, e *Env, s Step, v map[string][]string) (string, string, error) {
	args, err := expand(s.Exec.Command, v)
	if err != nil {
		return "", "", err
	}
	in := s.Exec.In
	if in == "" {
		in = "party"
	}
	command := fmt.Sprintf("[%s] %s", in, strings.Join(args, " "))
	var res cluster.ExecResult
	switch in {
	case "operator":
		res, err = e.C.Operate(ctx, args...)
	case "keeper":
		user := "0:0"
		if s.Exec.User == "party" {
			user = e.C.Profile.User
		}
		res, err = e.C.KeeperExecAs(ctx, user, args...)
		if user != "0:0" {
			command = fmt.Sprintf("[keeper as %s] %s", user, strings.Join(args, " "))
		}
	default:
		who := s.Exec.Party
		if who == "" {
			who = "{{party}}"
		}
		ids, perr := parties(who, e.C.Topology.N, v)
		if perr != nil || len(ids) != 1 {
			return "", command, fmt.Errorf("exec.party %q must name one party", who)
		}
		user := e.C.Profile.User
		if s.Exec.User == "root" {
			user = "0:0"
		}
		res, err = e.C.Party(ids[0]).ExecAs(ctx, user, args...)
		command = fmt.Sprintf("[party %d] %s", ids[0], strings.Join(args, " "))
	}
	if err != nil {
		return "", command, err
	}
	out := res.Output()
	x := s.Expect
	want := 0
	if x.Exit != nil {
		want = *x.Exit
	}
	if res.ExitCode != want && !x.AnyExit {
		return out, command, fmt.Errorf("exit status %d, want %d: %s", res.ExitCode, want, lastLine(out))
	}
	return out, command, judge(x, out)
}

// judge holds the step's output against its compiled patterns.
func judge(x Expect, out string) error {
	if x.output != nil && !x.output.MatchString(out) {
		return fmt.Errorf("output does not match /%s/: %s", x.Output, lastLine(out))
	}
	if x.notOutput != nil && x.notOutput.MatchString(out) {
		return fmt.Errorf("output matches /%s/: %q", x.NotOutput, x.notOutput.FindString(out))
	}
	return nil
}

// read sets the step's captured variables from its output.
func (s Step) read(out string, v map[string][]string) error {
	for _, name := range slices.Sorted(maps.Keys(s.captures)) {
		re := s.captures[name]
		m := re.FindStringSubmatch(out)
		if m == nil || m[1] == "" {
			return fmt.Errorf("capture %s: /%s/ finds nothing in the output: %s", name, re, lastLine(out))
		}
		v[name] = []string{m[1]}
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func runEngine(ctx context.Context, e *Env, g *Engine, v map[string][]string) error {
	ids, err := parties(g.Parties, e.C.Topology.N, v)
	if err != nil {
		return err
	}
	timeout := time.Duration(g.Timeout)
	if timeout == 0 {
		timeout = fixtures.Intervals.Runbook.EngineTimeout
	}
	values, err := expand([]string{g.Memory, g.CPUs}, v)
	if err != nil {
		return err
	}
	act := *g
	act.Memory, act.CPUs = values[0], values[1]
	// Parties are acted on at once, like the guide's "&" loops.
	errs := make(chan error, len(ids))
	for _, i := range ids {
		go func(i int) { errs <- engineOn(ctx, e, &act, i, timeout) }(i)
	}
	var first error
	for range ids {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func engineOn(ctx context.Context, e *Env, g *Engine, i int, timeout time.Duration) error {
	a, ok := engineActions[g.Action]
	if !ok || a.do == nil {
		return fmt.Errorf("unknown engine action %q", g.Action)
	}
	return a.do(ctx, e, g, i, timeout)
}

// engineAction is what an engine step does to one party.
type engineAction struct {
	timed bool // takes a timeout
	do    func(ctx context.Context, e *Env, g *Engine, i int, timeout time.Duration) error
}

// engineActions is every engine action, the one list validation and
// execution both read. inspect has no do: it is run once for all parties,
// for its output (see step).
var engineActions = map[string]engineAction{
	"stop": {timed: true, do: func(ctx context.Context, e *Env, _ *Engine, i int, timeout time.Duration) error {
		return e.C.Party(i).Stop(ctx, timeout)
	}},
	"start": {do: func(ctx context.Context, e *Env, _ *Engine, i int, _ time.Duration) error {
		return e.C.Party(i).Start(ctx)
	}},
	"restart": {timed: true, do: func(ctx context.Context, e *Env, _ *Engine, i int, timeout time.Duration) error {
		return e.C.Party(i).Restart(ctx, timeout)
	}},
	"kill": {do: func(ctx context.Context, e *Env, _ *Engine, i int, _ time.Duration) error {
		return e.C.Party(i).Kill(ctx)
	}},
	"pause": {do: func(ctx context.Context, e *Env, _ *Engine, i int, _ time.Duration) error {
		return e.C.Party(i).Pause(ctx)
	}},
	"unpause": {do: func(ctx context.Context, e *Env, _ *Engine, i int, _ time.Duration) error {
		return e.C.Party(i).Resume(ctx)
	}},
	"remove": {do: func(ctx context.Context, e *Env, _ *Engine, i int, _ time.Duration) error {
		return e.C.Party(i).Remove(ctx)
	}},
	"recreate": {do: func(ctx context.Context, e *Env, _ *Engine, i int, _ time.Duration) error {
		return e.C.Recreate(ctx, i)
	}},
	"rollback": {do: func(ctx context.Context, e *Env, _ *Engine, i int, _ time.Duration) error {
		return e.C.Rollback(ctx, i)
	}},
	"down": {timed: true, do: func(ctx context.Context, e *Env, _ *Engine, i int, timeout time.Duration) error {
		p := e.C.Party(i)
		if err := p.Stop(ctx, timeout); err != nil {
			return err
		}
		return p.Remove(ctx)
	}},
	"purge": {do: func(ctx context.Context, e *Env, _ *Engine, i int, _ time.Duration) error {
		res, err := e.C.KeeperExec(ctx, e.C.Profile.AdminCmd("empty", cluster.VolumePath(i, "keys"))...)
		return res.Check(err, fmt.Sprintf("emptying the keys volume of party %d", i))
	}},
	"prune": {do: func(ctx context.Context, e *Env, _ *Engine, i int, _ time.Duration) error {
		p := e.C.Party(i)
		st, err := p.State(ctx)
		if err != nil || st.Running || st.Restarting {
			return nil // gone already, or running: prune leaves it
		}
		return p.Remove(ctx)
	}},
	"update":  {do: update},
	"inspect": {},
}

func update(ctx context.Context, e *Env, g *Engine, i int, _ time.Duration) error {
	r := cluster.Resources{}
	if g.Memory != "" {
		b, err := parseMemory(g.Memory)
		if err != nil {
			return err
		}
		r.Memory = b
	}
	if g.CPUs != "" {
		cpus, err := parseCPUs(g.CPUs)
		if err != nil {
			return err
		}
		r.NanoCPUs = int64(cpus * 1e9)
	}
	return e.C.Party(i).Update(ctx, r)
}

// poll waits for the polled expectations of a step.
func poll(ctx context.Context, e *Env, x Expect, v map[string][]string, since time.Time) error {
	var probes []probe.Probe
	if x.Optimal {
		probes = append(probes, OptimalAmong(e.Scope))
	}
	if x.Health != "" {
		probes = append(probes, probe.HealthStatus(e.Party, strings.Split(x.Health, "|")...))
	}
	if x.Decrypt != "" {
		ids, err := parties(x.Decrypt, e.C.Topology.N, v)
		if err != nil {
			return err
		}
		probes = append(probes, probe.Decrypts(ids...))
	}
	if x.Readable != "" {
		ids, err := parties(x.Readable, e.C.Topology.N, v)
		if err != nil {
			return err
		}
		probes = append(probes, readable(e.C, ids))
	}
	if x.Restarted != "" {
		ids, err := parties(x.Restarted, e.C.Topology.N, v)
		if err != nil {
			return err
		}
		probes = append(probes, probe.StartedSince(since, ids...))
	}
	if len(probes) == 0 {
		return nil
	}
	within := time.Duration(x.Within)
	if within == 0 {
		within = fixtures.Intervals.Runbook.ExpectWithin
	}
	return probe.Await(ctx, e.C, within, probe.All(probes...))
}

// readable holds when each party's user can read every file of its key
// vaults: what the party needs to start.
func readable(c *cluster.Cluster, ids []int) probe.Probe {
	return probe.New(fmt.Sprintf("the user of parties %v can read their key files", ids), func(ctx context.Context, c *cluster.Cluster) error {
		for _, i := range ids {
			keys := cluster.VolumePath(i, "keys")
			res, err := c.KeeperExecAs(ctx, c.Profile.User, c.Profile.AdminCmd("sha256sum",
				path.Join(keys, fmt.Sprintf("PRIV-p%d", i)), path.Join(keys, fmt.Sprintf("PUB-p%d", i)))...)
			if err != nil {
				return err
			}
			if res.ExitCode != 0 {
				return fmt.Errorf("party %d: %s", i, lastLine(res.Output()))
			}
		}
		return nil
	})
}
