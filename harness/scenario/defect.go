package scenario

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/kmschaos/kmschaos/harness/runbook"
)

// Defect is a step the guide gets wrong, and how it goes wrong: a
// scenario expects it only when that step fails for that reason, so a
// Docker error, a timeout or another refusal never passes for the
// guide's defect.
type Defect struct {
	Step string // "runbook/step"
	// Reason is a regular expression the step's failure must match: its
	// error, then a newline, then its command's output.
	Reason string
}

func (d Defect) zero() bool { return d.Step == "" }

// inRunbook tells whether the defect is expected of runbook rb.
func (d Defect) inRunbook(rb string) bool { return strings.HasPrefix(d.Step, rb+"/") }

// judged is how one runbook ended, held against the plan's defect.
type judged struct {
	Step     string // the step that failed or lost data ("" if none)
	Expected bool   // it is the plan's defect, failing for the plan's reason
	Loss     *runbook.DataLoss
	Problem  error // why the scenario must go red, nil if it need not
}

// judgeDefect holds how runbook rb ended (err, from Runbook.Run) against
// the defect the plan expects; output gives a step's command output.
func judgeDefect(want Defect, rb string, err error, output func(step string) string) judged {
	var j judged
	var stepErr *runbook.StepError
	var why string
	switch {
	case err == nil:
		if want.inRunbook(rb) {
			j.Problem = fmt.Errorf("expected the guide's step %q to fail (/%s/), and it worked: the scenario's claim is wrong", want.Step, want.Reason)
		}
		return j
	case errors.As(err, &j.Loss):
		j.Step, why = j.Loss.Step, j.Loss.Error()
	case errors.As(err, &stepErr):
		j.Step, why = stepErr.Step, stepErr.Err.Error()
	default:
		j.Problem = fmt.Errorf("runbook %q: %w", rb, err)
		return j
	}
	if want.Step != rb+"/"+j.Step {
		j.Problem = fmt.Errorf("runbook step failed: %w", err)
		return j
	}
	if output != nil {
		why += "\n" + output(j.Step)
	}
	re, rerr := regexp.Compile(want.Reason)
	switch {
	case want.Reason == "":
		j.Problem = fmt.Errorf("the plan expects step %q to fail but gives no reason to match the failure against", want.Step)
	case rerr != nil:
		j.Problem = fmt.Errorf("the plan's reason for step %q: %w", want.Step, rerr)
	case !re.MatchString(why):
		j.Problem = fmt.Errorf("the guide's step %q failed, but not as the scenario expects (/%s/): %s", want.Step, want.Reason, strings.TrimSpace(why))
	default:
		j.Expected = true
	}
	return j
}
