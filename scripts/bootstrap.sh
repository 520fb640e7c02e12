#!/usr/bin/env bash
# Makes a fresh machine able to run kmschaos, and does nothing on one that
# already is: checks Go, installs the Docker engine (Debian's docker.io) if
# it is missing, starts it if it does not answer, and downloads the pinned
# Go modules. Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'bootstrap: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Go: the version go.mod names, or newer.
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { say "Go is not installed (need $(awk '/^go /{print $2}' go.mod) or newer)"; exit 1; }
want=$(awk '/^go /{print $2}' go.mod)
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" != "$want" ]; then
  say "Go $have is older than the $want go.mod needs"; exit 1
fi

# The Docker engine.
if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
  say "installing the Docker engine (Debian package docker.io)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  say "starting the Docker engine"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    as_root systemctl start docker
  else
    as_root sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { say "the Docker engine did not start; see /var/log/dockerd.log"; exit 1; }
fi
# The operator's toolbox image (docker/Dockerfile.toolbox) carries Debian's
# static shells: the guide's blocks run through a real bash and busybox.
if [ ! -x /bin/busybox ] || [ ! -x /bin/bash-static ]; then
  say "installing busybox-static and bash-static (the operator's toolbox image)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq busybox-static bash-static >/dev/null
fi
# The browser of the live view's test (cmd/kmschaos, TestLiveViewInTheBrowser):
# Debian's chromium, driven headless by chromedp. Only when the tests run
# (make test sets KMSCHAOS_SETUP_BROWSER=1): a demo does not need it.
if [ "${KMSCHAOS_SETUP_BROWSER:-}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  say "installing chromium (the live view's browser test)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi
# Debian's PostgreSQL binaries for the results store's tests
# (harness/results: initdb and pg_ctl start a server in a temporary
# directory). Only when the tests run (make test sets
# KMSCHAOS_SETUP_POSTGRES=1); no server is started here.
if [ "${KMSCHAOS_SETUP_POSTGRES:-}" = 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  say "installing postgresql (the results store's tests)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
fi
# Debian's prometheus and promtool for the results' export tests
# (harness/resultmetrics starts a Prometheus in a temporary directory;
# cmd/kmschaos checks /metrics with promtool). Only when the tests run
# (make test sets KMSCHAOS_SETUP_PROMETHEUS=1). The package would start a
# system service: none is left running (the tests use their own ports).
if [ "${KMSCHAOS_SETUP_PROMETHEUS:-}" = 1 ] && ! command -v promtool >/dev/null 2>&1; then
  say "installing prometheus (the results' export tests)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq prometheus >/dev/null
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    as_root systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1 && service prometheus status >/dev/null 2>&1; then
    as_root service prometheus stop >/dev/null 2>&1 || true
    as_root service prometheus-node-exporter stop >/dev/null 2>&1 || true
  fi
fi
say "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) is running"

# The pinned modules (go.mod), tools included (ginkgo, grpcurl, protoc plugins).
go mod download
say "ready"
