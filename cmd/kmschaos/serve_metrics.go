package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/resultmetrics"
	"github.com/kmschaos/kmschaos/harness/results"
)

func serveCmd() *cobra.Command {
	var db, listen, backend string
	var labels []string
	var window int
	c := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:9464] [--db STORE] [--label K=V]... [--window N]",
		Short: "The results store for Prometheus: /metrics, read from the store at each scrape",
		Long: `serve exports the results store (every run recorded: the suite, 'kmschaos
run', 'runbook run'; see 'kmschaos history') to Prometheus. Each scrape of
/metrics reads the store, so a run recorded a second ago is in the next
scrape. Per backend:

  kmschaos_runs_recorded                       runs recorded
  kmschaos_last_run_start_timestamp_seconds    when the newest run started
  kmschaos_last_run_duration_seconds           how long it took
  kmschaos_last_run_scenarios{verdict}         its scenarios by verdict

per scenario (labels scenario, section, backend):

  kmschaos_scenario_verdict{verdict}           its last verdict: 1 for the
                                               one it had (PASS, FAIL, SKIP)
  kmschaos_scenario_ttd_seconds                TTD of its last run
  kmschaos_scenario_ttr_seconds                TTR of its last run
  kmschaos_scenario_pass_ratio                 PASS / (PASS + FAIL) over its
                                               last --window verdicts
  kmschaos_scenario_flake_ratio                how often a verdict differs
                                               from the one before it, over
                                               the same (0 steady, 1 flipping
                                               every run; failing every run
                                               is broken, not flaky)
  kmschaos_scenario_judged_runs                PASS + FAIL in the window

and per section (labels section, backend) kmschaos_section_pass_ratio. A
SKIP counts in no ratio.

--label K=V (repeatable) and --backend export only the runs that match,
e.g. one release's. A store that cannot be read, or a label it has never
recorded, is one line and exit 2 before anything is served. A store that
fails later (a PostgreSQL server gone) fails that scrape (HTTP 500
saying why; Prometheus marks the target down) and is logged once, and
once more when it answers again.

A scrape config for Prometheus (prometheus.yml):

  scrape_configs:
    - job_name: kmschaos
      scrape_interval: 1m
      static_configs:
        - targets: ['127.0.0.1:9464']

A Grafana dashboard of these metrics is docs/grafana/kmschaos-results.json.
It listens on 127.0.0.1:9464 unless --listen says otherwise; Ctrl-C stops it.`,
		Example: `  kmschaos serve
  kmschaos serve --listen 0.0.0.0:9464 --db postgres://kmschaos@db.example/results
  kmschaos serve --label release=1.4.2 --window 20
  curl -s 127.0.0.1:9464/metrics | grep kmschaos_section_pass_ratio`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := net.SplitHostPort(listen); err != nil {
				return badInputf("--listen %q: give host:port, e.g. 127.0.0.1:9464", listen)
			}
			f := results.Filter{Backend: backend}
			var err error
			if f.Labels, err = results.ParseLabels("--label", labels, ""); err != nil {
				return badInputf("%s", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			store, err := results.Open(ctx, results.Where(db))
			if err != nil {
				return badInputf("%s", err)
			}
			defer func() { _ = store.Close() }()
			// One reading before serving: a store that cannot answer, or
			// a filter naming what it never recorded, is told now.
			latest, err := store.Latest(ctx, f, window)
			if err != nil {
				return badInputf("%s", err)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return badInputf("--listen %s: %v (is another serve running? choose another with --listen)", listen, unwrapOp(err))
			}
			defer ln.Close()
			runs := 0
			for _, l := range latest {
				runs += l.Runs
			}
			w := cmd.OutOrStdout()
			what := fmt.Sprintf("%d runs recorded", runs)
			if runs == 1 {
				what = "1 run recorded"
			}
			if len(f.Labels) > 0 || f.Backend != "" {
				what += ", only " + describeFilter(f)
			}
			fmt.Fprintf(w, "serving results store %s (%s) for Prometheus at http://%s%s\n", store, what, ln.Addr(), resultmetrics.Path)
			fmt.Fprintln(w, "Ctrl-C stops it")
			collector := resultmetrics.New(store, resultmetrics.Options{Filter: f, Window: window, Log: stampedLog(cmd.ErrOrStderr())})
			return resultmetrics.Serve(ctx, ln, resultmetrics.Handler(collector))
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:9464", "address to listen on (host:port; 0.0.0.0:9464 for a Prometheus on another machine)")
	dbFlag(c, &db)
	c.Flags().StringArrayVarP(&labels, "label", "l", nil, "export only runs recorded with this label, key=value (repeatable)")
	c.Flags().StringVar(&backend, "backend", "", "export only runs on this backend (docker, kubernetes)")
	countFlag(c.Flags(), &window, "window", "", resultmetrics.DefaultWindow, "a scenario's last verdicts its pass and flake ratios are taken over")
	return c
}

// describeFilter is the filter as the user gave it: release=1.4.2, backend=docker.
func describeFilter(f results.Filter) string {
	s := results.FormatLabels(f.Labels)
	if f.Backend != "" {
		if s != "" {
			s += ", "
		}
		s += "backend=" + f.Backend
	}
	return s
}
