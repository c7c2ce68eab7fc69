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
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v curl >/dev/null || { echo "scrape_impact: curl not found" >&2; exit 1; }
# shellcheck source=memif_fixed_rate.sh
. "$here/memif_fixed_rate.sh" "$@"
interval=${4:-0.1}
port=$((20000 + $$ % 10000))
memif_start server "127.0.0.1:$port"

scrape_loop() {  # until killed: one /metrics fetch every INTERVAL, on the server's CPU
  while :; do
    taskset -c "$server_cpu" curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$port/metrics" \
      >>"$tmp/scrapes" || true
    sleep "$interval"
  done
}

echo "scrape impact: tachyond worker and control thread on CPU $server_cpu, tachyon-gen on CPU $gen_cpu, $rate/s for $seconds s"
memif_run "$tmp/quiet.json"
: >"$tmp/scrapes"
scrape_loop &
extra_pid=$!
memif_run "$tmp/scraped.json"
kill "$extra_pid" 2>/dev/null; wait "$extra_pid" 2>/dev/null || true
extra_pid=
memif_stop

memif_table "no scrapes=$tmp/quiet.json" "/metrics every $interval s=$tmp/scraped.json"
python3 - "$tmp/scrapes" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
times = sorted(float(t) * 1e3 for t, _ in rows)
if times:
    print(f"scrapes: {len(times)}, {int(rows[-1][1]):,} bytes each, "
          f"median {statistics.median(times):.2f} ms, max {times[-1]:.2f} ms")
PY
