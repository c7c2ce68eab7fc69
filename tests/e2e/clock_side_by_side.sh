#!/usr/bin/env bash
# Side by side on one veth link: the offset a real client (chronyd) measures
# against tachyond, and against chronyd serving the same machine's clock from
# the kernel side of the same veth (not at the same time). Client and server
# share the clock, so the true offset is 0: what is measured is each
# server's timestamping error and asymmetry. Three clients:
#   - chronyd as a daemon (-x: it never touches the clock) polling 16 times
#     a second for 8 s with maxdelayratio 3, read with `chronyc tracking`
#     ("System time ... slow of NTP time"): chrony's filtered estimate, the
#     figure the test asserts on;
#   - chronyd -Q, one quick burst, as tests/e2e/ntp_clients.sh uses it;
#   - clock_probe.py, 200 requests with kernel timestamps on both ends,
#     the least-delayed 30%.
#
#   sudo tests/e2e/clock_side_by_side.sh build/src/daemon/tachyond
#
# Rounds alternate chronyd and tachyond so load on the machine hits both
# alike. Prints a table (docs/performance.md, "Clock accuracy", quotes it)
# and passes if tachyond's median |offset| by the chronyd daemon is no worse
# than chronyd's (5 us of measurement noise allowed). Exit status: 0, 1, or
# 77 (skip) without root, `ip netns` or chronyd.
# shellcheck source-path=SCRIPTDIR/../..
# shellcheck disable=SC2317  # cleanup and finish run from traps
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 TACHYOND" >&2
  exit 2
fi
tachyond=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name="e2e clock side by side"

# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_begin "$name" chronyd

tag=clkcmp
prefix=tachyon_clkcmp
rounds=${CLOCK_ROUNDS:-3}
queries=${CLOCK_QUERIES:-3}      # chronyd -Q runs per server and round
track_s=${CLOCK_TRACK_SECONDS:-8}  # chronyd daemon run per server and round
probes=${CLOCK_PROBES:-200}      # UDP probes per server and round
tmp=$(mktemp -d /tmp/tachyon-clock-cmp.XXXXXX)
log=$tmp/server.log
pid=
worker_cpu=$(netns_worker_cpu)

cleanup() {
  e2e_kill "$pid"
  netns_delete "$tag"
  rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
finish() { e2e_finish "$log"; }

client() { timeout 60 taskset -c "$NETNS_CLIENT_CPU" ip netns exec "$NETNS_CLI" "$@"; }

stop_server() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
  fi
}

# chronyd serving the system clock on the kernel side of the veth: its own
# address, `local stratum` because nothing disciplines the clock here, -x so
# it never touches the clock. Pinned where tachyond's worker runs.
start_chronyd() {
  ip -n "$NETNS_SRV" address add "$NETNS_SERVER_V4/24" dev "$NETNS_SRV_IF" || return 1
  cat >"$tmp/chrony.conf" <<EOC
local stratum 10
allow all
cmdport 0
pidfile $tmp/chronyd.pid
EOC
  ip netns exec "$NETNS_SRV" taskset -c "$worker_cpu" chronyd -x -d -f "$tmp/chrony.conf" -u root >"$log" 2>&1 &
  pid=$!
  sleep 1
  kill -0 "$pid" 2>/dev/null
}
stop_chronyd() {
  stop_server
  ip -n "$NETNS_SRV" address del "$NETNS_SERVER_V4/24" dev "$NETNS_SRV_IF" 2>/dev/null
}

start_tachyond() {
  local pmd
  for pmd in af_xdp af_packet; do
    netns_write_config "$tmp/tachyond.toml" "$pmd" "$NETNS_SRV_IF" "$prefix" || return 1
    sed -i 's/^\[reference\]/[stats]\nlisten = ""\n\n[reference]/' "$tmp/tachyond.toml"
    ip netns exec "$NETNS_SRV" "$tachyond" --config "$tmp/tachyond.toml" >"$log" 2>&1 &
    pid=$!
    if e2e_wait_log "$log" 'tachyond serving on' "$pid" 15; then
      tachyond_pmd=$pmd
      return 0
    fi
    stop_server
  done
  return 1
}

# Appends the chronyd daemon's offset (seconds, + when the server is ahead)
# to FILE.track, each chronyd -Q offset to FILE and the probe summary to
# FILE.probe.
measure() {  # FILE
  local out client_pid
  client ping -c 2 -W 1 "$NETNS_SERVER_V4" >/dev/null 2>&1
  mkdir -p "$tmp/sock" && chmod 770 "$tmp/sock"  # chronyd insists
  cat >"$tmp/client.conf" <<EOC
server $NETNS_SERVER_V4 iburst minpoll -4 maxpoll -4 maxdelayratio 3
bindcmdaddress $tmp/sock/chronyd.sock
cmdport 0
pidfile $tmp/client.pid
EOC
  taskset -c "$NETNS_CLIENT_CPU" ip netns exec "$NETNS_CLI" chronyd -x -d -f "$tmp/client.conf" -u root \
    >"$tmp/client.log" 2>&1 &
  client_pid=$!
  sleep "$track_s"
  out=$(ip netns exec "$NETNS_CLI" chronyc -n -h "$tmp/sock/chronyd.sock" tracking 2>&1)
  kill -TERM "$client_pid" 2>/dev/null
  wait "$client_pid" 2>/dev/null
  if [[ $out =~ System\ time\ *:\ ([0-9.]+)\ seconds\ (slow|fast) ]]; then
    if [ "${BASH_REMATCH[2]}" = slow ]; then echo "${BASH_REMATCH[1]}"; else echo "-${BASH_REMATCH[1]}"; fi >>"$1.track"
  else
    echo "  chronyc tracking gave no offset: $(echo "$out" | tr '\n' ' ')"
  fi
  for _ in $(seq 1 "$queries"); do
    out=$(cd "$tmp" && client chronyd -Q -t 10 "server $NETNS_SERVER_V4 iburst minpoll -4 maxpoll -4 maxsamples 8" 2>&1)
    if [[ $out =~ wrong\ by\ ([+-]?[0-9.]+)\ seconds ]]; then
      # "System clock wrong by X": the server is X ahead of the client's clock.
      echo "${BASH_REMATCH[1]}" >>"$1"
    else
      echo "  chronyd -Q gave no offset: $(echo "$out" | tr '\n' ' ')"
    fi
  done
  client python3 "$here/clock_probe.py" "$NETNS_SERVER_V4" --count "$probes" --interval 0.01 --best 0.3 |
    grep '^summary' >>"$1.probe"
}

median() { sort -g | awk '{ v[NR] = $1 } END { n = NR; if (n == 0) { print "nan"; exit }
  print (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) }'; }
median_abs() { awk '{ print ($1 < 0 ? -$1 : $1) }' "$1" | median; }
probe_median() {  # FILE.probe FIELD: median over rounds of a summary field
  sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | median
}
us() { awk -v x="$1" 'BEGIN { printf "%.1f", x * 1e6 }'; }

e2e_need python3 taskset timeout
[ -x "$tachyond" ] || fail "tachyond not found at '$tachyond'"
[ "$failed" -eq 0 ] || finish
netns_create "$tag" || { fail "cannot create namespaces $tag-srv/$tag-cli"; finish; }
echo "$name: $rounds rounds of $queries chronyd -Q runs and $probes probes per server; server CPU $worker_cpu, client CPU $NETNS_CLIENT_CPU"

tachyond_pmd="?"
: >"$tmp/chronyd" && : >"$tmp/tachyond" && : >"$tmp/chronyd.probe" && : >"$tmp/tachyond.probe"
: >"$tmp/chronyd.track" && : >"$tmp/tachyond.track"
for round in $(seq 1 "$rounds"); do
  if start_chronyd; then
    measure "$tmp/chronyd"
  else
    fail "round $round: chronyd did not start"
  fi
  stop_chronyd
  if start_tachyond; then
    measure "$tmp/tachyond"
  else
    fail "round $round: tachyond did not start"
  fi
  stop_server
  for server in chronyd tachyond; do
    echo "  after round $round, $server: chronyd daemon $(tr '\n' ' ' <"$tmp/$server.track")s;" \
      "chronyd -Q $(tr '\n' ' ' <"$tmp/$server")s"
  done
done

c_abs=$(median_abs "$tmp/chronyd.track")
t_abs=$(median_abs "$tmp/tachyond.track")
row() {  # SERVER LABEL
  echo "| $2 | $(us "$(median <"$tmp/$1.track")") us ($(wc -l <"$tmp/$1.track")) |" \
    "$(us "$(median <"$tmp/$1")") us, abs $(us "$(median_abs "$tmp/$1")") us ($(wc -l <"$tmp/$1")) |" \
    "$(us "$(probe_median "$tmp/$1.probe" offset_median)") us | $(us "$(probe_median "$tmp/$1.probe" delay_median)") us |"
}
echo
echo "Offset of the server against the client's (identical) clock, medians over $rounds rounds (runs):"
echo
echo "| server, same clock, same veth | chronyd daemon, ${track_s} s | chronyd -Q | UDP probe, least-delayed 30% | probe round trip |"
echo "|---|---|---|---|---|"
row chronyd "chronyd 4.3 (kernel socket)"
row tachyond "tachyond ($tachyond_pmd, software timestamps)"
echo

if [ "$c_abs" = nan ] || [ "$t_abs" = nan ]; then
  fail "not enough chronyd measurements"
elif awk -v t="$t_abs" -v c="$c_abs" 'BEGIN { exit !(t <= c + 5e-6) }'; then
  pass "tachyond's median |offset| by chronyd ($(us "$t_abs") us) is no worse than chronyd's ($(us "$c_abs") us)"
else
  fail "tachyond's median |offset| by chronyd ($(us "$t_abs") us) is worse than chronyd's ($(us "$c_abs") us) + 5 us"
fi
finish
