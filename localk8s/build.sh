#!/usr/bin/env bash
# Builds every binary of the local cluster from source (Go module proxy
# only: no registry, no release download), each once, into
# $CACHE/<component>-<version>/; a second run finds them all and takes
# seconds. Then the two images the cluster runs (pause, CoreDNS), FROM
# scratch, in the Docker engine; up.sh imports them into our containerd.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# Static binaries: the images are FROM scratch, and no C toolchain is needed.
export CGO_ENABLED=0
export GOFLAGS=-buildvcs=false

# component NAME VERSION DIR FUNCTION: runs FUNCTION DIR.tmp unless DIR is
# complete, then renames it to DIR. The stamp is written last, so a build
# that was interrupted is done again rather than taken as cached.
component() {
  local name=$1 version=$2 dir=$3 fn=$4 t0=$SECONDS
  if [ -f "$dir/.built" ]; then say "building $name $version (cached)"; return; fi
  say "building $name $version (log: $CACHE/$name-$version.log)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  if ! "$fn" "$dir.tmp" >"$CACHE/$name-$version.log" 2>&1; then
    tail -n 30 "$CACHE/$name-$version.log" >&2
    die "building $name $version failed (log: $CACHE/$name-$version.log)"
  fi
  touch "$dir.tmp/.built"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  say "built $name $version in $((SECONDS - t0))s"
}

build_kubernetes() {
  local v=${K8S_VERSION#v} cmd=k8s.io/kubernetes/cmd ldflags
  # The version the binaries report (kubectl version, the node's
  # kubeletVersion): a module build has no git tree to read it from.
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION
    -X k8s.io/component-base/version.gitMajor=${v%%.*}
    -X k8s.io/component-base/version.gitMinor=$(echo "$v" | cut -d. -f2)
    -X k8s.io/component-base/version.gitTreeState=clean
    -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  (cd "$HERE/tools/kubernetes" && go build -trimpath -ldflags "$ldflags" -o "$1/" \
    $cmd/kube-apiserver $cmd/kube-controller-manager $cmd/kube-scheduler \
    $cmd/kubelet $cmd/kube-proxy $cmd/kubectl)
}

# etcd has no go-installable main: tools/etcd wraps etcdmain.Main.
build_etcd() {
  (cd "$HERE/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$1/etcd" .)
}

# no_btrfs: the btrfs snapshotter needs cgo and is not used (native is).
build_containerd() {
  GOBIN=$1 go install -trimpath -tags no_btrfs \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"
}

build_coredns() {
  GOBIN=$1 go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
}

build_helm() {
  GOBIN=$1 go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

build_pause() {
  (cd "$HERE" && go build -trimpath -ldflags "-s -w" -o "$1/pause" ./pause)
}

# image TAG BINARY: a FROM-scratch image whose entrypoint is BINARY, built
# unless the engine has one made from the same bytes (a label says which).
image() {
  local tag=$1 bin=$2 sum ctx
  sum=$(sha256sum "$bin" | cut -c1-16)
  if [ "$(docker image inspect -f '{{index .Config.Labels "kmschaos.localk8s.binary"}}' "$tag" 2>/dev/null)" = "$sum" ]; then
    say "building image $tag (cached)"; return
  fi
  say "building image $tag"
  ctx=$(mktemp -d)
  cp "$bin" "$ctx/"
  printf 'FROM scratch\nLABEL kmschaos.localk8s.binary=%s\nCOPY %s /%s\nENTRYPOINT ["/%s"]\n' \
    "$sum" "${bin##*/}" "${bin##*/}" "${bin##*/}" >"$ctx/Dockerfile"
  # (The engine's legacy builder warns on stderr that it is deprecated.)
  docker build -q -t "$tag" "$ctx" >"$ctx/out" 2>&1 || { cat "$ctx/out" >&2; die "docker build $tag failed"; }
  rm -rf "$ctx"
}

main() {
  command -v go >/dev/null || die "Go is not installed: run make setup"
  mkdir -p "$CACHE"
  component kubernetes "$K8S_VERSION" "$K8S_BIN" build_kubernetes
  component etcd "$ETCD_VERSION" "$ETCD_BIN" build_etcd
  component containerd "$CONTAINERD_VERSION" "$CONTAINERD_BIN" build_containerd
  component coredns "$COREDNS_VERSION" "$COREDNS_BIN" build_coredns
  component helm "$HELM_VERSION" "$HELM_BIN" build_helm
  component pause "$PAUSE_VERSION" "$PAUSE_BIN" build_pause
  image "$PAUSE_IMAGE" "$PAUSE_BIN/pause"
  image "$COREDNS_IMAGE" "$COREDNS_BIN/coredns"
}

main "$@"
