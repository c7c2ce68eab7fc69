#!/usr/bin/env bash
# What admission costs on the wire: tachyond over net_memif at a fixed rate
# from tachyon-gen, once with no policy and once with rate limiting on (a
# limit no client reaches, so every request pays the lookup and is
# answered) and an access list of 1000 prefixes, in the same run. The
# micro-benchmark figures are in bench/policy_bench.cc.
#
#   bench/policy_cost.sh [BUILD_DIR] [RATE] [SECONDS]   (defaults: build 2M 10)
#
# Prints, per run: answered rate, loss, round-trip p50/p99 and the
# processing time tachyond states in its answers (p50/p99).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$root/$build
rate=${2:-2M}
seconds=${3:-10}
server_cpu=${SERVER_CPU:-0}
gen_cpu=${GEN_CPU:-1}
tachyond=$build/src/daemon/tachyond
gen=$build/tools/gen/tachyon-gen
for f in "$tachyond" "$gen"; do [ -x "$f" ] || { echo "policy_cost: $f not found" >&2; exit 1; }; done

tmp=$(mktemp -d /tmp/tachyon-policy-cost.XXXXXX)
server_pid= gen_pid=
cleanup() {
  for pid in "$gen_pid" "$server_pid"; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

run() {  # NAME EXTRA_TOML
  cat >"$tmp/t.toml" <<EOF
[eal]
memory_mb = 256
file_prefix = "policy_cost_srv_$$"
control_cpu = $server_cpu
worker_cpus = [$server_cpu]

[port]
device = "net_memif0,role=server,socket=$tmp/t.sock"

[server]
ipv4 = ["192.0.2.1/24"]

[reference]
local_stratum = 10

[stats]
listen = ""
$2
EOF
  "$tachyond" --config "$tmp/t.toml" >"$tmp/$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do grep -q "tachyond serving on" "$tmp/$1.log" && break; sleep 0.1; done
  grep -q "tachyond serving on" "$tmp/$1.log" || { cat "$tmp/$1.log"; exit 1; }
  # 131072 clients: at 2M/s each sends about 15 requests/s, under the limit.
  "$gen" -d "net_memif0,role=client,socket=$tmp/t.sock" -s 192.0.2.1 --cpus "$gen_cpu" --rate "$rate" \
    --clients 131072 --duration "$seconds" --warmup 1 --yield-us 0 --file-prefix "policy_cost_gen_$$" \
    --json "$tmp/$1.json" -q >/dev/null &
  gen_pid=$!
  wait "$gen_pid"
  gen_pid=
  kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true
  server_pid=
}

# 1000 prefixes that never match the generator's 198.18.0.0/15, and a
# rate limit of 64 requests/s per client with a burst of 255.
acl=$(python3 -c 'print(", ".join(f"\"10.{i // 250}.{i % 250}.0/24\"" for i in range(1000)))')
echo "policy cost: tachyond worker on CPU $server_cpu, tachyon-gen on CPU $gen_cpu, $rate/s for $seconds s, 131072 clients"
run none ""
run policies "
[access]
deny = [$acl]

[ratelimit]
enabled = true
interval = -4
burst = 255
table_entries = 262144"

python3 - "$tmp/none.json" "$tmp/policies.json" <<'PY'
import json, sys
print(f"{'run':<34}{'answered/s':>12}{'lost %':>9}{'rtt p50':>9}{'rtt p99':>9}{'proc p50':>10}{'proc p99':>10}  (us)")
for name, path in (("no policy", sys.argv[1]), ("rate limit + 1000-prefix deny list", sys.argv[2])):
    s = json.load(open(path))["steps"][-1]
    r, p = s.get("rtt_us") or {}, s.get("processing_us") or {}
    print(f"{name:<34}{s['answered_rate']:>12,.0f}{s['lost_pct']:>9.3f}{r.get('p50', 0):>9.1f}{r.get('p99', 0):>9.1f}"
          f"{p.get('p50', 0):>10.2f}{p.get('p99', 0):>10.2f}")
PY
