#!/usr/bin/env bash
# Prints every leftover of the local cluster, one per line ("KIND WHAT"),
# and exits 1 if there is any: processes, network namespaces, our bridge,
# KUBE-*/CNI-* iptables chains (v4 and v6, every table), kubepods
# cgroups, mounts under ROOT or /var/lib/kubelet, containerd sockets, and
# the few files the kubelet and CNI write outside ROOT.
# down.sh ends with it; up.sh refuses to start over what it prints.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

list() {
  local p n ipt f
  for p in $(our_pids | sort -un); do
    [ -d "/proc/$p" ] && echo "process $p $(pid_exe "$p")"
  done
  for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    case $n in kmschaos*) echo "netns /run/netns/$n" ;; esac
  done
  ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | while read -r n; do
    case $n in kmschaos*) echo "link $n" ;; esac
  done
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null && our_chains "$ipt" | sed "s/^/$ipt /"
  done
  kubepods_cgroups | sed 's/^/cgroup /'
  our_mounts | sed 's/^/mount /'
  for f in "$SOCK" "$SOCK.ttrpc" "$SHIM_SOCKETS"/*; do
    [ -S "$f" ] && echo "socket $f"
  done
  outside_files | sed 's/^/file /'
  return 0
}

out=$(list)
[ -z "$out" ] && exit 0
echo "$out"
exit 1
