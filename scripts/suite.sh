#!/usr/bin/env bash
# The scenario suite (the module root's *_test.go files: the catalog of
# package scenarios as one spec per scenario, and the specs that are no
# scenario) through Ginkgo's own runner, on KMSCHAOS_PROCS clusters at
# once (1): each Ginkgo process brings up a cluster of its own and takes
# the next scenario when it is free; the first builds the images once and
# writes the one scorecard.
# `go test .` runs the same suite on one cluster.
#
#   KMSCHAOS_PROCS  clusters at once (1): more can pay only with about
#                   two free cores per n=13 cluster (measured: two on 2
#                   cores were no faster than one, docs/performance.md)
#   extra arguments go to `ginkgo run`, e.g. --focus='full disk' or
#   --label-filter=connectivity
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
procs=${KMSCHAOS_PROCS:-1}
case $procs in '' | *[!0-9]* | 0) echo "suite: KMSCHAOS_PROCS=$procs is not a number of clusters (1 or more)" >&2; exit 2 ;; esac
# Colour only on a terminal: a log file or a pipe (CI, make soak's
# suite.log) gets plain text, not escape codes.
[ -t 1 ] || set -- --no-color "$@"
exec "$GO" tool ginkgo run --procs="$procs" --timeout=80m "$@" .
