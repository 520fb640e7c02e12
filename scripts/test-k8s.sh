#!/usr/bin/env bash
# The Kubernetes backend's tests and the scenario catalog on a Kubernetes
# cluster: the local one (make k8s-up) unless KMSCHAOS_KUBECONFIG names
# another. Every scenario the backend supports runs; the others are
# reported as skipped with the reason. Reports go to reports-k8s/ (the
# scorecard says "on kubernetes").
#
#   KMSCHAOS_N, KMSCHAOS_T  the cluster's size, as for make test (13, 4)
#   extra arguments go to `ginkgo run`, e.g. --label-filter=kubernetes
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
export KMSCHAOS_BACKEND=kubernetes
# A cluster must be there: the backend's tests fail instead of skipping.
export KMSCHAOS_K8S=1
export KMSCHAOS_REPORT_DIR=${KMSCHAOS_REPORT_DIR:-reports-k8s}
rm -f "$KMSCHAOS_REPORT_DIR/scorecard.txt"

"$GO" test -count=1 -timeout 30m ./cluster/kube/
backend=$?
GO="$GO" ./scripts/suite.sh "$@"
suite=$?
[ -f "$KMSCHAOS_REPORT_DIR/scorecard.txt" ] && cat "$KMSCHAOS_REPORT_DIR/scorecard.txt"
[ "$backend" = 0 ] || exit "$backend"
exit "$suite"
