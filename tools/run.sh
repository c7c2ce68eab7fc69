#!/usr/bin/env bash
# Quick start: build tachyond, serve NTP in a network namespace, query it.
#
#   sudo ./tools/run.sh [--pmd af_xdp|af_packet] [--no-build]
#
# (TACHYOND=/path/to/tachyond runs that binary instead of build/'s.)
# Installs what is missing (tools/setup.sh), builds in build/, creates two
# network namespaces joined by a veth pair:
#   tachyon-srv  holds tachyon0, owned by tachyond (192.0.2.1, 2001:db8::1)
#   tachyon-cli  holds tachyon1 with 192.0.2.2/24 and 2001:db8::2/64
# starts tachyond on tachyon0 (AF_XDP; AF_PACKET if AF_XDP does not come up
# within 10 s and no --pmd was given), queries it with ntpdig over IPv4 and
# IPv6, prints commands to try, then shows tachyond's log until Ctrl-C, which
# stops tachyond and removes both namespaces. Nothing outside them is touched.

# shellcheck disable=SC2317  # cleanup runs from a trap
set -euo pipefail
self=$(readlink -f "$0")
args=("$@")
cd "$(dirname "$self")/.."

usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$self"
  exit "${1:-0}"
}

pmd=af_xdp
fallback=1 # to af_packet, unless --pmd was given
build=1
while [ $# -gt 0 ]; do
  case $1 in
    --pmd)
      [ $# -ge 2 ] || usage 2
      pmd=$2
      fallback=0
      shift 2
      ;;
    --pmd=*)
      pmd=${1#--pmd=}
      fallback=0
      shift
      ;;
    --no-build)
      build=0
      shift
      ;;
    -h | --help) usage 0 ;;
    *)
      echo "run.sh: unknown option '$1'" >&2
      usage 2
      ;;
  esac
done
case $pmd in
  af_xdp | af_packet) ;;
  *)
    echo "run.sh: --pmd must be af_xdp or af_packet, not '$pmd'" >&2
    exit 2
    ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "run.sh: needs root (network namespaces, DPDK); run it as root" >&2
    exit 1
  }
  exec sudo --preserve-env=TACHYOND "$self" "${args[@]}"
fi

# shellcheck source=tools/netns.sh
. tools/netns.sh

tag=tachyon # namespaces tachyon-srv and tachyon-cli, interfaces tachyon0 and tachyon1
prefix=tachyon_run
tachyond=${TACHYOND:-build/src/daemon/tachyond}
tmp=
pid=
follower=

say() { printf '\n== %s\n' "$*"; }

stop_tachyond() {  # SIGINT, then SIGKILL after 10 s; prints nothing
  [ -n "$pid" ] || return 0
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}

cleanup() {
  set +e
  trap - INT TERM
  local had_ns=0
  stop_tachyond
  if [ -n "$follower" ]; then
    wait "$follower" 2>/dev/null || true # prints the log up to tachyond's last line
  fi
  if netns_exists tachyon-srv || netns_exists tachyon-cli; then had_ns=1; fi
  netns_delete "$tag" || true
  [ -n "$tmp" ] && rm -rf "$tmp"
  rm -rf "/var/run/dpdk/$prefix"
  if [ "$had_ns" = 1 ]; then echo "run.sh: tachyond stopped; namespaces tachyon-srv and tachyon-cli removed"; fi
}
trap cleanup EXIT
on_interrupt=130 # exit status on Ctrl-C; 0 once serving, where Ctrl-C is the way to stop
trap 'exit $on_interrupt' INT TERM

say "dependencies (tools/setup.sh)"
./tools/setup.sh

if [ "$build" = 1 ]; then
  say "build (build/)"
  [ -f build/build.ninja ] || meson setup build
  meson compile -C build
fi
if [ ! -x "$tachyond" ]; then
  echo "run.sh: $tachyond is missing; run without --no-build" >&2
  exit 1
fi

worker_cpu=$(netns_worker_cpu)
client_cpu=$NETNS_CLIENT_CPU

say "network namespaces"
if netns_exists tachyon-srv || netns_exists tachyon-cli; then
  echo "removing tachyon-srv/tachyon-cli left by an earlier run"
fi
netns_create "$tag"
echo "tachyon-srv: tachyon0 (no kernel address: tachyond answers on it)"
echo "tachyon-cli: tachyon1 with $NETNS_CLIENT_V4/24 and $NETNS_CLIENT_V6/64"

tmp=$(mktemp -d /tmp/tachyon-run.XXXXXX)
log=$tmp/tachyond.log
config=$tmp/tachyond.toml

start_tachyond() {  # PMD SECONDS: starts tachyond, waits until it serves
  netns_write_config "$config" "$1" "$NETNS_SRV_IF" "$prefix"
  # ntpq (mode 6) is answered only to the client namespace.
  printf '\n[control]\nallow = ["192.0.2.0/24", "2001:db8::/64"]\n' >>"$config"
  : >"$log"
  ip netns exec "$NETNS_SRV" "$tachyond" --config "$config" >>"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 $(($2 * 10))); do
    grep -q 'tachyond serving on' "$log" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

say "tachyond on tachyon0 with net_$pmd (worker on CPU $worker_cpu, control thread on CPU 0)"
if [ "$(nproc)" -eq 1 ]; then
  echo "note: one CPU only: the busy-polling worker shares CPU 0 with everything else; expect noisy timings"
fi
wait_s=20
[ "$fallback" = 1 ] && wait_s=10
if ! start_tachyond "$pmd" "$wait_s"; then
  stop_tachyond
  sed 's/^/  | /' "$log"
  if [ "$fallback" = 1 ] && [ "$pmd" = af_xdp ]; then
    pmd=af_packet
    say "tachyond did not start with net_af_xdp within 10 s (log above): falling back to net_af_packet"
    if ! start_tachyond "$pmd" 20; then
      stop_tachyond
      sed 's/^/  | /' "$log"
      echo "run.sh: tachyond did not start with net_af_packet either (log above)" >&2
      exit 1
    fi
  else
    echo "run.sh: tachyond did not start with net_$pmd (log above)" >&2
    exit 1
  fi
fi
grep -o 'tachyond serving on.*' "$log"

if grep -q 'serving anyway at local_stratum' "$log"; then
  cat <<EOF

Note: the configuration sets reference.local_stratum = 10. This machine's
kernel clock is flagged unsynchronized (no chrony, ntpd or ptp4l is steering
it), and tachyond then answers with leap indicator 3 and stratum 16 ("I have
no good time"), which every client rejects. local_stratum makes it serve the
system clock at stratum 10 anyway, like chrony's "local stratum". Lab use only.
EOF
fi

client() { ip netns exec "$NETNS_CLI" taskset -c "$client_cpu" "$@"; }
# Resolve the server's MAC first (ARP, NDP) so the timed queries do not wait for it.
client ping -c 1 -W 1 "$NETNS_SERVER_V4" >/dev/null 2>&1 || true
client ping -6 -c 1 -W 1 "$NETNS_SERVER_V6" >/dev/null 2>&1 || true

say "querying from tachyon-cli (ntpdig on CPU $client_cpu, away from the worker)"
for address in "$NETNS_SERVER_V4" "$NETNS_SERVER_V6"; do
  echo "\$ ntpdig -t 2 $address"
  client ntpdig -t 2 "$address" || echo "(no answer)"
done
echo "(columns: time, offset of this machine's clock from the server's, +/- error bound, server, stratum, leap)"

p="sudo ip netns exec tachyon-cli taskset -c $client_cpu"
cat <<EOF

== try these (in another terminal)
$p ntpdig $NETNS_SERVER_V4
$p ntpdig $NETNS_SERVER_V6
$p sntp $NETNS_SERVER_V4
$p chronyd -Q -t 5 "server $NETNS_SERVER_V4 iburst maxsamples 4"
$p ping -c 3 $NETNS_SERVER_V4
$p ping -6 -c 3 $NETNS_SERVER_V6
$p env PYTHONPATH= /usr/bin/python3 /opt/tachyon-test/ntpsec/usr/bin/ntpq -p $NETNS_SERVER_V4
$p build/tools/query/tachyon-query -c 3 $NETNS_SERVER_V4
sudo ip netns exec tachyon-srv curl -s http://127.0.0.1:9123/metrics
sudo ip netns exec tachyon-srv build/tools/query/tachyon-query status
EOF

say "serving with net_$pmd; tachyond's log follows. Ctrl-C stops it and removes the namespaces."
# Backgrounded, the follower ignores Ctrl-C and prints tachyond's last lines
# (its counters) before it exits with tachyond.
on_interrupt=0
tail -n +1 -s 0.2 -f --pid="$pid" "$log" &
follower=$!
wait "$follower"
follower=
if grep -q 'stopping (signal received)' "$log"; then exit 0; fi
echo "run.sh: tachyond exited on its own" >&2
exit 1
