#!/usr/bin/env bash
# Removes the local cluster and everything it left on the machine, also
# after an up.sh that was killed half way: processes are found by their
# binary (under the build cache or ROOT) and their cgroup, not by pid
# files alone; mounts, namespaces, chains and cgroups by name. Safe to run
# again. Keeps ROOT/logs (the last run's) and the build cache; --purge
# removes the cache too. Ends with leftovers.sh and fails if it finds any.
set -uo pipefail
export SAY_PREFIX=k8s-down
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# signal_until_gone SIGNAL SECONDS PID...: sends SIGNAL, then waits up to
# SECONDS for every PID to be gone. Returns 1 if some remain.
signal_until_gone() {
  local sig=$1 deadline=$((SECONDS + $2)) p left
  shift 2
  [ $# -gt 0 ] || return 0
  kill "-$sig" "$@" 2>/dev/null
  while :; do
    left=""
    for p in "$@"; do [ -d "/proc/$p" ] && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ] && left="$left $p"; done
    [ -z "$left" ] && return 0
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# stop GRACE NAME...: TERM, then KILL after GRACE seconds, each process
# of ours running a binary of one of these names.
stop() {
  local grace=$1 pids="" p exe name
  shift
  for p in $(our_pids); do
    exe=$(pid_exe "$p")
    exe=${exe% (deleted)}
    for name in "$@"; do
      [ "${exe##*/}" = "$name" ] && pids="$pids $p"
    done
  done
  [ -n "$pids" ] || return 0
  say "stopping $*"
  # shellcheck disable=SC2086
  signal_until_gone TERM "$grace" $pids || signal_until_gone KILL 5 $pids
}

# The pods' processes: the kubelet first (it would restart them), then
# every process in a kubepods cgroup, then the containerd shims.
stop_pods() {
  stop 10 kubelet
  local pids
  pids=$(kubepods_cgroups | while read -r d; do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -u)
  if [ -n "$pids" ]; then
    say "killing $(echo "$pids" | wc -w) container processes"
    # shellcheck disable=SC2086
    signal_until_gone KILL 10 $pids
  fi
  stop 5 containerd-shim-runc-v2
}

# Whatever else runs from our cache or ROOT (e.g. a helm or ctr a user
# started, or something an interrupted up.sh started).
stop_rest() {
  stop 5 kube-proxy kube-scheduler kube-controller-manager containerd
  # Their data is deleted next: a graceful stop (the API server drains
  # for 15 s, etcd takes 7) would only make k8s-down slower.
  stop 1 kube-apiserver etcd
  local pids
  pids=$(our_pids | sort -u | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  say "killing remaining processes:$pids"
  # shellcheck disable=SC2086
  signal_until_gone KILL 10 $pids
}

# Pod volumes, containerd's rootfs and network-namespace mounts: deepest
# first, lazily if busy. Repeated because mounts can be stacked.
unmount_all() {
  local m i
  for i in 1 2 3 4 5; do
    [ -n "$(our_mounts)" ] || return 0
    [ "$i" = 1 ] && say "unmounting $(our_mounts | wc -l) mounts under $ROOT and /var/lib/kubelet"
    for m in $(our_mounts); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  done
}

remove_netns() {
  local n
  for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    case $n in kmschaos*) say "removing netns $n"; ip netns delete "$n" ;; esac
  done
}

# remove_chains iptables|ip6tables: first every rule elsewhere that jumps
# to a KUBE-*/CNI-* chain (e.g. from PREROUTING, FORWARD), then the chains.
remove_chains() {
  local ipt=$1 t rule c
  command -v "$ipt" >/dev/null || return 0
  [ -n "$(our_chains "$ipt")" ] || return 0
  say "removing KUBE-*/CNI-* chains ($ipt)"
  for t in filter nat mangle raw; do
    "$ipt" -w 5 -t "$t" -S 2>/dev/null | grep -E -- '-[jg] (KUBE-|CNI-)' | grep -vE '^-A (KUBE-|CNI-)' |
      sed 's/^-A /-D /' | while read -r rule; do eval "\"\$ipt\" -w 5 -t \"\$t\" $rule"; done
  done
  our_chains "$ipt" | while read -r t c; do "$ipt" -w 5 -t "$t" -F "$c"; done
  our_chains "$ipt" | while read -r t c; do "$ipt" -w 5 -t "$t" -X "$c"; done
}

remove_network() {
  local n
  # The host ends of pod veths whose namespace is gone already went with
  # it; any still attached to the bridge go first.
  for n in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
    ip link delete "$n" 2>/dev/null
  done
  ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | while read -r n; do
    case $n in kmschaos*) say "removing link $n"; ip link delete "$n" ;; esac
  done
  remove_chains iptables
  remove_chains ip6tables
}

remove_cgroups() {
  local d i
  for i in 1 2 3 4 5; do
    [ -n "$(kubepods_cgroups)" ] || return 0
    [ "$i" = 1 ] && say "removing kubepods cgroups"
    for d in $(kubepods_cgroups); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
    [ -n "$(kubepods_cgroups)" ] && sleep 0.5
  done
}

# The kernel settings the kubelet changed, as up.sh found them.
restore_sysctls() {
  [ -f "$ROOT/sysctl.saved" ] || return 0
  say "restoring kernel settings the kubelet changed"
  sysctl -q -p "$ROOT/sysctl.saved" >/dev/null 2>&1 || true
}

# Files outside ROOT: the kubelet's fixed device-plugin socket, the
# /var/log/containers links to our pod logs, the CNI result cache. Then
# ROOT but its logs.
remove_files() {
  outside_files | while read -r f; do rm -f "$f"; done
  # Their directories too, when nothing else is in them.
  rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers \
    /var/lib/cni/results /var/lib/cni 2>/dev/null
  [ -d "$ROOT" ] || return 0
  # Nothing may be mounted below ROOT any more: rm must not follow a
  # bind mount into the host's files.
  [ -z "$(our_mounts)" ] || { say "still mounted, not removing $ROOT:"; our_mounts; return 1; }
  say "removing $ROOT (keeping $ROOT/logs)"
  find "$ROOT" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf --one-file-system {} +
}

# The Docker images up.sh and the test built (kmschaos.local/*): made
# again in seconds from the cached binaries, so nothing of the cluster
# stays on the engine either.
remove_images() {
  local imgs
  command -v docker >/dev/null && docker info >/dev/null 2>&1 || return 0
  imgs=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep '^kmschaos\.local/' || true)
  [ -n "$imgs" ] || return 0
  say "removing the Docker images $(echo $imgs)"
  # shellcheck disable=SC2086
  docker rmi $imgs >/dev/null
}

main() {
  [ "$(id -u)" = 0 ] || { say "must run as root: sudo make k8s-down" >&2; exit 2; }
  local purge=false
  case ${1:-} in --purge) purge=true ;; "") ;; *) say "usage: down.sh [--purge]" >&2; exit 2 ;; esac
  local t0=$SECONDS
  stop_pods
  stop_rest
  unmount_all
  remove_netns
  remove_network
  remove_cgroups
  restore_sysctls
  remove_files
  remove_images
  if $purge; then
    say "removing the build cache $CACHE"
    rm -rf "$CACHE"
  fi
  local left
  if ! left=$("$HERE/leftovers.sh"); then
    say "FAILED: left behind:" >&2
    while read -r l; do echo "    $l"; done <<<"$left" >&2
    exit 1
  fi
  say "done in $((SECONDS - t0)) s: nothing of the cluster is left"
}

main "$@"
