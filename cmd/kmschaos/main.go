// Command kmschaos brings up a threshold KMS cluster in containers behind a
// toxiproxy mesh, and cleans up after it.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:   "kmschaos",
		Short: "Chaos and runbook validation for 13-party threshold KMS clusters",
		Long: `kmschaos starts a threshold KMS cluster (13 parties, t=4, by default) in
containers on a private network, every party-to-party and client link routed
through toxiproxy, breaks it the ways the troubleshooting guide says it
breaks, and checks that the guide's diagnostics detect each fault and its
runbooks recover the cluster with nothing lost or wrong.

  up         bring up a cluster and keep it until Ctrl-C (or --detach)
  down       remove a detached cluster
  status     a running cluster: parties, health, links, faults, budget
  inject     inject one fault by hand (kinds: 'kmschaos faults')
  heal       undo a fault by hand, or everything (--all)
  halt       the safety lever: heal everything now, refuse new faults (exit 3) until unhalt
  unhalt     lift the halt
  faults     the fault kinds inject takes, with their parameters
  scenarios  the scenario catalog, with labels (--label EXPR)
  run        run catalog scenarios against the running cluster, with reports
  gameday    a timed game day: hidden faults, scored diagnoses, a report
  ls         list the clusters and leftovers on this engine
  sweep      remove what killed runs left behind
  images     build (or reuse) the party and toxiproxy images
  runbook    run a runbook file against the cluster; check files; list variables
  guide      how the runbooks cover the operators' guide; what a guide change touches
  soak-report  aggregate several runs' scorecards: flake rate, TTD/TTR spread (make soak)
  history    runs recorded in the results store; each scenario's last verdicts, TTD, TTR
  compare    two releases' runs, scenario by scenario: regressions (exit 1), noise, improvements

Exit status: 0 done, 1 failed, 2 bad input (nothing done), 3 refused: the
cluster is halted ('kmschaos unhalt' lifts it).

status, inject, heal, halt, run and runbook run attach to a running cluster: the one --run names,
or the only one running. The scenario catalog runs as the repository's
test suite: see 'make test' and the README.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(upCmd(), downCmd(), lsCmd(), sweepCmd(), imagesCmd(), runbookCmd(), guideCmd(),
		scenariosCmd(), runCmd(), gamedayCmd(), faultsCmd(), injectCmd(), healCmd(), haltCmd(), unhaltCmd(), statusCmd(), soakReportCmd(), historyCmd(), compareCmd(), serveCmd())
	backendFlags(root)
	// cobra's own help and completion commands too: made now, not when
	// Execute makes them, so that strictArgs sees them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	strictArgs(root)
	// A mistyped flag is bad input like any other: exit 2.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return inputError{err.Error()} })
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		code := exitStatus(err)
		if isBadInput(err) {
			code = 2
		}
		if isHalted(err) {
			code = exitHalted
		}
		os.Exit(code)
	}
}
