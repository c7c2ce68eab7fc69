#!/usr/bin/env bash
# veth benchmark: tachyond on net_af_xdp against chronyd serving on the
# kernel's socket of the same veth, both driven by tachyon-gen (net_af_xdp
# on the veth's other end) in the same run, each to its maximum loss-free
# rate. Namespaces TAG-srv / TAG-cli come from tools/netns.sh and are
# removed on exit.
#
#   sudo bench/veth_bench.sh [BUILD_DIR]    (default: build)
#
# The clients are 192.0.2.128/25, on the server's link: chronyd's kernel
# resolves them with ARP, which tachyon-gen answers. tachyond's worker (and
# chronyd) run on SERVER_CPU, the generator on GEN_CPU. Prints a table per
# server (maximum loss-free rate, round-trip time at it and below
# saturation, the processing time the answers state), the ratio
# tachyond/chronyd against the 4x target and tachyond's stated processing
# p99 below saturation against the 1 us target; writes the JSON results and
# docs/perf/veth.png. Tunables (environment): START_RATE (20k), MULTIPLIER
# (1.25), STEP (2 s), BISECT (3), MAX_LOSS (0.1 %), LOSS_RETRIES (1: a
# failed step is run again once, for both servers, and fails only if both
# runs do: one stall of this VM's CPUs otherwise ends a ramp early;
# tachyon-gen --loss-retries), PMD (tachyond's:
# af_xdp or af_packet), GEN_PMD (the generator's, default PMD), SERVER_CPU
# (0), GEN_CPU (1), OUT (docs/perf), REPEAT (1: that many pairs of ramps,
# each in fresh namespaces, then every pair's ratio and their median; the
# table, JSON and plot are the last pair's), REFLECTOR (1: between the two,
# a ramp against bench/reflector on the same port, --yield-us as tachyond's
# worker: the path's own ceiling, and tachyond's share of it; 0: not),
# HUGEPAGES (1: tachyond, the reflector and tachyon-gen on 2 MiB hugepages,
# as a production server runs; the script reserves the pages missing, and
# mounts hugetlbfs if nothing is mounted, and gives both back at the end;
# 0: ordinary memory, DPDK's --no-huge, the daemon's default).
# Takes about two minutes per pair, three with the reflector.
# shellcheck source-path=SCRIPTDIR/..
# shellcheck disable=SC2317  # cleanup runs from a trap
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$root/$build
tachyond=$build/src/daemon/tachyond
gen=$build/tools/gen/tachyon-gen
reflector=$build/bench/reflector
start_rate=${START_RATE:-20k}
multiplier=${MULTIPLIER:-1.25}
step=${STEP:-2}
bisect=${BISECT:-3}
loss_retries=${LOSS_RETRIES:-1}
max_loss=${MAX_LOSS:-0.1}
pmd=${PMD:-af_xdp}
gen_pmd=${GEN_PMD:-$pmd}
server_cpu=${SERVER_CPU:-0}
gen_cpu=${GEN_CPU:-1}
out=${OUT:-$root/docs/perf}
repeat=${REPEAT:-1}
with_reflector=${REFLECTOR:-1}
hugepages=${HUGEPAGES:-1}
tag=tvbench

if [ "$(id -u)" -ne 0 ]; then
  echo "veth_bench: run as root (network namespaces, AF_XDP)" >&2
  exit 1
fi
for f in "$tachyond" "$gen"; do
  [ -x "$f" ] || { echo "veth_bench: $f not found (meson compile -C $build)" >&2; exit 1; }
done
for tool in chronyd python3 gnuplot ip taskset; do
  command -v "$tool" >/dev/null || { echo "veth_bench: $tool not found (sudo tools/setup.sh)" >&2; exit 1; }
done
for p in "$pmd" "$gen_pmd"; do
  case $p in
    af_xdp | af_packet) ;;
    *) echo "veth_bench: PMD and GEN_PMD must be af_xdp or af_packet, not '$p'" >&2; exit 1 ;;
  esac
done
case $repeat in
  '' | *[!0-9]* | 0) echo "veth_bench: REPEAT must be a positive integer, not '$repeat'" >&2; exit 1 ;;
esac
case $with_reflector in
  0) ;;
  1) [ -x "$reflector" ] || { echo "veth_bench: $reflector not found (benchmarks not built; REFLECTOR=0 skips it)" >&2; exit 1; } ;;
  *) echo "veth_bench: REFLECTOR must be 0 or 1, not '$with_reflector'" >&2; exit 1 ;;
esac
case $hugepages in
  0 | 1) ;;
  *) echo "veth_bench: HUGEPAGES must be 0 or 1, not '$hugepages'" >&2; exit 1 ;;
esac
if [ "$server_cpu" = "$gen_cpu" ]; then
  echo "veth_bench: SERVER_CPU and GEN_CPU must differ (two poll loops on one CPU starve each other)" >&2
  exit 1
fi

# shellcheck source=tools/netns.sh
. "$root/tools/netns.sh"
netns_names "$tag"
# shellcheck source=tools/hugepages.sh
. "$root/tools/hugepages.sh"

device() {  # PMD IFACE
  case $1 in
    af_xdp) echo "net_af_xdp0,iface=$2,start_queue=0,queue_count=1" ;;
    af_packet) echo "net_af_packet0,iface=$2" ;;
  esac
}

tmp=$(mktemp -d /tmp/tachyon-veth-bench.XXXXXX)
gen_pid=
server_pid=
chronyd_started=0
cleanup() {
  for pid in "$gen_pid" "$server_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "$chronyd_started" = 1 ] && [ -s "$tmp/chronyd.pid" ]; then
    kill -TERM "$(cat "$tmp/chronyd.pid")" 2>/dev/null || true
  fi
  netns_delete "$tag"
  hugepages_release
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "veth_bench: interrupted"; exit 130' INT TERM

# One server and the generator at a time, 256 MiB each (128 pages), and
# some to spare.
hugepages_for_run "$hugepages" 384 || exit 1

ramp() {  # NAME JSON [GENERATOR ARGS...]: one ramp against 192.0.2.1 from the client namespace
  local name=$1 json=$2
  shift 2
  echo "--- $name ---"
  ip netns exec "$NETNS_CLI" "$gen" -d "$(device "$gen_pmd" "$NETNS_CLI_IF")" -s "$NETNS_SERVER_V4" --source 192.0.2.128/25 \
    --cpus "$gen_cpu" --ramp --start-rate "$start_rate" --multiplier "$multiplier" --step "$step" \
    --bisect "$bisect" --loss-retries "$loss_retries" --max-loss "$max_loss" --warmup 1 --file-prefix "veth_bench_gen_$$" "${HUGEPAGES_ARGS[@]}" --json "$json" -q "$@" &
  gen_pid=$!
  wait "$gen_pid"
  gen_pid=
}

wait_serving() {  # LOG PATTERN: until the server started in the background ($server_pid) logs PATTERN
  local log=$1 pattern=$2
  for _ in $(seq 1 200); do
    grep -q "$pattern" "$log" && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "$pattern" "$log" && return 0
  cat "$log" >&2
  exit 1
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" || true
  server_pid=
}

echo "veth benchmark (tachyond on $pmd, tachyon-gen on $gen_pmd): servers on CPU $server_cpu, tachyon-gen on CPU $gen_cpu; ramp from $start_rate/s x$multiplier, $step s steps, $bisect bisection steps, a failed step run again $loss_retries time(s); DPDK on $HUGEPAGES_NOTE"
# One pair of ramps (tachyond, then chronyd) in fresh namespaces; results
# in $tmp/tachyond-N.json and $tmp/chronyd-N.json.
pair() {  # N
  local n=$1
  netns_create "$tag"

  # 1. tachyond on the server end of the veth.
  netns_write_config "$tmp/tachyond.toml" "$pmd" "$NETNS_SRV_IF" "veth_bench_srv_$$"
  sed -i -e "s/^control_cpu = .*/control_cpu = $server_cpu/" -e "s/^worker_cpus = .*/worker_cpus = [$server_cpu]/" \
    "$tmp/tachyond.toml"
  if [ "$hugepages" = 1 ]; then hugepages_config "$tmp/tachyond.toml"; fi
  if [ -n "${YIELD_US:-}" ]; then  # port.yield_us for tachyond (default: auto, 1000 us on AF_XDP)
    sed -i "s/^\[port\]$/[port]\nyield_us = $YIELD_US/" "$tmp/tachyond.toml"
  fi
  ip netns exec "$NETNS_SRV" "$tachyond" --config "$tmp/tachyond.toml" >"$tmp/tachyond.log" 2>&1 &
  server_pid=$!
  wait_serving "$tmp/tachyond.log" "tachyond serving on"
  ramp tachyond "$tmp/tachyond-$n.json"
  stop_server
  grep -E "stopped:|dropped:" "$tmp/tachyond.log" | sed 's/^.*\] //'

  # 1b. The reflector on the same port, polling and yielding as tachyond's
  #     worker does: what the path carries when the server does nothing.
  if [ "$with_reflector" = 1 ]; then
    ip netns exec "$NETNS_SRV" "$reflector" -d "$(device "$pmd" "$NETNS_SRV_IF")" --cpu "$server_cpu" \
      --yield-us "${YIELD_US:-1000}" --file-prefix "veth_bench_refl_$$" "${HUGEPAGES_ARGS[@]}" >"$tmp/reflector.log" 2>&1 &
    server_pid=$!
    wait_serving "$tmp/reflector.log" "reflector serving on"
    local mac
    mac=$(grep -o "MAC [0-9a-f:]*" "$tmp/reflector.log" | head -1 | cut -d' ' -f2)
    [ -n "$mac" ] || { cat "$tmp/reflector.log" >&2; exit 1; }
    ramp reflector "$tmp/reflector-$n.json" --echo --server-mac "$mac"
    stop_server
    grep "frames received" "$tmp/reflector.log" || true
  fi

  # 2. chronyd on the kernel's socket of the same interface: the addresses
  #    tachyond served now belong to the kernel.
  # (tools/netns.sh turns the kernel's IPv6 off on it while tachyond owns it.)
  netns_kernel_server "$tag"
  cat >"$tmp/chrony.conf" <<EOF
# A server only: no sources, its own clock at stratum 1, every client
# allowed, no rate limiting (chrony has none unless 'ratelimit' is given).
local stratum 1
allow all
pidfile $tmp/chronyd.pid
driftfile $tmp/chronyd.drift
bindcmdaddress $tmp/chronyd.sock
cmdport 0
EOF
  chronyd_started=1
  taskset -c "$server_cpu" ip netns exec "$NETNS_SRV" chronyd -f "$tmp/chrony.conf" -x -U -u root
  for _ in $(seq 1 50); do [ -s "$tmp/chronyd.pid" ] && break; sleep 0.1; done
  [ -s "$tmp/chronyd.pid" ] || { echo "veth_bench: chronyd did not start" >&2; exit 1; }
  echo "chronyd $(chronyd -v | awk '{print $4}') serving on $NETNS_SERVER_V4 (pid $(cat "$tmp/chronyd.pid"), CPU $server_cpu)"
  ramp chronyd "$tmp/chronyd-$n.json"
  local cpid
  cpid=$(cat "$tmp/chronyd.pid")
  kill -TERM "$cpid"
  for _ in $(seq 1 50); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$tmp/chronyd.pid"
  chronyd_started=0
  netns_delete "$tag"
}

for n in $(seq 1 "$repeat"); do
  [ "$repeat" = 1 ] || echo "=== pair $n of $repeat"
  pair "$n"
done

echo
echo "=== veth: tachyond ($pmd) against chronyd, tachyon-gen ($gen_pmd), same run ==="
python3 "$here/gen_results.py" compare --target 4 --processing-p99 1 tachyond="$tmp/tachyond-$repeat.json" chronyd="$tmp/chronyd-$repeat.json"
if [ "$with_reflector" = 1 ]; then
  # Not a target of its own: how close tachyond comes to what the path
  # carries for a server that does nothing (0.9 and more: the path is the
  # limit, not tachyond).
  echo
  echo "=== veth: tachyond against the reflector on the same port (the path's ceiling) ==="
  python3 "$here/gen_results.py" compare --target 0.9 tachyond="$tmp/tachyond-$repeat.json" \
    reflector="$tmp/reflector-$repeat.json"
fi
if [ "$repeat" != 1 ]; then
  pairs=()
  for n in $(seq 1 "$repeat"); do pairs+=("$tmp/tachyond-$n.json:$tmp/chronyd-$n.json"); done
  echo
  python3 "$here/gen_results.py" summary --target 4 --processing-p99 1 --names tachyond,chronyd "${pairs[@]}"
  if [ "$with_reflector" = 1 ]; then
    pairs=()
    for n in $(seq 1 "$repeat"); do pairs+=("$tmp/tachyond-$n.json:$tmp/reflector-$n.json"); done
    echo
    python3 "$here/gen_results.py" summary --target 0.9 --names tachyond,reflector "${pairs[@]}"
  fi
fi

mkdir -p "$out"
cp "$tmp/tachyond-$repeat.json" "$out/veth-tachyond.json"
cp "$tmp/chronyd-$repeat.json" "$out/veth-chronyd.json"
if [ "$with_reflector" = 1 ]; then cp "$tmp/reflector-$repeat.json" "$out/veth-reflector.json"; fi
python3 "$here/gen_results.py" tsv "$tmp/tachyond-$repeat.json" >"$tmp/tachyond.tsv"
python3 "$here/gen_results.py" tsv "$tmp/chronyd-$repeat.json" >"$tmp/chronyd.tsv"
gnuplot -e "out='$out/veth.png'; heading='veth: tachyond ($pmd) vs chronyd, tachyon-gen ($gen_pmd) ramp, $(date -u +%F)'; \
f1='$tmp/tachyond.tsv'; n1='tachyond'; f2='$tmp/chronyd.tsv'; n2='chronyd'" "$here/plot.gnuplot" 2>"$tmp/gnuplot.log" ||
  { echo "veth_bench: gnuplot failed:" >&2; cat "$tmp/gnuplot.log" >&2; exit 1; }
echo "plot: $out/veth.png; results: $out/veth-tachyond.json, $out/veth-chronyd.json"
