#!/usr/bin/env bash
# memif benchmark: the maximum loss-free rate of tachyond, and of a minimal
# reflector (bench/reflector.cc: swaps addresses, sends the frame back) as
# the baseline, both driven by tachyon-gen over net_memif in the same run.
# The servers' poll loop runs on SERVER_CPU, the generator's on GEN_CPU:
# never two poll loops on one CPU.
#
#   bench/memif_bench.sh [BUILD_DIR]        (default: build)
#
# Prints a table per server (maximum loss-free rate, round-trip time at it
# and below saturation, tachyond's stated processing time) and the ratio
# tachyond/reflector against the 0.90 target; then runs both servers,
# alternately, under the same fixed load and prints what a frame cost each
# poll loop (busy time per frame) and the ratio of those costs, the
# comparison that still holds when the generator cannot saturate the
# reflector: once with the requests sent in bursts of 32 (tachyon-gen
# --burst 32: the servers receive whole bursts, as at saturation, so this
# ratio is the capacity ratio), once sent as they fall due (bursts of one
# or two). Writes the JSON results and docs/perf/memif.png. Tunables
# (environment): START_RATE (500k), MULTIPLIER (1.25), STEP (2 s), BISECT
# (3), MAX_LOSS (0.1 %), LOSS_RETRIES (1: a failed step is run again once
# and fails only if both runs do; tachyon-gen --loss-retries), SAME_RATE
# (auto: 90 % of the smaller maximum), SAME_SECONDS (6), SAME_REPEAT (3),
# SAME_BURSTS ("32 1"),
# SERVER_CPU (0), GEN_CPU (1), OUT (docs/perf), HUGEPAGES (1 as root: the
# servers and tachyon-gen on 2 MiB hugepages, as a production server runs,
# reserved by the script if missing and given back; 0, the default without
# root: ordinary memory, DPDK's --no-huge). Takes about three minutes.
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
start_rate=${START_RATE:-500k}
multiplier=${MULTIPLIER:-1.25}
step=${STEP:-2}
bisect=${BISECT:-3}
loss_retries=${LOSS_RETRIES:-1}
max_loss=${MAX_LOSS:-0.1}
server_cpu=${SERVER_CPU:-0}
gen_cpu=${GEN_CPU:-1}
out=${OUT:-$root/docs/perf}
same_rate=${SAME_RATE:-auto}
same_seconds=${SAME_SECONDS:-6}
same_repeat=${SAME_REPEAT:-3}
same_bursts=${SAME_BURSTS:-32 1}
if [ "$(id -u)" -eq 0 ]; then hugepages=${HUGEPAGES:-1}; else hugepages=${HUGEPAGES:-0}; fi

for f in "$tachyond" "$gen" "$reflector"; do
  [ -x "$f" ] || { echo "memif_bench: $f not found (meson compile -C $build)" >&2; exit 1; }
done
for tool in python3 gnuplot curl; do
  command -v "$tool" >/dev/null || { echo "memif_bench: $tool not found (sudo tools/setup.sh)" >&2; exit 1; }
done
case $hugepages in
  0) ;;
  1) [ "$(id -u)" -eq 0 ] || { echo "memif_bench: HUGEPAGES=1 needs root (it reserves them)" >&2; exit 1; } ;;
  *) echo "memif_bench: HUGEPAGES must be 0 or 1, not '$hugepages'" >&2; exit 1 ;;
esac
if [ "$server_cpu" = "$gen_cpu" ]; then
  echo "memif_bench: SERVER_CPU and GEN_CPU must differ (two poll loops on one CPU starve each other)" >&2
  exit 1
fi

tmp=$(mktemp -d /tmp/tachyon-memif-bench.XXXXXX)
stats_port=$((20000 + $$ % 10000))
gen_pid=
server_pid=
# The generator always stops before the server: memif's rx_burst must not
# run while its peer disconnects.
cleanup() {
  for pid in "$gen_pid" "$server_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  hugepages_release
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "memif_bench: interrupted"; exit 130' INT TERM

# shellcheck source=tools/hugepages.sh
. "$root/tools/hugepages.sh"
# One server and the generator at a time, 256 MiB (128 pages) each, and
# some to spare.
hugepages_for_run "$hugepages" 384 || exit 1

wait_for() {  # LOG PATTERN PID: until PATTERN is in LOG (20 s)
  for _ in $(seq 1 200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "memif_bench: server exited:" >&2; cat "$1" >&2; return 1; }
    sleep 0.1
  done
  echo "memif_bench: no '$2' within 20 s:" >&2
  cat "$1" >&2
  return 1
}

# DPDK 22.11's memif may crash the server's poll loop when its client
# disconnects (it reads a ring the disconnect just unmapped). The
# generator has written its results by then: say so and go on.
stop_server() {  # NAME
  local status=0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" || status=$?
  server_pid=
  if [ "$status" -gt 128 ]; then
    echo "note: $1 died of signal $((status - 128)) (at the generator's disconnect: DPDK 22.11 memif race); its results were complete"
  fi
}

# memif involves no kernel work, so the generator need not yield its CPU
# (--yield-us 0): yielding would only cost it time to whatever else runs.
ramp() {  # NAME SOCKET JSON [generator options...]: one ramp against the server on SOCKET
  local name=$1 sock=$2 json=$3
  shift 3
  echo "--- $name ---"
  "$gen" -d "net_memif0,role=client,socket=$sock" -s 192.0.2.1 --cpus "$gen_cpu" \
    --ramp --start-rate "$start_rate" --multiplier "$multiplier" --step "$step" --bisect "$bisect" --loss-retries "$loss_retries" \
    --max-loss "$max_loss" --warmup 0.5 --yield-us 0 --file-prefix "memif_bench_gen_$$" "${HUGEPAGES_ARGS[@]}" --json "$json" -q "$@" &
  gen_pid=$!
  wait "$gen_pid"
  gen_pid=
}

echo "memif benchmark: servers on CPU $server_cpu, tachyon-gen on CPU $gen_cpu; ramp from $start_rate/s x$multiplier, $step s steps, $bisect bisection steps, a failed step run again $loss_retries time(s); DPDK on $HUGEPAGES_NOTE"

# 1. tachyond: worker and control thread on SERVER_CPU (the control thread
#    sleeps 100 ms between clock updates).
cat >"$tmp/tachyond.toml" <<EOF
[eal]
memory_mb = 256
file_prefix = "memif_bench_srv_$$"
control_cpu = $server_cpu
worker_cpus = [$server_cpu]

[port]
device = "net_memif0,role=server,socket=$tmp/tachyond.sock"

[server]
ipv4 = ["192.0.2.1/24"]
ipv6 = ["2001:db8::1/64"]

[reference]
local_stratum = 10

[stats]
listen = "127.0.0.1:$stats_port"
EOF
if [ "$hugepages" = 1 ]; then hugepages_config "$tmp/tachyond.toml"; fi
start_tachyond() {
  "$tachyond" --config "$tmp/tachyond.toml" >"$tmp/tachyond.log" 2>&1 &
  server_pid=$!
  wait_for "$tmp/tachyond.log" "tachyond serving on" "$server_pid"
}
# 2. The reflector on the same CPU, against the same generator (--echo: it
#    returns the requests themselves; no ARP, hence --server-mac).
reflector_options=(--echo --server-mac 02:00:00:00:00:01)
start_reflector() {
  "$reflector" -d "net_memif0,role=server,socket=$tmp/reflector.sock,mac=02:00:00:00:00:01" --cpu "$server_cpu" \
    --file-prefix "memif_bench_refl_$$" "${HUGEPAGES_ARGS[@]}" >"$tmp/reflector.log" 2>&1 &
  server_pid=$!
  wait_for "$tmp/reflector.log" "reflector serving on" "$server_pid"
}

start_tachyond
ramp tachyond "$tmp/tachyond.sock" "$tmp/tachyond.json"
stop_server tachyond
grep -E "stopped:|dropped:" "$tmp/tachyond.log" | sed 's/^.*\] //'

start_reflector
ramp reflector "$tmp/reflector.sock" "$tmp/reflector.json" "${reflector_options[@]}"
stop_server reflector
grep -E "frames received" "$tmp/reflector.log"

# 3. Both servers under the same offered load (SAME_RATE), alternately,
#    SAME_REPEAT times: what a frame costs each poll loop (polls that found
#    frames, memif's driver work included), counted between 1.5 s into the
#    run and 0.5 s before its end. When the generator cannot saturate the
#    reflector, the ratio of these costs is the capacity ratio this machine
#    can measure.
counters() {  # NAME: "FRAMES BUSY_SECONDS" of the running server so far
  if [ "$1" = tachyond ]; then
    curl -s "http://127.0.0.1:$stats_port/metrics" |
      awk '/^tachyon_worker_busy_seconds_total/ {b += $2} /^tachyon_rx_packets_total/ {f += $2}
           END {printf "%d %.6f\n", f, b}'
  else
    kill -USR1 "$server_pid"
    sleep 0.3
    sed -n 's/^reflector: so far \([0-9]*\) frames, \([0-9.]*\) s busy$/\1 \2/p' "$tmp/reflector.log" | tail -1
  fi
}
same_load() {  # NAME SOCKET [generator options...]: prints busy ns per frame at SAME_RATE
  local name=$1 sock=$2 before after
  shift 2
  "$gen" -d "net_memif0,role=client,socket=$sock" -s 192.0.2.1 --cpus "$gen_cpu" --rate "$same_rate" \
    -t "$same_seconds" --warmup 0 --yield-us 0 --file-prefix "memif_bench_gen_$$" "${HUGEPAGES_ARGS[@]}" -q "$@" \
    >"$tmp/same.log" 2>&1 &
  gen_pid=$!
  sleep 1.5
  before=$(counters "$name")
  sleep "$(python3 -c "print($same_seconds - 2)")"
  after=$(counters "$name")
  wait "$gen_pid" || true
  gen_pid=
  # shellcheck disable=SC2086  # two numbers each
  python3 -c 'import sys; f0, b0, f1, b1 = map(float, sys.argv[1:]); print(f"{(b1 - b0) * 1e9 / (f1 - f0):.1f}" if f1 > f0 else "nan")' \
    $before $after 2>/dev/null || echo nan
}
if [ "$same_rate" = auto ]; then
  # As high as both ramps went: near saturation, bursts are as large as at
  # the maximum (at low rates each frame carries a whole poll's cost).
  same_rate=$(python3 "$here/gen_results.py" common-rate --fraction 0.9 "$tmp/tachyond.json" "$tmp/reflector.json")
fi
declare -A tachyond_costs=() reflector_costs=()
for burst in $same_bursts; do
  echo "--- the same load: $same_rate/s in bursts of $burst for $same_seconds s, each server $same_repeat times ---"
  for _ in $(seq 1 "$same_repeat"); do
    start_tachyond
    tachyond_costs[$burst]+="$(same_load tachyond "$tmp/tachyond.sock" --burst "$burst") "
    stop_server tachyond
    start_reflector
    reflector_costs[$burst]+="$(same_load reflector "$tmp/reflector.sock" --burst "$burst" "${reflector_options[@]}") "
    stop_server reflector
  done
  echo "busy ns per frame: tachyond ${tachyond_costs[$burst]}; reflector ${reflector_costs[$burst]}"
done

echo
echo "=== memif: tachyond against the reflector, tachyon-gen, same run ==="
python3 "$here/gen_results.py" compare --target 0.9 tachyond="$tmp/tachyond.json" reflector="$tmp/reflector.json"
for burst in $same_bursts; do
  python3 - "$same_rate" "$burst" "${tachyond_costs[$burst]}" "${reflector_costs[$burst]}" <<'PY'
import statistics, sys
rate, burst = sys.argv[1], int(sys.argv[2])
# Rounds in which either server died (nan) are left out.
pairs = [(float(a), float(b)) for a, b in zip(sys.argv[3].split(), sys.argv[4].split())
         if float(a) == float(a) and float(b) == float(b)]
t, r = [a for a, _ in pairs], [b for _, b in pairs]
how = "in bursts of 32, as at saturation" if burst == 32 else f"in bursts of {burst}"
target = " (target 0.9)" if burst == 32 else ""
if pairs:
    # Each round runs tachyond and then the reflector, seconds apart: a
    # VM's noisy spells last minutes, so the two runs of a round mostly
    # share them, and the ratio per round is steadier than a ratio of
    # the servers' separate medians.
    ratios = [b / a for a, b in zip(t, r)]
    print(f"busy per frame at the same load, {how} ({rate}/s, {len(t)} rounds): "
          f"tachyond {statistics.median(t):.1f} ns, reflector {statistics.median(r):.1f} ns (medians); "
          f"cost ratio reflector/tachyond per round {', '.join(f'{x:.2f}' for x in ratios)}, "
          f"median {statistics.median(ratios):.2f}{target}")
else:
    print(f"busy per frame at the same load, {how}: not measured (a server died during a run)")
PY
done

mkdir -p "$out"
cp "$tmp/tachyond.json" "$out/memif-tachyond.json"
cp "$tmp/reflector.json" "$out/memif-reflector.json"
python3 "$here/gen_results.py" tsv "$tmp/tachyond.json" >"$tmp/tachyond.tsv"
python3 "$here/gen_results.py" tsv "$tmp/reflector.json" >"$tmp/reflector.tsv"
gnuplot -e "out='$out/memif.png'; heading='memif: tachyond vs reflector (tachyon-gen ramp, $(date -u +%F))'; \
f1='$tmp/tachyond.tsv'; n1='tachyond'; f2='$tmp/reflector.tsv'; n2='reflector'" "$here/plot.gnuplot" 2>"$tmp/gnuplot.log" ||
  { echo "memif_bench: gnuplot failed:" >&2; cat "$tmp/gnuplot.log" >&2; exit 1; }
echo "plot: $out/memif.png; results: $out/memif-tachyond.json, $out/memif-reflector.json"
