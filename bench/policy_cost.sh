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
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=memif_fixed_rate.sh
. "$here/memif_fixed_rate.sh" "$@"

run() {  # NAME EXTRA_TOML: one fixed-rate run against a fresh tachyond
  memif_start "$1" "" "$2"
  # 131072 clients: at 2M/s each sends about 15 requests/s, under the limit.
  memif_run "$tmp/$1.json" --clients 131072
  memif_stop
}

# 1000 prefixes that never match the generator's 198.18.0.0/15, and a
# rate limit of 16 requests/s per client (interval -4) with a burst of 255.
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

memif_table "no policy=$tmp/none.json" "rate limit + 1000-prefix deny list=$tmp/policies.json"
