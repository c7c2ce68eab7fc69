# shellcheck shell=bash disable=SC2034  # (variables are for the scripts that source this)
# Network namespaces for running tachyond against real kernel clients.
# Sourced, not executed:
#
#   . tools/netns.sh
#   netns_create demo                 # namespaces demo-srv, demo-cli; veth demo0 <-> demo1
#   netns_write_config /tmp/t.toml af_xdp demo0 demo
#   ip netns exec demo-srv tachyond --config /tmp/t.toml &
#   ip netns exec demo-cli ntpdig 192.0.2.1
#   netns_delete demo
#
# For a TAG (1 to 14 characters: letters, digits, '-', '_'):
#   server namespace TAG-srv holding interface TAG0 (no kernel address: it is
#     tachyond's, which serves 192.0.2.1/24 and 2001:db8::1/64 on it)
#   client namespace TAG-cli holding interface TAG1 with 192.0.2.2/24 and
#     2001:db8::2/64 (nodad, so it is usable at once)
# netns_kernel_server TAG gives TAG0 to the kernel instead (for chronyd).
# Only namespaces created here are touched; nothing in the root namespace.

NETNS_SERVER_V4=192.0.2.1
NETNS_SERVER_V6=2001:db8::1
NETNS_CLIENT_V4=192.0.2.2
NETNS_CLIENT_V6=2001:db8::2

netns_names() {  # TAG: sets NETNS_SRV, NETNS_CLI, NETNS_SRV_IF, NETNS_CLI_IF
  local tag=$1
  if ! [[ $tag =~ ^[A-Za-z0-9_-]{1,14}$ ]]; then
    echo "netns.sh: bad tag '$tag' (1 to 14 letters, digits, '-' or '_')" >&2
    return 1
  fi
  NETNS_SRV=$tag-srv
  NETNS_CLI=$tag-cli
  NETNS_SRV_IF=${tag}0
  NETNS_CLI_IF=${tag}1
}

netns_exists() {  # NAME
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"
}

netns_delete() {  # TAG: stops what still runs inside, removes both namespaces (and the veth)
  netns_names "$1" || return 1
  local ns pids _
  for ns in "$NETNS_SRV" "$NETNS_CLI"; do
    netns_exists "$ns" || continue
    pids=$(ip netns pids "$ns" 2>/dev/null)
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -z "$pids" ] && break
        sleep 0.3
      done
      # shellcheck disable=SC2086
      [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    fi
    ip netns del "$ns"
  done
  return 0
}

netns_create() {  # TAG: creates the pair, replacing leftovers of an earlier run
  netns_names "$1" || return 1
  netns_delete "$1"
  if ! {
    ip netns add "$NETNS_SRV" &&
      ip netns add "$NETNS_CLI" &&
      ip -n "$NETNS_SRV" link add "$NETNS_SRV_IF" type veth peer name "$NETNS_CLI_IF" netns "$NETNS_CLI" &&
      ip -n "$NETNS_SRV" link set lo up &&
      ip -n "$NETNS_CLI" link set lo up &&
      # tachyond answers NDP and ping -6 on this interface itself: the
      # kernel's own IPv6 (a second link-local address) would answer too.
      ip netns exec "$NETNS_SRV" sysctl -qw "net.ipv6.conf.$NETNS_SRV_IF.disable_ipv6=1" &&
      ip -n "$NETNS_SRV" link set "$NETNS_SRV_IF" up &&
      ip -n "$NETNS_CLI" address add "$NETNS_CLIENT_V4/24" dev "$NETNS_CLI_IF" &&
      ip -n "$NETNS_CLI" address add "$NETNS_CLIENT_V6/64" dev "$NETNS_CLI_IF" nodad &&
      ip -n "$NETNS_CLI" link set "$NETNS_CLI_IF" up
  }; then
    echo "netns.sh: cannot create namespaces for '$1'" >&2
    netns_delete "$1"
    return 1
  fi
}

# CPUs: the worker busy-polls its CPU, so it gets CPU 1 and everything else
# (control thread, clients) CPU 0; on a 1-CPU machine all share CPU 0.
netns_kernel_server() {  # TAG [v4only]: the kernel (e.g. chronyd) serves on TAG0 instead of tachyond
  netns_names "$1" || return 1
  ip netns exec "$NETNS_SRV" sysctl -qw "net.ipv6.conf.$NETNS_SRV_IF.disable_ipv6=0" &&
    ip -n "$NETNS_SRV" address add "$NETNS_SERVER_V4/24" dev "$NETNS_SRV_IF" || return 1
  [ "${2:-}" = v4only ] || ip -n "$NETNS_SRV" address add "$NETNS_SERVER_V6/64" dev "$NETNS_SRV_IF" nodad
}

netns_worker_cpu() {
  if [ "$(nproc)" -gt 1 ]; then echo 1; else echo 0; fi
}
NETNS_CLIENT_CPU=0

netns_write_config() {  # FILE PMD IFACE FILE_PREFIX: a tachyond config serving on IFACE
  local file=$1 pmd=$2 iface=$3 prefix=$4 device
  case $pmd in
    af_xdp) device="net_af_xdp0,iface=$iface,start_queue=0,queue_count=1" ;;
    af_packet) device="net_af_packet0,iface=$iface" ;;
    *)
      echo "netns.sh: unknown PMD '$pmd' (af_xdp or af_packet)" >&2
      return 1
      ;;
  esac
  cat >"$file" <<EOF
# Written by tools/netns.sh.
[eal]
memory_mb = 256
file_prefix = "$prefix"
control_cpu = 0
worker_cpus = [$(netns_worker_cpu)]

[port]
device = "$device"

[server]
ipv4 = ["$NETNS_SERVER_V4/24"]
ipv6 = ["$NETNS_SERVER_V6/64"]

[reference]
source = "system"
# The kernel clock here may be flagged unsynchronized: serve anyway (lab only).
local_stratum = 10
EOF
}
