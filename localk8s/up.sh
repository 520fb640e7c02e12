#!/usr/bin/env bash
# Brings up a real single-node Kubernetes cluster on this machine, from
# binaries built from source (build.sh): etcd, the control plane, our own
# containerd (its own socket and directories: the Docker engine's
# containerd is never touched), the kubelet, kube-proxy (iptables) and
# CoreDNS. Returns once the node is Ready, DNS answers and Services are
# routed. Exit 2: this machine cannot run it (one line says why). Any
# other failure: the failing component's log, then down.sh.
set -Eeuo pipefail
export SAY_PREFIX=k8s-up
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

PKI=$ROOT/pki
STARTED=""  # components started by this run, for the liveness checks
CURRENT=""  # the component the current step depends on, for its log

refuse() { say "$*" >&2; exit 2; }

fail() {
  trap - ERR INT TERM
  # A signal can arrive while a polled check runs with its output sent to
  # /dev/null (wait_for): speak on the stderr up.sh was started with.
  exec >&3 2>&3
  say "FAILED: $*" >&2
  local c=${CURRENT:-}
  for s in $STARTED; do alive "$s" || c=$s; done
  if [ "$*" != interrupted ] && [ -n "$c" ] && [ -f "$ROOT/logs/$c.log" ]; then
    say "last lines of $ROOT/logs/$c.log:" >&2
    tail -n 40 "$ROOT/logs/$c.log" | sed 's/^/    /' >&2
  fi
  say "cleaning up (down.sh)" >&2
  "$HERE/down.sh" >&2 || true
  exit 1
}

# --- preflight: what this machine must have --------------------------------

# The Debian packages the cluster runs with; installed when missing.
ensure_packages() {
  local missing="" cmd pkg
  for pair in iptables:iptables conntrack:conntrack socat:socat runc:runc openssl:openssl \
    curl:curl ip:iproute2 /usr/lib/cni/bridge:containernetworking-plugins; do
    cmd=${pair%%:*} pkg=${pair#*:}
    if [ "${cmd#/}" != "$cmd" ]; then [ -x "$cmd" ] && continue; else command -v "$cmd" >/dev/null && continue; fi
    missing="$missing $pkg"
  done
  [ -z "$missing" ] && return
  say "installing Debian packages:$missing"
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

# The cgroup controllers the kubelet requires (v1: it checks cpu, cpuacct,
# cpuset and memory are mounted; pids for pod pid limits), or cgroup v2.
check_cgroups() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    for c in cpu memory pids; do
      grep -qw "$c" /sys/fs/cgroup/cgroup.controllers ||
        refuse "cgroup v2 lacks the $c controller: the kubelet needs cpu, memory and pids"
    done
    return
  fi
  local mounted
  mounted=$(awk '$3 == "cgroup" { print $4 }' /proc/mounts | tr ',' '\n')
  for c in cpu cpuacct cpuset memory pids; do
    echo "$mounted" | grep -qx "$c" ||
      refuse "no cgroup fs with the $c controller is mounted: the kubelet needs cpu, cpuacct, cpuset, memory and pids"
  done
}

# What else the kubelet refuses to start without: /dev/kmsg (its OOM
# watcher opens it) and a writable /proc/sys (it sets vm.overcommit_memory,
# kernel.panic and others).
check_kernel() {
  timeout 2 dd if=/dev/kmsg of=/dev/null bs=8192 count=1 status=none 2>/dev/null ||
    refuse "/dev/kmsg cannot be read: the kubelet's OOM watcher needs it (a container without it cannot run a kubelet)"
  local v
  v=$(cat /proc/sys/kernel/panic)
  (echo "$v" >/proc/sys/kernel/panic) 2>/dev/null ||
    refuse "/proc/sys is read-only: the kubelet sets kernel tunables (vm.overcommit_memory, kernel.panic)"
}

check_iptables() {
  command -v iptables >/dev/null || refuse "iptables is missing: apt-get install iptables"
  iptables -w 5 -t nat -S >/dev/null 2>&1 ||
    refuse "iptables does not work here (iptables -t nat -S failed): kube-proxy and the CNI plugins need it"
}

check_docker() {
  docker info >/dev/null 2>&1 ||
    refuse "the Docker engine does not answer: it builds the pause and CoreDNS images; run make setup"
}

# Ports the cluster listens on must be free.
check_ports() {
  local p used
  for p in 2379 2380 6443 10248 10249 10250 10256 10257 10259; do
    used=$(ss -Htlnp "sport = :$p" 2>/dev/null | head -n1)
    [ -z "$used" ] || refuse "port $p is in use ($(echo "$used" | grep -o 'users:.*')): stop that process first"
  done
}

# Our pod and service ranges must not overlap a route of someone else's.
check_cidrs() {
  local cidr r
  for cidr in "$POD_CIDR" "$SERVICE_CIDR"; do
    r=$( (ip -4 route show match "$cidr"; ip -4 route show root "$cidr") | grep -v '^default' | grep -v "dev $BRIDGE" | head -n1 || true)
    [ -z "$r" ] || refuse "$cidr (ours) overlaps the route '$r': remove it or change POD_CIDR/SERVICE_CIDR in localk8s/lib.sh"
  done
}

# The node's address: the one on the interface of the default route. The
# API server advertises it (pods reach it through the kubernetes Service).
node_ip() {
  local dev
  dev=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')
  [ -n "$dev" ] || refuse "no IPv4 default route: the node needs an address on a real interface"
  ip -4 -o addr show dev "$dev" scope global | awk '{ sub(/\/.*/, "", $4); print $4; exit }'
}

# --- is a cluster of ours there already? -----------------------------------

alive() {
  local pid
  pid=$(cat "$ROOT/run/$1.pid" 2>/dev/null) || return 1
  case $(pid_exe "$pid") in "$CACHE"/*) return 0 ;; esac
  return 1
}

kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

node_ready() {
  [ "$(kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# Up and healthy: a run of up.sh got to its end (one killed half way did
# not), and everything it started still runs and answers.
healthy() {
  local c
  [ -f "$ROOT/run/up.done" ] || return 1
  for c in $COMPONENTS; do alive "$c" || return 1; done
  kubectl get --raw /readyz >/dev/null 2>&1 && node_ready
}

# --- the state under ROOT --------------------------------------------------

# cert NAME SUBJECT EXTENDED-USAGE [SANS]: a P-256 key and a certificate
# signed by our CA.
cert() {
  local name=$1 subj=$2 usage=$3 sans=${4:-}
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -config "$PKI/openssl.cnf" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -subj "$subj" \
    -keyout "$PKI/$name.key" -out "$PKI/$name.crt" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
    -addext "extendedKeyUsage=$usage" ${sans:+-addext "subjectAltName=$sans"} 2>/dev/null
}

make_pki() {
  say "making certificates ($PKI)"
  mkdir -p "$PKI" && chmod 700 "$PKI"
  # An empty config: every extension comes from -addext, none from the
  # distribution's defaults (which would mark leaf certificates as CAs).
  printf '[req]\ndistinguished_name = dn\n[dn]\n' >"$PKI/openssl.cnf"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -config "$PKI/openssl.cnf" -subj "/CN=kmschaos-k8s-ca" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  cert apiserver "/CN=kube-apiserver" serverAuth \
    "IP:127.0.0.1,IP:$API_SERVICE_IP,IP:$NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # The API server's client certificate for kubelets (logs, exec).
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  # The apiserver dials the kubelet at the node's InternalIP and checks
  # this certificate against our CA: the IP must be among its SANs.
  cert kubelet-serving "/CN=$NODE_NAME" serverAuth "IP:$NODE_IP,IP:127.0.0.1,DNS:$NODE_NAME,DNS:localhost"
  cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  cert scheduler "/CN=system:kube-scheduler" clientAuth
  cert kube-proxy "/CN=system:kube-proxy" clientAuth
  cert admin "/O=system:masters/CN=kmschaos-admin" clientAuth
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
}

# kubeconfig NAME: $ROOT/NAME.kubeconfig with the NAME certificate inlined
# (the admin one can be copied elsewhere and still work).
kubeconfig() {
  cat >"$ROOT/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kmschaos
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$1.crt")
    client-key-data: $(base64 -w0 "$PKI/$1.key")
contexts:
- name: kmschaos
  context: {cluster: kmschaos, user: $1}
current-context: kmschaos
EOF
  chmod 600 "$ROOT/$1.kubeconfig"
}

# Our containerd: its own socket, root, state and shim sockets, all under
# ROOT, so that it shares nothing with the Docker engine's containerd.
containerd_config() {
  cat >"$ROOT/containerd/config.toml" <<EOF
version = 4
root = "$ROOT/containerd/root"
state = "$ROOT/containerd/state"

[plugins.'io.containerd.server.v1.grpc']
  address = "$SOCK"
[plugins.'io.containerd.server.v1.ttrpc']
  address = "$SOCK.ttrpc"
# Would be /run/containerd/s, beside the Docker engine's shims.
[plugins.'io.containerd.shim.v1.manager']
  socket_dir = "$SHIM_SOCKETS"
# Would be /opt/containerd.
[plugins.'io.containerd.internal.v1.opt']
  path = "$ROOT/containerd/opt"
# NRI would open a socket in /var/run/nri; nothing here uses it.
[plugins.'io.containerd.nri.v1.nri']
  disable = true

[plugins.'io.containerd.cri.v1.images']
  # No overlay filesystem in the sandbox.
  snapshotter = "native"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$PAUSE_IMAGE"

[plugins.'io.containerd.cri.v1.runtime']
  # The sandbox may not lower oom_score_adj; without this runc fails with
  # "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  # Pod network namespaces under ROOT rather than /run/netns.
  netns_mounts_under_state_dir = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      BinaryName = "$(command -v runc)"
      Root = "$ROOT/containerd/runc"
      SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$ROOT/cni"
    max_conf_num = 1
EOF
  # The Docker engine's containerd must never be touched: ask containerd
  # where it would listen with this file before starting it.
  local addr
  addr=$("$CONTAINERD_BIN/containerd" --config "$ROOT/containerd/config.toml" config dump 2>/dev/null |
    sed -n "/^  \[plugins.'io.containerd.server.v1.grpc'\]/,/address/s/^ *address = '\(.*\)'/\1/p")
  [ "$addr" = "$SOCK" ] || fail "containerd would listen on '$addr', not $SOCK"
}

# The pod network: one Linux bridge (ours by name), host-local addresses
# kept under ROOT, masquerade for traffic leaving the node, portmap for
# hostPort, and the firewall plugin so the Docker engine's FORWARD policy
# (DROP) lets pod traffic through.
cni_config() {
  cat >"$ROOT/cni/10-$CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$ROOT/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall", "backend": "iptables"}
  ]
}
EOF
}

# The bridge, made before the CNI plugin would make it, so that the pod
# and Service ranges are routed to it from the start: a packet for an
# address that no rule catches (no such pod, kube-proxy not running yet or
# any more) stays on this machine instead of leaving by the default route.
# The plugin takes the bridge and its gateway address as they are.
make_bridge() {
  ip link add "$BRIDGE" type bridge
  ip addr add "${POD_CIDR%.0/*}.1/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  ip route add "$SERVICE_CIDR" dev "$BRIDGE"
}

kubelet_config() {
  cat >"$ROOT/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
# cgroup v1 host, no systemd as init: the kubelet manages cgroupfs itself.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$SOCK
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
podLogsDir: $ROOT/pod-logs
# Would be /usr/libexec/kubernetes/kubelet-plugins/volume/exec.
volumePluginDir: $ROOT/kubelet/volume-plugins
healthzBindAddress: 127.0.0.1
# No registry: an image collected could never be pulled back.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# A developer's disk, not a dedicated node's: evict only when it is
# really almost full.
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, nodefs.inodesFree: 2%, imagefs.available: 2%}
# kmschaos's mesh pod gives up a connect after one SYN retry (3 s),
# not the kernel's six (2 min): toxiproxy dials its upstream inside its
# accept loop, so one connect to a party pod that just vanished would
# hold every later connection of that link for two minutes.
allowedUnsafeSysctls: [net.ipv4.tcp_syn_retries]
EOF
}

kube_proxy_config() {
  cat >"$ROOT/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $ROOT/kube-proxy.kubeconfig}
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the host's conntrack table size and timeouts as they are: they
# are the host's, and the sandbox may refuse to change them.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

# The kubelet changes these kernel settings; down.sh puts them back.
save_sysctls() {
  local k
  for k in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do
    echo "$k=$(sysctl -n "$k")"
  done >"$ROOT/sysctl.saved"
}

# mount_volumes: a tmpfs for the backend's volumes (lib.sh, VOLUMES).
mount_volumes() {
  mkdir -p "$VOLUMES"
  if ! mountpoint -q "$VOLUMES"; then
    mount -t tmpfs -o "size=$VOLUMES_SIZE,mode=0700" kmschaos-volumes "$VOLUMES" ||
      fail "cannot mount a tmpfs at $VOLUMES (key material must not reach a disk)"
  fi
}

prepare() {
  rm -rf "$ROOT/logs"
  mkdir -p "$ROOT"/{bin,logs,run,etcd,cni/ipam,containerd,kubelet,pod-logs}
  chmod 700 "$ROOT/etcd"
  mount_volumes
  make_pki
  for k in admin controller-manager scheduler kubelet kube-proxy; do kubeconfig "$k"; done
  containerd_config
  cni_config
  make_bridge
  kubelet_config
  kube_proxy_config
  save_sysctls
  # Service traffic from pods: bridged packets must pass iptables (for
  # kube-proxy's rules), and the node must forward.
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1 2>/dev/null ||
    { modprobe br_netfilter 2>/dev/null; sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1; }
}

# --- processes -------------------------------------------------------------

# start NAME BINARY ARGS...: in its own session (a Ctrl-C or the end of
# the calling shell does not reach it), output to logs/NAME.log.
start() {
  local name=$1
  shift
  say "starting $name"
  CURRENT=$name
  # 3>&-: fd 3 (up.sh's own stderr, see fail) must not stay open in a
  # process that outlives up.sh, or whoever reads up.sh's output waits.
  setsid nohup "$@" >"$ROOT/logs/$name.log" 2>&1 </dev/null 3>&- &
  echo $! >"$ROOT/run/$name.pid"
  disown $!  # ours to stop (down.sh), not this shell's job to report
  STARTED="$STARTED $name"
}

# wait_for COMPONENT SECONDS WHAT COMMAND...: polls COMMAND until it
# succeeds; fails (with COMPONENT's log) at the deadline or as soon as a
# started process has exited.
wait_for() {
  local component=$1 deadline=$((SECONDS + $2)) what=$3 s
  shift 3
  CURRENT=$component
  until "$@" >/dev/null 2>&1; do
    for s in $STARTED; do alive "$s" || fail "$s exited while waiting for $what"; done
    [ "$SECONDS" -lt "$deadline" ] || fail "$what: not after $2 s"
    sleep 0.5
  done
}

start_etcd() {
  # Plain HTTP on loopback only: the API server is its one client.
  start etcd "$ETCD_BIN/etcd" --name kmschaos --data-dir "$ROOT/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster kmschaos=http://127.0.0.1:2380
  wait_for etcd 60 "etcd healthy" curl -fsS http://127.0.0.1:2379/health
}

start_apiserver() {
  # --advertise-address: the node's IP, so that the kubernetes Service
  #   (10.96.0.1) leads pods to it; a loopback address would lead nowhere.
  # --kubelet-preferred-address-types / --kubelet-certificate-authority:
  #   dial kubelets at their InternalIP and check their serving certificate.
  # --allow-privileged: as kubeadm does; charts may ask for it.
  start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --advertise-address="$NODE_IP" --secure-port=6443 \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --client-ca-file="$PKI/ca.crt" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC \
    --allow-privileged=true
  wait_for kube-apiserver 90 "kube-apiserver ready" kubectl get --raw /readyz
}

start_controllers() {
  # --leader-elect=false: one instance, nothing to elect.
  # --use-service-account-credentials: each controller acts as its own
  #   service account, as RBAC's bootstrap roles expect.
  # --root-ca-file: published to every namespace (kube-root-ca.crt), which
  #   every pod's service account volume needs.
  # --cluster-signing-*: CSRs (kubectl certificate approve) get signed.
  local kc=$ROOT/controller-manager.kubeconfig
  start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR"
  kc=$ROOT/scheduler.kubeconfig
  start kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --leader-elect=false
  wait_for kube-controller-manager 60 "kube-controller-manager healthy" curl -fsk https://127.0.0.1:10257/healthz
  wait_for kube-scheduler 60 "kube-scheduler healthy" curl -fsk https://127.0.0.1:10259/healthz
}

ctr() { "$CONTAINERD_BIN/ctr" --address "$SOCK" --namespace k8s.io "$@"; }

start_containerd() {
  # PATH: containerd finds its shim by name there, and the Docker engine's
  # older containerd-shim-runc-v2 is in /usr/bin.
  start containerd env PATH="$CONTAINERD_BIN:$PATH" "$CONTAINERD_BIN/containerd" --config "$ROOT/containerd/config.toml"
  wait_for containerd 60 "containerd answering on $SOCK" ctr version
  local img
  for img in "$PAUSE_IMAGE" "$COREDNS_IMAGE"; do
    say "importing $img into containerd"
    # (ctr warns on stderr that cgroup v1 is deprecated.)
    docker save "$img" | ctr images import --local --snapshotter native - >/dev/null 2>&1
  done
}

start_kubelet() {
  start kubelet "$K8S_BIN/kubelet" --config="$ROOT/kubelet/config.yaml" \
    --kubeconfig="$ROOT/kubelet.kubeconfig" --root-dir="$ROOT/kubelet" --cert-dir="$ROOT/kubelet/pki" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"
  wait_for kubelet 120 "node $NODE_NAME Ready" node_ready
}

start_kube_proxy() {
  start kube-proxy "$K8S_BIN/kube-proxy" --config="$ROOT/kube-proxy.yaml"
  wait_for kube-proxy 60 "kube-proxy healthy" curl -fsS http://127.0.0.1:10256/healthz
}

# Service portals first: the CNI firewall plugin puts its jump, which
# accepts everything from a pod, at the head of FORWARD when the first pod
# starts, above kube-proxy's. A Service without endpoints (a party pod
# being replaced) must refuse a connection at once, as on any conformant
# cluster, not pass it on by the bridge to an address nobody has, where
# it hangs until the connect times out.
SERVICES_FIRST='-m conntrack --ctstate NEW -m comment --comment kmschaos-k8s-service-portals-first -j KUBE-SERVICES'
services_first() {
  # shellcheck disable=SC2086 # the rule is words
  iptables -w 5 -C FORWARD $SERVICES_FIRST 2>/dev/null || iptables -w 5 -I FORWARD 1 $SERVICES_FIRST
}

dns_routed() {
  iptables -w 5 -t nat -S KUBE-SERVICES 2>/dev/null | grep -q -- "-d $DNS_SERVICE_IP/32 .*-j KUBE-SVC-"
}

start_coredns() {
  say "deploying CoreDNS"
  sed -e "s|@IMAGE@|$COREDNS_IMAGE|" -e "s|@DNS_IP@|$DNS_SERVICE_IP|" "$HERE/manifests/coredns.yaml" >"$ROOT/coredns.yaml"
  # The kube-system namespace and the bootstrap RBAC roles appear shortly
  # after the API server is ready: apply until it takes.
  wait_for kube-apiserver 60 "CoreDNS manifests applied" kubectl apply -f "$ROOT/coredns.yaml"
  wait_for kubelet 120 "CoreDNS available" \
    kubectl -n kube-system wait --for=condition=Available --timeout=2s deployment/coredns
  wait_for kube-proxy 60 "kube-proxy routing kube-dns ($DNS_SERVICE_IP) in KUBE-SERVICES" dns_routed
  # Pods of the default namespace need its service account.
  wait_for kube-controller-manager 60 "default service account" kubectl -n default get serviceaccount default
}

# PATH for users: kubectl and helm as they are; ctr as a wrapper bound to
# our socket, because the bare ctr would talk to the Docker engine's
# containerd.
link_tools() {
  ln -sfn "$K8S_BIN/kubectl" "$ROOT/bin/kubectl"
  ln -sfn "$HELM_BIN/helm" "$ROOT/bin/helm"
  printf '#!/bin/sh\n# ctr bound to the kmschaos cluster'"'"'s containerd (not the Docker engine'"'"'s).\nexec %s --address %s --namespace k8s.io "$@"\n' \
    "$CONTAINERD_BIN/ctr" "$SOCK" >"$ROOT/bin/ctr"
  chmod +x "$ROOT/bin/ctr"
}

print_env() {
  echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
  echo "export PATH=$ROOT/bin:\$PATH"
}

main() {
  exec 3>&2
  [ "$(id -u)" = 0 ] || refuse "must run as root (it runs a kubelet, containerd and iptables rules): sudo make k8s-up"
  ensure_packages
  check_cgroups
  check_kernel
  check_iptables
  if [ -f "$K8S_BIN/.built" ] && healthy; then
    say "the cluster is already up and healthy"
    print_env
    exit 0
  fi
  local left
  left=$("$HERE/leftovers.sh" 2>/dev/null | head -n1 || true)
  [ -z "$left" ] || refuse "a kmschaos cluster is half up or was left behind ($left): run make k8s-down"
  # A unix socket path has at most 108 bytes; containerd takes a shim
  # socket directory of at most 42.
  [ ${#SHIM_SOCKETS} -le 42 ] || refuse "KMSCHAOS_K8S_ROOT=$ROOT is too long for socket paths: use one of at most 40 characters"
  check_docker
  check_ports
  check_cidrs
  NODE_IP=$(node_ip)
  [ -n "$NODE_IP" ] || refuse "the default route's interface has no IPv4 address"
  local t0=$SECONDS
  "$HERE/build.sh"
  trap 'fail "$BASH_COMMAND failed (line $LINENO)"' ERR
  trap 'fail "interrupted"' INT TERM
  say "node $NODE_NAME at $NODE_IP, state in $ROOT"
  prepare
  start_etcd
  start_apiserver
  start_controllers
  start_containerd
  start_kubelet
  start_kube_proxy
  start_coredns
  services_first
  link_tools
  touch "$ROOT/run/up.done"
  trap - ERR INT TERM
  say "cluster up in $((SECONDS - t0)) s: node Ready, CoreDNS available, Services routed"
  print_env
}

main "$@"
