package literal

import (
	"fmt"

	"github.com/kmschaos/kmschaos/harness/guide"
)

// Plan is how the guide's commands will run as written, known without a
// cluster: verbatim, mapped (the table touched them), or never (unsafe).
type Plan struct {
	Blocks, Commands         int
	Verbatim, Mapped, Unsafe int
	Refused                  []error // blocks with a <placeholder> the table does not map
}

// RunShare is the percentage of commands that run verbatim or mapped.
func (p Plan) RunShare() float64 {
	if p.Commands == 0 {
		return 0
	}
	return 100 * float64(p.Verbatim+p.Mapped) / float64(p.Commands)
}

// PlanGuide prepares every shell block of g with stand-in values for the
// run's variables and counts how each command will run.
func PlanGuide(g *guide.Guide, m *Mapping) Plan {
	vars := map[string]string{}
	for _, v := range Vars {
		vars[v] = "{" + v + "}"
	}
	var p Plan
	for _, b := range ShellBlocks(g) {
		p.Blocks++
		s, err := Prepare(g, b, m, vars)
		if err != nil {
			p.Refused = append(p.Refused, err)
			continue
		}
		for _, l := range commandsOf(g, s) {
			p.Commands++
			switch {
			case s.Unsafe != nil:
				p.Unsafe++
			case len(l.Mapped) > 0:
				p.Mapped++
			default:
				p.Verbatim++
			}
		}
	}
	return p
}

func (p Plan) String() string {
	return fmt.Sprintf("%d shell blocks, %d commands: %d verbatim, %d mapped, %d unsafe (never run), %d blocks refused; %.0f%% run verbatim or mapped",
		p.Blocks, p.Commands, p.Verbatim, p.Mapped, p.Unsafe, len(p.Refused), p.RunShare())
}
