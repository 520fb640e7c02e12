// Package runbook runs the guide's resolution and emergency procedures as
// named steps with postconditions. Runbooks are data: YAML files under
// runbooks/ that a user writes without Go. Every runbook is validated
// completely when it is loaded (patterns compiled, placeholders, party
// lists, sizes and names checked), so that nothing about its shape can go
// wrong once a fault is injected. A step that fails, or one after which
// key material is gone, is reported as a defect of the runbook, naming
// the step.
package runbook

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"go.yaml.in/yaml/v3"

	"github.com/kmschaos/kmschaos/harness/guide"
)

// Origins of a runbook: who wrote the procedure that recovers the cluster.
const (
	// OriginGuide: the guide's procedure as written (files named
	// *-as-written, and those that run the guide's own steps unchanged).
	OriginGuide = "guide"
	// OriginRepaired: our repair of a procedure the guide gets wrong.
	OriginRepaired = "repaired"
	// OriginHarness: a procedure that only undoes the harness's own fault.
	OriginHarness = "harness"
	// OriginOperations: a procedure from the real KMS's operations pages
	// (zama-ai/kms docs/operations: kubectl, helm), as an operator of a
	// Kubernetes deployment runs it, not from the troubleshooting guide.
	OriginOperations = "operations"
)

// Runbook is one procedure.
type Runbook struct {
	Name        string `yaml:"name"`
	Guide       string `yaml:"guide"` // where the guide gives it
	Description string `yaml:"description"`
	// Origin says whose procedure this is: OriginGuide, OriginRepaired,
	// OriginHarness or OriginOperations; the scorecard's "recovered by" is
	// read from it.
	Origin string `yaml:"origin"`
	// Renews declares the key objects the runbook replaces on purpose, so
	// that the audit after the scenario accepts them and nothing else:
	// RenewsEpoch (kms-init with a fresh epoch id sets up a new PRSS epoch
	// on every party; the faulted parties' old one may be gone) and
	// RenewsCertificate (the faulted parties' peer-link certificate is
	// re-issued for the same key).
	Renews []string `yaml:"renews"`
	// Baseline declares the resources the runbook changes on purpose
	// (BaselineMemory, BaselineCPUs): once it has run whole, the limits its
	// engine update steps set become the new baseline of the parties they
	// changed, so the audit holds them to the new value instead of
	// reporting a fault left behind.
	Baseline []string `yaml:"baseline"`
	// Vars are variables beyond the built-in ones (Builtins) that the
	// caller must supply (Env.Vars), e.g. targets, observer.
	Vars   []string `yaml:"vars"`
	Steps  []Step   `yaml:"steps"`
	Source string   `yaml:"-"` // file it was read from

	valid bool
}

// What a runbook may declare as a new baseline (Runbook.Baseline).
const (
	BaselineMemory = "memory"
	BaselineCPUs   = "cpus"
)

// What a runbook may renew (Runbook.Renews).
const (
	RenewsEpoch       = "prss-epoch"
	RenewsCertificate = "tls-certificate"
)

// Step is one action and what must hold after it. Exactly one of Exec,
// Engine, Heal, Escalate and Wait, or none when the step only checks.
type Step struct {
	Name   string  `yaml:"name"`
	Guide  string  `yaml:"guide"` // the guide's words or command
	Exec   *Exec   `yaml:"exec"`
	Engine *Engine `yaml:"engine"`
	// Heal undoes the injected fault: what the guide leaves to people
	// ("contact the network coordinator", "fix the firewall").
	Heal bool `yaml:"heal"`
	// Escalate asks whoever fixes what the party's operator cannot (the
	// guide's "contact the network coordinator") to act on {{party}}'s
	// network; its text is what the operator asks. Env.Escalate answers
	// it: during a game day, the harness standing for the coordinator;
	// elsewhere it heals as a heal step does.
	Escalate string `yaml:"escalate"`
	// Wait is a pause the procedure itself prescribes (the guide's
	// "sleep 10"), not a way to wait for a condition: use Expect for that.
	Wait Duration `yaml:"wait"`
	// UndoesFault: the step undoes the harness's own injected fault (the
	// harness's filler file, hosts entry, pause, limit) rather than doing
	// what the guide says. Heal implies it.
	UndoesFault bool `yaml:"undoes_fault"`
	// Diagnostic: the step only shows something to the operator and judges
	// nothing (any exit status, no output check). Such a step must say so,
	// and is reported as checking nothing.
	Diagnostic bool   `yaml:"diagnostic"`
	Expect     Expect `yaml:"expect"`
	// Cites are the parts of the guide the step executes or stands for;
	// `kmschaos guide check` matches them against the guide (drift, gaps).
	Cites []guide.Citation `yaml:"cites"`
	// Capture reads values off the step's output, as an operator reads a
	// node's name off kubectl's: each variable's regular expression has
	// one group, and its first match is {{name}} in the steps after it.
	Capture map[string]string `yaml:"capture"`

	captures map[string]*regexp.Regexp // compiled by Validate
}

// Exec runs a command in a container.
type Exec struct {
	// In: party (default); keeper, the operator's debug pod; or operator,
	// the operator's own machine, where kubectl and helm run as written
	// against the run's cluster and namespace (Kubernetes only: on another
	// backend the step is unsupported and its scenario skipped).
	In      string   `yaml:"in"`
	Party   string   `yaml:"party"` // which party's container (default {{party}})
	User    string   `yaml:"user"`  // party or root (default: party in a party container, root in the keeper)
	Command []string `yaml:"command"`
}

// Engine is a container engine operation on parties, as docker or
// docker-compose does it.
type Engine struct {
	// Action: stop (SIGTERM, then SIGKILL after timeout), start, restart,
	// kill, pause, unpause, update (memory, cpus), remove (rm -f),
	// recreate (up -d), rollback (the party's container created anew from
	// the image it ran before its last upgrade: helm rollback), down (stop and remove), purge (the party's keys
	// volume removed and created empty, as down --volumes does), prune
	// (remove the cluster's stopped containers), inspect (docker inspect:
	// status, restarts, OOM kill, memory and CPU limits against the
	// cluster's baseline, one line per party; the step's output).
	Action  string   `yaml:"action"`
	Parties string   `yaml:"parties"` // {{party}} (default), all, 1-4, 1,3,5, {{targets}}
	Timeout Duration `yaml:"timeout"` // stop, restart, down (default 10 s)
	Memory  string   `yaml:"memory"`  // update: e.g. 256m
	CPUs    string   `yaml:"cpus"`    // update: e.g. 2, or {{cpus}} (the baseline)
}

// Expect is a step's postcondition. Exit judges an exec's exit status,
// Output and NotOutput the step's own output (an exec's, or an engine
// inspect's); the others are polled until they hold or Within passes.
type Expect struct {
	Exit      *int     `yaml:"exit"`       // exit status of the command (0)
	AnyExit   bool     `yaml:"any_exit"`   // any exit status will do (then judge the output, or declare a diagnostic)
	Output    string   `yaml:"output"`     // regular expression the output must match
	NotOutput string   `yaml:"not_output"` // regular expression it must not match
	Optimal   bool     `yaml:"optimal"`    // every party reports Optimal
	Health    string   `yaml:"health"`     // status of {{party}}'s health check: Optimal|Healthy
	Decrypt   string   `yaml:"decrypt"`    // parties through which a fresh value decrypts right
	Restarted string   `yaml:"restarted"`  // parties whose containers (re)started during the step
	Readable  string   `yaml:"readable"`   // parties whose user can read every key file of theirs
	Within    Duration `yaml:"within"`     // bound of the polled conditions (default 90 s)

	output, notOutput *regexp.Regexp // compiled by Validate
}

// Duration reads "10s", "1m30s".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like 10s): %w", n.Line, n.Value, err)
	}
	*d = Duration(v)
	return nil
}

// parseMemory reads an engine update's memory limit, like 256m.
func parseMemory(s string) (int64, error) {
	b, err := units.RAMInBytes(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a memory size (like 256m): %v", s, err)
	}
	if b <= 0 {
		return 0, fmt.Errorf("%q: a memory limit must be positive", s)
	}
	return b, nil
}

// parseCPUs reads an engine update's CPU limit, like 1.5.
func parseCPUs(s string) (float64, error) {
	c, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || c <= 0 || math.IsInf(c, 0) || math.IsNaN(c) {
		return 0, fmt.Errorf("cpus %q: must be a positive number (like 1.5)", s)
	}
	return c, nil
}

// inspects tells whether the step is an engine inspect, whose output is
// read and judged like a command's.
func (s Step) inspects() bool { return s.Engine != nil && s.Engine.Action == "inspect" }

// polled tells whether the expectation has conditions polled until they
// hold or Within passes.
func (x Expect) polled() bool {
	return x.Optimal || x.Health != "" || x.Decrypt != "" || x.Restarted != "" || x.Readable != ""
}

// sets tells whether the step is an engine update of the resource
// (BaselineMemory or BaselineCPUs).
func (s Step) sets(what string) bool {
	if s.Engine == nil || s.Engine.Action != "update" {
		return false
	}
	return what == BaselineMemory && s.Engine.Memory != "" || what == BaselineCPUs && s.Engine.CPUs != ""
}

// ChecksNothing tells whether the step is a declared diagnostic that
// judges nothing.
func (s Step) ChecksNothing() bool { return s.Diagnostic }

// UndoesHarnessFault tells whether the step undoes the harness's own
// fault (heal, or undoes_fault) instead of doing what the guide says.
func (s Step) UndoesHarnessFault() bool { return s.Heal || s.Escalate != "" || s.UndoesFault }

// Acts tells whether the step may change the cluster. Only a step whose
// action is known to look and nothing else does not: a check without an
// action, a prescribed wait, an engine inspect, and the readers among the
// operator's tools (lookers). A command not known to only look acts: the
// scenario runner ends its observation of the fault before it, so that
// the operations it judges ran under the fault alone.
func (s Step) Acts() bool {
	switch {
	case s.UndoesHarnessFault():
		return true
	case s.Engine != nil:
		return !s.inspects()
	case s.Exec != nil:
		return !looks(s.Exec.Command)
	}
	return false
}

// lookers are the commands, and for a toolbox its subcommands, that only
// read: what an operator runs to see, never to change.
var lookers = map[string][]string{
	"kms-health-check": nil, // every mode reads
	"kms-admin":        {"ls", "cat", "df", "sha256sum", "dial", "ss", "manifest"},
	"kubectl":          {"get", "describe", "logs", "top"},
	"helm":             {"history", "status", "list", "get"},
}

func looks(cmd []string) bool {
	if len(cmd) == 0 {
		return false
	}
	subs, ok := lookers[path.Base(cmd[0])]
	if !ok {
		return false
	}
	return subs == nil || len(cmd) > 1 && slices.Contains(subs, cmd[1])
}

// Command renders a step's action for the report.
func (s Step) Command() string {
	switch {
	case s.Exec != nil:
		in := s.Exec.In
		if in == "" {
			in = "party"
		}
		return fmt.Sprintf("[%s] %s", in, strings.Join(s.Exec.Command, " "))
	case s.Engine != nil:
		return fmt.Sprintf("[engine] %s %s", s.Engine.Action, s.Engine.Parties)
	case s.Heal:
		return "[heal the injected fault]"
	case s.Escalate != "":
		return fmt.Sprintf("[escalate] %s", s.Escalate)
	case s.Wait > 0:
		return fmt.Sprintf("[wait] %s", time.Duration(s.Wait))
	}
	return "[check]"
}
