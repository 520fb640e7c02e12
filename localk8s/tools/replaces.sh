#!/usr/bin/env bash
# Prints the replace block of tools/kubernetes/go.mod for the K8S_VERSION
# of versions.env: k8s.io/kubernetes replaces each staging module with a
# relative path (./staging/src/k8s.io/NAME) that a dependant does not
# inherit, so the wrapper module must replace each with the published
# module of the same release (v1.X.Y -> v0.X.Y). After a version change:
#   ./replaces.sh, paste over the old block, then go mod tidy there.
set -euo pipefail
# shellcheck source=../versions.env
. "$(dirname "$0")/../versions.env"
dir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
echo "replace ("
sed -n 's|^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*|\1|p' "$dir/go.mod" |
  while read -r m; do printf '\t%s => %s v0.%s\n' "$m" "$m" "${K8S_VERSION#v1.}"; done
echo ")"
