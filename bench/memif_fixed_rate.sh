# Shared by bench/scrape_impact.sh and bench/policy_cost.sh: tachyond over
# net_memif (worker and control thread on SERVER_CPU) driven at a fixed
# rate by tachyon-gen (GEN_CPU), and a table of the runs. Source it with
# the script's arguments: it reads [BUILD_DIR] [RATE] [SECONDS] (defaults: build 2M 10) into `build`,
# `rate` and `seconds`, and SERVER_CPU (0) and GEN_CPU (1) into
# `server_cpu` and `gen_cpu`; it sets `tachyond`, `gen` and `tmp` and
# cleans up on exit (also `extra_pid`, a caller's helper process).
# shellcheck shell=bash

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$root/$build
rate=${2:-2M}
seconds=${3:-10}
server_cpu=${SERVER_CPU:-0}
gen_cpu=${GEN_CPU:-1}

tachyond=$build/src/daemon/tachyond
gen=$build/tools/gen/tachyon-gen
for f in "$tachyond" "$gen"; do [ -x "$f" ] || { echo "${0##*/}: $f not found" >&2; exit 1; }; done
tmp=$(mktemp -d /tmp/tachyon-memif-fixed.XXXXXX)
server_pid='' gen_pid='' extra_pid=''
memif_cleanup() {
  for pid in "$extra_pid" "$gen_pid" "$server_pid"; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap memif_cleanup EXIT

# memif_start NAME STATS_LISTEN [TOML]: tachyond with its stats endpoint on
# STATS_LISTEN ("" for none) and TOML appended to its configuration; its
# log in $tmp/NAME.log.
memif_start() {
  cat >"$tmp/$1.toml" <<TOML
[eal]
memory_mb = 256
file_prefix = "memif_fixed_srv_$$"
control_cpu = $server_cpu
worker_cpus = [$server_cpu]

[port]
device = "net_memif0,role=server,socket=$tmp/t.sock"

[server]
ipv4 = ["192.0.2.1/24"]

[reference]
local_stratum = 10

[stats]
listen = "$2"
${3:-}
TOML
  "$tachyond" --config "$tmp/$1.toml" >"$tmp/$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do grep -q "tachyond serving on" "$tmp/$1.log" && return 0; sleep 0.1; done
  cat "$tmp/$1.log"
  exit 1
}

memif_stop() {
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

# memif_run JSON [GENERATOR OPTIONS...]: one fixed-rate run of SECONDS.
memif_run() {
  local json=$1
  shift
  "$gen" -d "net_memif0,role=client,socket=$tmp/t.sock" -s 192.0.2.1 --cpus "$gen_cpu" --rate "$rate" \
    --duration "$seconds" --warmup 1 --yield-us 0 --file-prefix "memif_fixed_gen_$$" --json "$json" -q "$@" \
    >/dev/null &
  gen_pid=$!
  wait "$gen_pid"
  gen_pid=
}

# memif_table NAME=JSON...: answered rate, loss, RTT and stated processing time per run.
memif_table() {
  python3 - "$@" <<'PY'
import json, sys
runs = [a.split("=", 1) for a in sys.argv[1:]]
width = max(len(n) for n, _ in runs) + 2
print(f"{'run':<{width}}{'answered/s':>12}{'lost %':>9}{'rtt p50':>9}{'rtt p99':>9}{'proc p50':>10}{'proc p99':>10}  (us)")
for name, path in runs:
    s = json.load(open(path))["steps"][-1]
    r, p = s.get("rtt_us") or {}, s.get("processing_us") or {}
    print(f"{name:<{width}}{s['answered_rate']:>12,.0f}{s['lost_pct']:>9.3f}{r.get('p50', 0):>9.1f}{r.get('p99', 0):>9.1f}"
          f"{p.get('p50', 0):>10.2f}{p.get('p99', 0):>10.2f}")
PY
}
