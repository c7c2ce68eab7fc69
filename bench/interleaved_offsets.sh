#!/usr/bin/env bash
# What a chronyd client sees, basic against interleaved mode, from tachyond
# and from chronyd serving on the same veth link (one after the other, same
# namespaces, same CPUs): per server and mode, the samples chronyd logged,
# their mean offset, the standard deviation of the offset, and the mean
# round-trip delay. Reports figures only; asserts nothing.
#
#   bench/interleaved_offsets.sh TACHYOND [SECONDS_PER_RUN] [ROUNDS]
#
# The client polls every 1/16 s (minpoll -4) for SECONDS_PER_RUN (default
# 20); ROUNDS (default 2) alternates the servers so that load on the
# machine hits both. Needs root, `ip netns` and chronyd.
set -uo pipefail
tachyond=$1
seconds=${2:-20}
rounds=${3:-2}
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
command -v chronyd >/dev/null || { echo "needs chronyd (tools/setup.sh)"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tools/netns.sh
. "$here/../tools/netns.sh"

tag=xlbench
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  netns_delete "$tag" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
netns_create "$tag" >/dev/null
netns_names "$tag"
cpu=$(netns_worker_cpu)

start_tachyond() {
  netns_write_config "$work/t.toml" af_packet "$NETNS_SRV_IF" "$tag"
  printf '\n[stats]\nlisten = ""\n' >>"$work/t.toml"
  ip netns exec "$NETNS_SRV" "$tachyond" --config "$work/t.toml" >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q "tachyond serving on" "$work/server.log" && return 0; sleep 0.2; done
  return 1
}
start_chronyd() {
  ip -n "$NETNS_SRV" address add "$NETNS_SERVER_V4/24" dev "$NETNS_SRV_IF"
  printf 'local stratum 10\nallow all\ncmdport 0\npidfile %s/server.pid\n' "$work" >"$work/server.conf"
  ip netns exec "$NETNS_SRV" taskset -c "$cpu" chronyd -x -d -u root -f "$work/server.conf" >"$work/server.log" 2>&1 &
  pid=$!
  sleep 1
}
stop_server() {
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=
  ip -n "$NETNS_SRV" address del "$NETNS_SERVER_V4/24" dev "$NETNS_SRV_IF" 2>/dev/null
}
# Appends "offset delay" of each sample in MODE (4B or 4I) to FILE.
poll() {  # FILE xleave|"" MODE
  rm -f "$work/measurements.log"
  cat >"$work/client.conf" <<EOC
server $NETNS_SERVER_V4 iburst minpoll -4 maxpoll -4 $2
logdir $work
log measurements
cmdport 0
pidfile $work/client.pid
driftfile $work/drift
EOC
  ip netns exec "$NETNS_CLI" ping -c 2 -W 1 "$NETNS_SERVER_V4" >/dev/null 2>&1
  timeout "$seconds" ip netns exec "$NETNS_CLI" taskset -c "$NETNS_CLIENT_CPU" chronyd -x -d -u root \
    -f "$work/client.conf" >/dev/null 2>&1
  # The first samples (iburst, the first interleaved exchange) are skipped.
  awk -v m="$3" '$3 ~ /^192\.0\.2\.1$/ && $18 == m { if (++n > 3) print $12, $13 }' \
    "$work/measurements.log" >>"$1"
}

for r in $(seq 1 "$rounds"); do
  for server in tachyond chronyd; do
    "start_$server" || { echo "$server did not start"; cat "$work/server.log"; exit 1; }
    poll "$work/$server.basic" "" 4B
    poll "$work/$server.interleaved" xleave 4I
    stop_server
  done
done

echo "chronyd client, minpoll -4, ${seconds}s x $rounds rounds per server and mode (veth, af_packet, software timestamps)"
echo "offsets in microseconds, + when the server is ahead; delay = round trip less the server's own time"
python3 - "$work" <<'PY'
import math, os, statistics, sys
work = sys.argv[1]
print(f"{'server':<10}{'mode':<13}{'samples':>8}{'mean':>9}{'sd':>9}{'median':>9}{'p5':>9}{'p95':>9}{'delay p50':>11}")
for server in ("tachyond", "chronyd"):
    for mode in ("basic", "interleaved"):
        path = os.path.join(work, f"{server}.{mode}")
        rows = [tuple(map(float, l.split())) for l in open(path)] if os.path.exists(path) else []
        if not rows:
            print(f"{server:<10}{mode:<13}{0:>8}")
            continue
        off = sorted(r[0] * 1e6 for r in rows)
        delay = statistics.median(r[1] * 1e6 for r in rows)
        q = lambda p: off[min(len(off) - 1, int(p * len(off)))]
        print(f"{server:<10}{mode:<13}{len(off):>8}{statistics.fmean(off):>9.2f}{statistics.pstdev(off):>9.2f}"
              f"{statistics.median(off):>9.2f}{q(0.05):>9.2f}{q(0.95):>9.2f}{delay:>11.2f}")
PY
