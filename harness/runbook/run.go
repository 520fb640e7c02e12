package runbook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/secrets"
	"github.com/kmschaos/kmschaos/kms/material"
)

// Env is what a runbook runs against.
type Env struct {
	C     *cluster.Cluster
	Party int                             // the party the runbook is about: {{party}}
	Heal  func(ctx context.Context) error // heals the injected fault (heal steps)
	Vars  map[string]string               // more variables, or overrides
	Rec   *report.Recorder
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

// vars are the variables of a run: one value each, except addresses.
func (e *Env) vars() map[string][]string {
	c, i := e.C, e.Party
	p := c.Profile
	fresh := make([]byte, 32)
	rand.Read(fresh)
	v := map[string][]string{
		"party":           {strconv.Itoa(i)},
		"n":               {strconv.Itoa(c.Topology.N)},
		"t":               {strconv.Itoa(c.Topology.T)},
		"toxiproxy_ip":    {c.ToxiproxyIP()},
		"cpus":            {strconv.FormatFloat(float64(c.BaselineResources().NanoCPUs)/1e9, 'f', -1, 64)},
		"client_endpoint": {c.ClientProxyAddr(i)},
		"uid":             {p.UID()},
		"key_id":          {c.Key.KeyID},
		"epoch_id":        {material.DefaultEpochID},
		"fresh_epoch":     {hex.EncodeToString(fresh)},
		"endpoint":        {fmt.Sprintf("localhost:%d", p.APIPort)},
		"config":          {c.ConfigPath(i)},
		"backup_config":   {c.BackupConfigPath(i)},
		"keys":            {cluster.VolumePath(i, "keys")},
		"backup_volume":   {cluster.VolumePath(i, "backup")},
		"priv":            {path.Join(cluster.VolumePath(i, "keys"), fmt.Sprintf("PRIV-p%d", i))},
		"pub":             {path.Join(cluster.VolumePath(i, "keys"), fmt.Sprintf("PUB-p%d", i))},
		"backup":          {path.Join(cluster.VolumePath(i, "backup"), fmt.Sprintf("BACKUP-p%d", i))},
		"p_keys":          {p.KeysDir},
		"p_priv":          {path.Join(p.KeysDir, fmt.Sprintf("PRIV-p%d", i))},
		"p_pub":           {path.Join(p.KeysDir, fmt.Sprintf("PUB-p%d", i))},
		"p_backup":        {path.Join(p.BackupDir, fmt.Sprintf("BACKUP-p%d", i))},
		"p_config":        {p.ConfigFile},
		"p_backup_config": {path.Join(p.BackupDir, path.Base(p.ConfigFile))},
	}
	for j := 1; j <= c.Topology.N; j++ {
		v["addresses"] = append(v["addresses"], fmt.Sprintf("http://kms-party-%d:%d", j, p.APIPort))
	}
	// A healthy peer's public vault, for restoring public material.
	peer := 1 + i%c.Topology.N
	v["peer_pub"] = []string{path.Join(cluster.VolumePath(peer, "keys"), fmt.Sprintf("PUB-p%d", peer))}
	for k, val := range e.Vars {
		v[k] = []string{val}
	}
	return v
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

// Run executes the steps in order. It stops at the first step that fails
// and returns a *StepError; after every step it compares the key material
// with the baseline, and returns a *DataLoss if the runbook ends with key
// objects missing or changed, naming the step where they went.
func (rb *Runbook) Run(ctx context.Context, e *Env) ([]report.Step, error) {
	v := e.vars()
	var out []report.Step
	base := e.C.BaselineKeyMaterial()
	lostAt := map[string]string{} // object -> first step after which it differed
	for _, s := range rb.Steps {
		start := time.Now()
		rs := report.Step{Name: s.Name, Guide: s.Guide}
		output, cmd, err := rb.step(ctx, e, s, v, start)
		rs.Command, rs.Output, rs.Took = cmd, secrets.Redact(output), time.Since(start)
		if err == nil {
			if now, kerr := e.C.KeyMaterial(ctx); kerr == nil {
				for i := 1; i <= e.C.Topology.N; i++ {
					for _, obj := range base.Diff(now, i) {
						if _, seen := lostAt[obj]; !seen {
							lostAt[obj] = s.Name
						}
					}
				}
			}
		}
		rs.OK = err == nil
		status := report.OK
		if err != nil {
			rs.Error = err.Error()
			status = report.Fail
		}
		if e.Rec != nil {
			e.Rec.Span(report.LaneRunbook, rb.Name+": "+s.Name, status, cmd+"\n"+rs.Error, start, time.Now())
		}
		out = append(out, rs)
		if err != nil {
			// Key material lost earlier explains a failure better than
			// the failure itself does.
			if loss := rb.loss(ctx, e, base, lostAt); loss != nil {
				loss.Objects = append(loss.Objects, fmt.Sprintf("(then step %q failed: %v)", s.Name, err))
				return out, loss
			}
			return out, &StepError{Runbook: rb.Name, Step: s.Name, Err: err}
		}
	}
	if loss := rb.loss(ctx, e, base, lostAt); loss != nil {
		return out, loss
	}
	return out, nil
}

// loss names the first step after which key objects went missing or
// changed and stayed so.
func (rb *Runbook) loss(ctx context.Context, e *Env, base cluster.Manifest, lostAt map[string]string) *DataLoss {
	now, err := e.C.KeyMaterial(ctx)
	if err != nil {
		return nil
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
			return &DataLoss{Runbook: rb.Name, Step: s.Name, Objects: objs}
		}
	}
	return nil
}

func (rb *Runbook) step(ctx context.Context, e *Env, s Step, v map[string][]string, start time.Time) (output, command string, err error) {
	command = s.Command()
	switch {
	case s.Exec != nil:
		output, command, err = runExec(ctx, e, s, v)
	case s.Engine != nil:
		err = runEngine(ctx, e, s.Engine, v)
	case s.Heal:
		if e.Heal == nil {
			err = fmt.Errorf("no fault to heal")
		} else {
			err = e.Heal(ctx)
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
	if in == "keeper" {
		user := "0:0"
		if s.Exec.User == "party" {
			user = e.C.Profile.User
		}
		res, err = e.C.KeeperExecAs(ctx, user, args...)
		if user != "0:0" {
			command = fmt.Sprintf("[keeper as %s] %s", user, strings.Join(args, " "))
		}
	} else {
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
	if x.Output != "" && !regexp.MustCompile(x.Output).MatchString(out) {
		return out, command, fmt.Errorf("output does not match /%s/: %s", x.Output, lastLine(out))
	}
	if x.NotOutput != "" && regexp.MustCompile(x.NotOutput).MatchString(out) {
		return out, command, fmt.Errorf("output matches /%s/", x.NotOutput)
	}
	return out, command, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// parties reads a party list: "{{party}}", "all", "1-4", "1,3,5".
func parties(spec string, n int, v map[string][]string) ([]int, error) {
	spec, _ = strings.CutSuffix(strings.TrimSpace(spec), " ")
	if spec == "" {
		spec = "{{party}}"
	}
	expanded, err := expand([]string{spec}, v)
	if err != nil {
		return nil, err
	}
	spec = expanded[0]
	if spec == "all" {
		out := make([]int, n)
		for i := range out {
			out[i] = i + 1
		}
		return out, nil
	}
	var out []int
	for _, part := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad party list %q", spec)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("bad party list %q", spec)
			}
		}
		for i := a; i <= b; i++ {
			if i < 1 || i > n {
				return nil, fmt.Errorf("party %d out of 1..%d", i, n)
			}
			out = append(out, i)
		}
	}
	return out, nil
}

func runEngine(ctx context.Context, e *Env, g *Engine, v map[string][]string) error {
	ids, err := parties(g.Parties, e.C.Topology.N, v)
	if err != nil {
		return err
	}
	timeout := time.Duration(g.Timeout)
	if timeout == 0 {
		timeout = 10 * time.Second
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
	p := e.C.Party(i)
	switch g.Action {
	case "stop":
		return p.Stop(ctx, timeout)
	case "start":
		return p.Start(ctx)
	case "restart":
		return p.Restart(ctx, timeout)
	case "kill":
		return p.Kill(ctx)
	case "pause":
		return p.Pause(ctx)
	case "unpause":
		return p.Resume(ctx)
	case "remove":
		return p.Remove(ctx)
	case "recreate":
		return e.C.Recreate(ctx, i)
	case "down":
		if err := p.Stop(ctx, timeout); err != nil {
			return err
		}
		return p.Remove(ctx)
	case "purge":
		res, err := e.C.KeeperExec(ctx, append(append([]string{}, e.C.Profile.Admin...), "empty", cluster.VolumePath(i, "keys"))...)
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("emptying the keys volume of party %d: %s", i, res.Output())
		}
		return err
	case "prune":
		st, err := p.State(ctx)
		if err != nil || st.Running || st.Restarting {
			return nil // gone already, or running: prune leaves it
		}
		return p.Remove(ctx)
	case "update":
		r := container.Resources{}
		if g.Memory != "" {
			b, err := units.RAMInBytes(g.Memory)
			if err != nil {
				return err
			}
			r.Memory, r.MemorySwap = b, b
		}
		if g.CPUs != "" {
			cpus, err := strconv.ParseFloat(g.CPUs, 64)
			if err != nil || cpus <= 0 {
				return fmt.Errorf("cpus must be a positive number, got %q", g.CPUs)
			}
			r.NanoCPUs = int64(cpus * 1e9)
		}
		return p.Update(ctx, r)
	}
	return fmt.Errorf("unknown engine action %q", g.Action)
}

// poll waits for the polled expectations of a step.
func poll(ctx context.Context, e *Env, x Expect, v map[string][]string, since time.Time) error {
	var probes []probe.Probe
	if x.Optimal {
		probes = append(probes, probe.New("every party Optimal", func(ctx context.Context, c *cluster.Cluster) error {
			return c.CheckOptimal(ctx)
		}))
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
		within = 90 * time.Second
	}
	return probe.Await(ctx, e.C, within, probe.All(probes...))
}

// readable holds when each party's user can read every file of its key
// vaults: what the party needs to start.
func readable(c *cluster.Cluster, ids []int) probe.Probe {
	return probe.New(fmt.Sprintf("the user of parties %v can read their key files", ids), func(ctx context.Context, c *cluster.Cluster) error {
		for _, i := range ids {
			keys := cluster.VolumePath(i, "keys")
			res, err := c.KeeperExecAs(ctx, c.Profile.User, append(append([]string{}, c.Profile.Admin...), "sha256sum",
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
