// Package runbook runs the guide's resolution and emergency procedures as
// named steps with postconditions. Runbooks are data: YAML files under
// runbooks/ that a user writes without Go. A step that fails, or one after
// which key material is gone, is reported as a defect of the runbook,
// naming the step.
package runbook

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Runbook is one procedure.
type Runbook struct {
	Name  string `yaml:"name"`
	Guide string `yaml:"guide"` // where the guide gives it
	// Origin says whose procedure this is: OriginGuide, OriginRepaired or
	// OriginHarness; the scorecard's "recovered by" is read from it.
	Origin      string `yaml:"origin"`
	Description string `yaml:"description"`
	Steps       []Step `yaml:"steps"`
	Source      string `yaml:"-"` // file it was read from
}

// Origins of a runbook.
const (
	OriginGuide    = "guide"    // the guide's procedure, as written
	OriginRepaired = "repaired" // our repair of a procedure the guide gets wrong
	OriginHarness  = "harness"  // only undoes the harness's own fault
)

// Step is one action and what must hold after it. Exactly one of Exec,
// Engine, Heal and Wait, or none when the step only checks.
type Step struct {
	Name   string  `yaml:"name"`
	Guide  string  `yaml:"guide"` // the guide's words or command
	Exec   *Exec   `yaml:"exec"`
	Engine *Engine `yaml:"engine"`
	// Heal undoes the injected fault: what the guide leaves to people
	// ("contact the network coordinator", "fix the firewall").
	Heal bool `yaml:"heal"`
	// Wait is a pause the procedure itself prescribes (the guide's
	// "sleep 10"), not a way to wait for a condition: use Expect for that.
	Wait   Duration `yaml:"wait"`
	Expect Expect   `yaml:"expect"`
}

// Exec runs a command in a container.
type Exec struct {
	In      string   `yaml:"in"`    // party (default) or keeper, the operator's debug pod
	Party   string   `yaml:"party"` // which party's container (default {{party}})
	User    string   `yaml:"user"`  // party or root (default: party in a party container, root in the keeper)
	Command []string `yaml:"command"`
}

// Engine is a container engine operation on parties, as docker or
// docker-compose does it.
type Engine struct {
	// Action: stop (SIGTERM, then SIGKILL after timeout), start, restart,
	// kill, pause, unpause, update (memory, cpus), remove (rm -f),
	// recreate (up -d), down (stop and remove), purge (the party's keys
	// volume removed and created empty, as down --volumes does), prune
	// (remove the cluster's stopped containers).
	Action  string   `yaml:"action"`
	Parties string   `yaml:"parties"` // {{party}} (default), all, 1-4, 1,3,5
	Timeout Duration `yaml:"timeout"`
	Memory  string   `yaml:"memory"` // update: e.g. 256m
	CPUs    string   `yaml:"cpus"`   // update: e.g. 2, or {{cpus}} (the baseline)
}

// Expect is a step's postcondition. Exit, Output and NotOutput judge the
// step's own command; the others are polled until they hold or Within
// passes.
type Expect struct {
	Exit      *int     `yaml:"exit"`       // exit status of the command (0)
	AnyExit   bool     `yaml:"any_exit"`   // a diagnostic step: any exit status will do
	Output    string   `yaml:"output"`     // regular expression the output must match
	NotOutput string   `yaml:"not_output"` // regular expression it must not match
	Optimal   bool     `yaml:"optimal"`    // every party reports Optimal
	Health    string   `yaml:"health"`     // status of {{party}}'s health check: Optimal|Healthy
	Decrypt   string   `yaml:"decrypt"`    // {{party}} or all: a fresh value decrypts right
	Restarted string   `yaml:"restarted"`  // parties whose containers (re)started during the step
	Readable  string   `yaml:"readable"`   // parties whose user can read every key file of theirs
	Within    Duration `yaml:"within"`     // bound of the polled conditions (default 90 s)
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

// Load reads and validates a runbook file.
func Load(path string) (*Runbook, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rb, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rb.Source = path
	return rb, nil
}

// Parse decodes and validates a runbook; unknown keys are errors.
func Parse(raw []byte) (*Runbook, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var rb Runbook
	if err := dec.Decode(&rb); err != nil {
		return nil, err
	}
	return &rb, rb.Validate()
}

var actions = map[string]bool{"stop": true, "start": true, "restart": true, "kill": true, "pause": true, "unpause": true,
	"update": true, "remove": true, "recreate": true, "down": true, "purge": true, "prune": true}

// Validate checks the runbook's shape.
func (rb *Runbook) Validate() error {
	var errs []error
	if rb.Name == "" {
		errs = append(errs, errors.New("name is missing"))
	}
	if len(rb.Steps) == 0 {
		errs = append(errs, errors.New("no steps"))
	}
	for k, s := range rb.Steps {
		where := fmt.Sprintf("step %d (%s)", k+1, s.Name)
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("step %d has no name", k+1))
		}
		n := 0
		if s.Exec != nil {
			n++
			if len(s.Exec.Command) == 0 {
				errs = append(errs, fmt.Errorf("%s: exec without a command", where))
			}
			if s.Exec.In != "" && s.Exec.In != "party" && s.Exec.In != "keeper" {
				errs = append(errs, fmt.Errorf("%s: exec.in must be party or keeper, got %q", where, s.Exec.In))
			}
			if s.Exec.User != "" && s.Exec.User != "party" && s.Exec.User != "root" {
				errs = append(errs, fmt.Errorf("%s: exec.user must be party or root, got %q", where, s.Exec.User))
			}
		}
		if s.Engine != nil {
			n++
			if !actions[s.Engine.Action] {
				errs = append(errs, fmt.Errorf("%s: unknown engine action %q", where, s.Engine.Action))
			}
		}
		if s.Heal {
			n++
		}
		if s.Wait > 0 {
			n++
		}
		if n > 1 {
			errs = append(errs, fmt.Errorf("%s: give one of exec, engine, heal, wait", where))
		}
		if n == 0 && (s.Expect == Expect{}) {
			errs = append(errs, fmt.Errorf("%s: does nothing and checks nothing", where))
		}
		if s.Expect.Exit != nil || s.Expect.AnyExit || s.Expect.Output != "" || s.Expect.NotOutput != "" {
			if s.Exec == nil {
				errs = append(errs, fmt.Errorf("%s: exit and output expectations need an exec", where))
			}
		}
	}
	return errors.Join(errs...)
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
	case s.Wait > 0:
		return fmt.Sprintf("[wait] %s", time.Duration(s.Wait))
	}
	return "[check]"
}
