#!/usr/bin/env bash
# make soak: runs the scenario catalog RUNS times, each with a fresh
# KMSCHAOS_SEED (printed), each into its own reports/soak/run-N, then
# aggregates their scorecards into reports/soak.md and reports/soak.json
# (kmschaos soak-report): pass or fail and why per scenario and run, the
# flake rate, the spread of TTD and TTR.
#
#   RUNS    how many runs (3)
#   FOCUS   a Ginkgo focus regexp, LABELS a Ginkgo label filter: a part of
#           the catalog (make soak RUNS=2 FOCUS='full disk|hanging')
#   KMSCHAOS_N / KMSCHAOS_T, KMSCHAOS_PROCS, KMSCHAOS_REPORT_DIR (reports):
#           as for make test
#
# Exits 1 if any run had a red; the report is written either way.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
runs=${RUNS:-3}
case $runs in '' | *[!0-9]* | 0) echo "soak: RUNS=$runs is not a number of runs (1 or more)" >&2; exit 2 ;; esac
out=${KMSCHAOS_REPORT_DIR:-reports}
case $out in /*) ;; *) out=$PWD/$out ;; esac
soakdir=$out/soak
rm -rf "$soakdir"
mkdir -p "$soakdir"

args=()
[ -n "${FOCUS:-}" ] && args+=("--focus=$FOCUS")
[ -n "${LABELS:-}" ] && args+=("--label-filter=$LABELS")

# The images are built once and kept between runs; the last run removes
# them unless the caller keeps them.
keep_last=${KMSCHAOS_KEEP_IMAGES:-0}

dirs=()
for i in $(seq 1 "$runs"); do
  # A fresh seed per run, from the kernel: the runs differ in which
  # parties and links each scenario picks.
  seed=$(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 1000000000 ))
  dir=$soakdir/run-$i
  mkdir -p "$dir"
  keep=1
  [ "$i" = "$runs" ] && keep=$keep_last
  echo "soak: run $i of $runs, KMSCHAOS_SEED=$seed, reports in $dir"
  start=$(date +%s)
  KMSCHAOS_SEED=$seed KMSCHAOS_REPORT_DIR=$dir KMSCHAOS_KEEP_IMAGES=$keep \
    GO=$GO ./scripts/suite.sh "${args[@]}" >"$dir/suite.log" 2>&1
  status=$?
  echo "$status" >"$dir/exit-status"
  if [ -f "$dir/scorecard.txt" ]; then
    head -n 1 "$dir/scorecard.txt"
  else
    echo "soak: run $i left no scorecard (exit $status); the end of its log:"
    tail -n 20 "$dir/suite.log"
  fi
  echo "soak: run $i took $(( $(date +%s) - start )) s, exit $status"
  dirs+=("$dir")
done

$GO run ./cmd/kmschaos soak-report --out "$out" "${dirs[@]}"
