package scenario

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kmschaos/kmschaos/harness/runbook"
)

// Check refuses what Run refuses before injecting anything: runbooks
// that do not load from dir or lack a variable, and a plan that does not
// validate against them. For tests of a whole catalog.
func (p *Plan) Check(dir string) error {
	_, err := p.load(dir)
	return err
}

// load loads the plan's runbooks from dir, gives them their variables and
// validates the plan against them.
func (p *Plan) load(dir string) ([]*runbook.Runbook, error) {
	rbs, err := loadRunbooks(dir, p.Runbooks)
	if err != nil {
		return nil, err
	}
	for _, rb := range rbs {
		if err := rb.CheckVars(p.Vars); err != nil {
			return nil, fmt.Errorf("runbook %q: %w", rb.Name, err)
		}
	}
	return rbs, p.validate(rbs)
}

// validate refuses, before anything is injected, a plan whose verdict
// would say more than the run can know: faults with no detection (the row
// would read "detected at 0 s") unless it says why none is expected, and
// an expected defect that no runbook of the plan can produce (it would be
// silently dropped, and the guide's step never held to it).
func (p *Plan) validate(rbs []*runbook.Runbook) error {
	switch {
	case len(p.Faults) > 0 && len(p.Detect) == 0 && p.NoDetection == "":
		return fmt.Errorf("the plan injects %s but declares no detection: give Detect, or say in NoDetection why no diagnostic can see it", faultNames(p))
	case len(p.Detect) > 0 && p.NoDetection != "":
		return fmt.Errorf("the plan declares both a detection and NoDetection (%q)", p.NoDetection)
	}
	return p.ExpectDefect.validate(rbs)
}

// validate refuses an expected defect that names no step of the plan's
// runbooks, or gives no reason that can be matched.
func (d Defect) validate(rbs []*runbook.Runbook) error {
	if d.zero() {
		return nil
	}
	name, step, ok := strings.Cut(d.Step, "/")
	if !ok {
		return fmt.Errorf("the expected defect %q: write it runbook/step", d.Step)
	}
	k := slices.IndexFunc(rbs, func(rb *runbook.Runbook) bool { return rb.Name == name })
	if k < 0 {
		return fmt.Errorf("the expected defect %q: no runbook of the plan is named %q", d.Step, name)
	}
	if !slices.ContainsFunc(rbs[k].Steps, func(s runbook.Step) bool { return s.Name == step }) {
		return fmt.Errorf("the expected defect %q: runbook %q (%s) has no step %q", d.Step, name, rbs[k].Source, step)
	}
	if d.Reason == "" {
		return fmt.Errorf("the expected defect %q gives no reason to match the failure against", d.Step)
	}
	if _, err := regexp.Compile(d.Reason); err != nil {
		return fmt.Errorf("the expected defect %q: its reason: %w", d.Step, err)
	}
	return nil
}

func faultNames(p *Plan) string {
	names, _ := describe(p.Faults)
	return names
}
