#!/usr/bin/env bash
# What scraping the stats endpoint costs a loaded worker: tachyond over
# net_memif at a fixed rate from tachyon-gen, once without scrapes and once
# while /metrics is fetched every INTERVAL seconds (100 times more often
# than a 10 s Prometheus scrape), in the same run. The control thread (which
# serves HTTP) shares its CPU with the worker, the worst case on this
# 2-CPU machine; with a control CPU of its own the worker never sees it.
#
#   bench/scrape_impact.sh [BUILD_DIR] [RATE] [SECONDS] [INTERVAL]
#                          (defaults: build 2M 10 0.1)
#
# Prints, per run: answered rate, loss, round-trip p50/p99 and server
# processing p50/p99; and the scrapes made, their size and duration.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$root/$build
rate=${2:-2M}
seconds=${3:-10}
interval=${4:-0.1}
server_cpu=${SERVER_CPU:-0}
gen_cpu=${GEN_CPU:-1}
tachyond=$build/src/daemon/tachyond
gen=$build/tools/gen/tachyon-gen
for f in "$tachyond" "$gen"; do [ -x "$f" ] || { echo "scrape_impact: $f not found" >&2; exit 1; }; done
command -v curl >/dev/null || { echo "scrape_impact: curl not found" >&2; exit 1; }

tmp=$(mktemp -d /tmp/tachyon-scrape.XXXXXX)
server_pid= gen_pid= scraper_pid=
cleanup() {
  for pid in "$scraper_pid" "$gen_pid" "$server_pid"; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$((20000 + $$ % 10000))
cat >"$tmp/t.toml" <<EOF
[eal]
memory_mb = 256
file_prefix = "scrape_srv_$$"
control_cpu = $server_cpu
worker_cpus = [$server_cpu]

[port]
device = "net_memif0,role=server,socket=$tmp/t.sock"

[server]
ipv4 = ["192.0.2.1/24"]

[reference]
local_stratum = 10

[stats]
listen = "127.0.0.1:$port"
EOF
"$tachyond" --config "$tmp/t.toml" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do grep -q "tachyond serving on" "$tmp/server.log" && break; sleep 0.1; done
grep -q "tachyond serving on" "$tmp/server.log" || { cat "$tmp/server.log"; exit 1; }

run() {  # JSON
  "$gen" -d "net_memif0,role=client,socket=$tmp/t.sock" -s 192.0.2.1 --cpus "$gen_cpu" --rate "$rate" \
    --duration "$seconds" --warmup 1 --yield-us 0 --file-prefix "scrape_gen_$$" --json "$1" -q >/dev/null &
  gen_pid=$!
  wait "$gen_pid"
  gen_pid=
}
scrape_loop() {  # until killed: one /metrics fetch every INTERVAL, on the server's CPU
  while :; do
    taskset -c "$server_cpu" curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$port/metrics" \
      >>"$tmp/scrapes" || true
    sleep "$interval"
  done
}

echo "scrape impact: tachyond worker and control thread on CPU $server_cpu, tachyon-gen on CPU $gen_cpu, $rate/s for $seconds s"
run "$tmp/quiet.json"
: >"$tmp/scrapes"
scrape_loop &
scraper_pid=$!
run "$tmp/scraped.json"
kill "$scraper_pid" 2>/dev/null; wait "$scraper_pid" 2>/dev/null || true
scraper_pid=

python3 - "$tmp/quiet.json" "$tmp/scraped.json" "$tmp/scrapes" "$interval" <<'PY'
import json, statistics, sys
def step(path):
    d = json.load(open(path))
    return d["steps"][-1]
print(f"{'run':<28}{'answered/s':>12}{'lost %':>9}{'rtt p50':>9}{'rtt p99':>9}{'proc p50':>10}{'proc p99':>10}  (us)")
for name, path in (("no scrapes", sys.argv[1]), (f"/metrics every {sys.argv[4]} s", sys.argv[2])):
    s = step(path)
    r, p = s.get("rtt_us") or {}, s.get("processing_us") or {}
    print(f"{name:<28}{s['answered_rate']:>12,.0f}{s['lost_pct']:>9.3f}{r.get('p50', 0):>9.1f}{r.get('p99', 0):>9.1f}"
          f"{p.get('p50', 0):>10.2f}{p.get('p99', 0):>10.2f}")
rows = [l.split() for l in open(sys.argv[3]) if l.strip()]
times = sorted(float(t) * 1e3 for t, _ in rows)
if times:
    print(f"scrapes: {len(times)}, {int(rows[-1][1]):,} bytes each, "
          f"median {statistics.median(times):.2f} ms, max {times[-1]:.2f} ms")
PY
kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true
server_pid=
