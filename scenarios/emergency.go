package scenarios

import (
	"strconv"

	"github.com/kmschaos/kmschaos/harness/scenario"
)

// Emergency Procedures and Data Recovery: the guide's own procedures,
// executed as written (adapted only in names), and judged.

func itoa(i int) string { return strconv.Itoa(i) }

var emergencyProcedures = []scenario.Scenario{
	{
		Name: "graceful restart as written brings the party back with nothing lost", Section: Emergency, Labels: []string{"procedure"},
		Build: func(e *scenario.Env) scenario.Plan {
			return scenario.Plan{Target: e.One(), Runbooks: []string{"graceful-restart"}}
		},
	},

	{
		Name: "force restart as written brings the party back with nothing lost", Section: Emergency, Labels: []string{"procedure"},
		Build: func(e *scenario.Env) scenario.Plan {
			return scenario.Plan{Target: e.One(), Runbooks: []string{"force-restart"}}
		},
	},

	{
		Name: "coordinated restart as written restarts 4 parties of the cluster; every party must be named", Section: Emergency, Long: true, Labels: []string{"procedure"},
		Build: func(e *scenario.Env) scenario.Plan {
			p := scenario.Plan{Target: 1, Runbooks: []string{"coordinated-restart-as-written", "coordinated-restart"}}
			if e.N > 4 {
				// Parties 5..n are never stopped, so never restarted.
				p.ExpectDefect = scenario.Defect{Step: "coordinated-restart-as-written/Start all peers simultaneously", Reason: `parties \[5( \d+)*\] were not restarted`}
			}
			return p
		},
	},

	{
		Name: "full system recovery as written destroys every party's key material", Section: Emergency, Long: true, Labels: []string{"procedure"},
		Build: func(e *scenario.Env) scenario.Plan {
			return scenario.Plan{
				Target: 1, Runbooks: []string{"full-system-recovery-as-written"},
				ExpectDefect: scenario.Defect{Step: "full-system-recovery-as-written/docker-compose down --volumes (volumes)",
					Reason: `lost key material at step "docker-compose down --volumes \(volumes\)": .*(FheKeyInfo|SigningKey)`},
				RecoverByReset: true,
				NoWorkload:     true,
			}
		},
	},
}
