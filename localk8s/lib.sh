# Shared by build.sh, up.sh, down.sh and leftovers.sh (sourced, not run):
# where things are, what our things are named, and small helpers.
# shellcheck shell=bash disable=SC2034

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"

# Everything the cluster makes lives under ROOT; the build cache is apart
# so that k8s-down (which empties ROOT) keeps it.
ROOT=${KMSCHAOS_K8S_ROOT:-/var/lib/kmschaos-k8s}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/kmschaos/localk8s

K8S_BIN=$CACHE/kubernetes-$K8S_VERSION
ETCD_BIN=$CACHE/etcd-$ETCD_VERSION
CONTAINERD_BIN=$CACHE/containerd-$CONTAINERD_VERSION
COREDNS_BIN=$CACHE/coredns-$COREDNS_VERSION
HELM_BIN=$CACHE/helm-$HELM_VERSION
PAUSE_BIN=$CACHE/pause-$PAUSE_VERSION

PAUSE_IMAGE=kmschaos.local/pause:$PAUSE_VERSION
COREDNS_IMAGE=kmschaos.local/coredns:$COREDNS_VERSION

# Names of what we make outside ROOT carry "kmschaos" so that down.sh and
# leftovers.sh touch only ours. KUBE-* and CNI-* iptables chains are named
# by kube-proxy, the kubelet and the CNI plugins; nothing else on a
# kmschaos machine (Docker) uses those prefixes, so they count as ours.
NODE_NAME=kmschaos-node
BRIDGE=kmschaos0
CNI_NETWORK=kmschaos
# Pods and Services: 10.x, away from Docker's default pools (172.17-31/16,
# 192.168/16) where the harness makes its networks. up.sh checks them
# against the routing table before using them.
POD_CIDR=10.88.0.0/16
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10

SOCK=$ROOT/containerd/containerd.sock
# The Kubernetes backend's hostPath volumes (cluster/kube: this cluster has
# no provisioner) hold key material: a tmpfs, so it never reaches a disk.
VOLUMES=$ROOT/volumes
VOLUMES_SIZE=${KMSCHAOS_K8S_VOLUMES_SIZE:-1g}
SHIM_SOCKETS=$ROOT/s
KUBECONFIG_ADMIN=$ROOT/admin.kubeconfig

# The host processes of the cluster, in start order.
COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy"

say() { printf '%s: %s\n' "${SAY_PREFIX:-k8s-$(basename "$0" .sh)}" "$*"; }
die() { say "$*" >&2; exit 1; }

# Process ids of every process of ours, found without pid files (up.sh
# may have been killed before writing one): a process runs one of our
# binaries (exe under CACHE or ROOT; a rebuilt binary reads "(deleted)"
# and still matches), or is one of our components built in another cache
# (another HOME) with ROOT in its arguments, or sits in a kubepods cgroup
# (a container's process: its exe is a path inside the container's root).
our_pids() {
  local p exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    exe=${exe% (deleted)}
    case $exe in
      "$CACHE"/* | "$ROOT"/*) echo "${p#/proc/}" ;;
      */etcd | */kube-* | */kubelet | */kubectl | */containerd | */containerd-shim-runc-v2 | */ctr | */helm)
        tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "$ROOT/" && echo "${p#/proc/}" ;;
    esac
  done
  kubepods_cgroups | while read -r d; do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done
}

# The binary a process runs, for messages.
pid_exe() { readlink "/proc/$1/exe" 2>/dev/null || echo "?"; }

# Tables and chains of ours in iptables (family: iptables or ip6tables),
# as "table chain" lines.
our_chains() {
  local ipt=$1 t
  for t in filter nat mangle raw; do
    "$ipt" -w 5 -t "$t" -S 2>/dev/null | awk -v t="$t" '$1 == "-N" && $2 ~ /^(KUBE-|CNI-)/ { print t, $2 }'
  done
}

# Cgroup directories named kubepods, in every v1 controller and the
# unified hierarchy.
kubepods_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$d" ] && echo "$d"
  done
  return 0
}

# Mount points under ROOT or the kubelet's default root, deepest first.
our_mounts() {
  awk -v r="$ROOT/" '{ gsub(/\\040/, " ", $5); if (index($5, r) == 1 || index($5, "/var/lib/kubelet/") == 1 || $5 == "/var/lib/kubelet" || $5 == substr(r, 1, length(r) - 1)) print $5 }' \
    /proc/self/mountinfo | sort -r -u
}

# Files of ours outside ROOT that the kubelet and containerd's CNI library
# write to fixed places: the device-plugin socket, the /var/log/containers
# links to our pod logs, the CNI result cache of our network (and the
# loopback results of the same sandboxes).
outside_files() {
  local f id
  [ -e /var/lib/kubelet/device-plugins/kubelet.sock ] && echo /var/lib/kubelet/device-plugins/kubelet.sock
  find /var/log/containers -maxdepth 1 -type l -lname "$ROOT/*" 2>/dev/null
  for f in /var/lib/cni/results/"$CNI_NETWORK"-*; do
    [ -e "$f" ] || continue
    echo "$f"
    id=${f#/var/lib/cni/results/"$CNI_NETWORK"-}
    id=${id%-*}
    [ -e "/var/lib/cni/results/cni-loopback-$id-lo" ] && echo "/var/lib/cni/results/cni-loopback-$id-lo"
  done
  return 0
}
