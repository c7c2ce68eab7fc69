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
printf '%-10s %-12s %8s %14s %14s %14s\n' server mode samples "mean offset" "offset sd" "mean delay"
for server in tachyond chronyd; do
  for mode in basic interleaved; do
    awk -v s="$server" -v m="$mode" '
      { n++; o += $1; oo += $1 * $1; d += $2 }
      END {
        if (n == 0) { printf "%-10s %-12s %8d %14s %14s %14s\n", s, m, 0, "-", "-", "-"; exit }
        mean = o / n; sd = sqrt(oo / n - mean * mean)
        printf "%-10s %-12s %8d %11.2f us %11.2f us %11.2f us\n", s, m, n, mean * 1e6, sd * 1e6, d / n * 1e6
      }' "$work/$server.$mode" 2>/dev/null ||
      printf '%-10s %-12s %8d\n' "$server" "$mode" 0
  done
done
