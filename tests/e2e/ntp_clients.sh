#!/usr/bin/env bash
# End-to-end test: tachyond on one end of a veth pair, real kernel clients
# (ntpdig, sntp, chronyd, ping, hand-made NTP packets) on the other, each end
# in its own network namespace created here and removed on exit.
#
#   sudo tests/e2e/ntp_clients.sh build/src/daemon/tachyond af_xdp|af_packet
#
# Prints every measurement, one PASS/FAIL line per check and a closing
# "e2e PMD: N passed, M failed" line. Exit status: 0 if every check passed,
# 1 if any failed, 77 (skip) without root or `ip netns`.
# shellcheck source-path=SCRIPTDIR/../..
# shellcheck disable=SC2317  # cleanup and finish run from traps
set -uo pipefail

if [ $# -ne 2 ] || { [ "$2" != af_xdp ] && [ "$2" != af_packet ]; }; then
  echo "usage: $0 TACHYOND af_xdp|af_packet" >&2
  exit 2
fi
tachyond=$1
pmd=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_begin "e2e $pmd"

tag=e2e${pmd#af_}          # e2exdp / e2epacket: one pair of namespaces per PMD
prefix=tachyon_e2e_$pmd    # DPDK --file-prefix
max_offset=0.001           # seconds
tmp=$(mktemp -d "/tmp/tachyon-e2e-$pmd.XXXXXX")
log=$tmp/tachyond.log
pid=

cleanup() {
  e2e_kill "$pid"
  netns_delete "$tag"
  rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
finish() { e2e_finish "$log"; }

# A client in the client namespace, pinned off the worker's busy-polled CPU,
# bounded in time.
client() { timeout 30 taskset -c "$NETNS_CLIENT_CPU" ip netns exec "$NETNS_CLI" "$@"; }

abs_below() {  # X LIMIT: |X| < LIMIT
  awk -v x="$1" -v l="$2" 'BEGIN { if (x < 0) x = -x; exit !(x < l) }'
}

e2e_need ntpdig sntp chronyd ping python3 taskset timeout
[ -x "$tachyond" ] || fail "tachyond not found at '$tachyond'"
[ "$failed" -eq 0 ] || finish

# --- start ---
echo "e2e $pmd: tachyond $tachyond, worker CPU $(netns_worker_cpu), clients on CPU $NETNS_CLIENT_CPU"
netns_create "$tag" || { fail "cannot create namespaces $tag-srv/$tag-cli"; finish; }
netns_write_config "$tmp/tachyond.toml" "$pmd" "$NETNS_SRV_IF" "$prefix"
ip netns exec "$NETNS_SRV" "$tachyond" --config "$tmp/tachyond.toml" >"$log" 2>&1 &
pid=$!

if e2e_wait_log "$log" 'tachyond serving on' "$pid"; then
  pass "tachyond serving: $(grep -o 'tachyond serving on.*' "$log")"
  # port.rx_descriptors unset: 4096 on AF_XDP (the kernel fills that ring
  # while the worker yields), 1024 elsewhere.
  want_rx=1024
  [ "$pmd" = af_xdp ] && want_rx=4096
  if grep -q "queue(s), $want_rx RX descriptors each" "$log"; then
    pass "$pmd: $want_rx RX descriptors by default"
  else
    fail "$pmd: expected $want_rx RX descriptors by default: $(grep -o 'queue(s).*RX descriptors each' "$log")"
  fi
elif kill -0 "$pid" 2>/dev/null; then
  fail "tachyond did not log 'tachyond serving on' within 20 s"
  finish
else
  wait "$pid"
  fail "tachyond exited with status $? before serving"
  pid=
  finish
fi

# --- ping: first, so the client has resolved the server's MAC (ARP, NDP)
# before anything is timed ---
check_ping() {  # NAME ADDRESS [ping options...]
  local name=$1 address=$2 out received
  shift 2
  out=$(client ping "$@" -c 3 -W 1 "$address" 2>&1)
  received=$(echo "$out" | sed -n 's/.* \([0-9]\+\) received.*/\1/p')
  echo "  $name: $(echo "$out" | grep -E 'received|rtt' | tr '\n' ' ')"
  if [ "${received:-0}" = 3 ]; then pass "$name: 3 of 3 replies"; else fail "$name: ${received:-0} of 3 replies"; fi
}
check_ping "ping IPv4" "$NETNS_SERVER_V4"
check_ping "ping IPv6" "$NETNS_SERVER_V6" -6

# --- SNTP-style clients: "... +0.000069 +/- 0.000159 192.0.2.1 s10 no-leap" ---
dig_re='([+-]?[0-9]+\.[0-9]+) \+/- ([0-9]+\.[0-9]+) ([^ ]+) s([0-9]+) ([a-z-]+)'
check_dig() {  # NAME ADDRESS COMMAND...: up to 3 attempts 2 s apart; passes if one is within bounds
  local name=$1 address=$2 attempt out
  shift 2
  for attempt in 1 2 3; do
    [ "$attempt" = 1 ] || sleep 2  # let a burst of scheduling noise pass
    out=$(client "$@" 2>&1)
    echo "  $name attempt $attempt: $(echo "$out" | tr '\n' ' ')"
    if [[ $out =~ $dig_re ]]; then
      local offset=${BASH_REMATCH[1]} host=${BASH_REMATCH[3]} stratum=${BASH_REMATCH[4]} leap=${BASH_REMATCH[5]}
      if [ "$host" = "$address" ] && [ "$stratum" = 10 ] && [ "$leap" = no-leap ] &&
        abs_below "$offset" "$max_offset"; then
        pass "$name: offset $offset s, stratum $stratum, $leap (attempt $attempt)"
        return
      fi
    fi
  done
  fail "$name: no attempt answered from $address with s10, no-leap and |offset| < $max_offset s"
}
check_dig "ntpdig IPv4" "$NETNS_SERVER_V4" ntpdig -t 2 "$NETNS_SERVER_V4"
check_dig "ntpdig IPv6" "$NETNS_SERVER_V6" ntpdig -t 2 "$NETNS_SERVER_V6"
check_dig "sntp IPv4" "$NETNS_SERVER_V4" sntp -t 2 "$NETNS_SERVER_V4"

# --- chronyd: directives on the command line, so no configuration file is
# read; -Q measures without touching the clock and writes no pid file ---
chrony_re='System clock wrong by ([+-]?[0-9]+\.[0-9]+) seconds'
check_chronyd() {  # NAME ADDRESS
  local name=$1 address=$2 attempt out
  for attempt in 1 2 3; do
    [ "$attempt" = 1 ] || sleep 2  # let a burst of scheduling noise pass
    out=$(cd "$tmp" && client chronyd -Q -t 6 "server $address iburst maxsamples 4" 2>&1)
    echo "  $name attempt $attempt: $(echo "$out" | grep -v 'chronyd version' | tr '\n' ' ')"
    if [[ $out =~ $chrony_re ]] && abs_below "${BASH_REMATCH[1]}" "$max_offset"; then
      pass "$name: system clock wrong by ${BASH_REMATCH[1]} s (attempt $attempt)"
      return
    fi
  done
  fail "$name: no attempt reported 'System clock wrong by X seconds' with |X| < $max_offset s"
}
check_chronyd "chronyd IPv4" "$NETNS_SERVER_V4"
check_chronyd "chronyd IPv6" "$NETNS_SERVER_V6"

# --- hand-made requests ---
probe() {  # FIRST_BYTE TIMEOUT: one request to the IPv4 address, prints the answer
  client python3 "$here/ntp_probe.py" "$NETNS_SERVER_V4" "$1" "$2"
}
check_answer() {  # NAME FIRST_BYTE EXPECTED_FIELDS...: up to 3 attempts (a lost datagram is not a bug here)
  local name=$1 byte=$2 attempt out field ok
  shift 2
  for attempt in 1 2 3; do
    [ "$attempt" = 1 ] || sleep 2  # let a burst of scheduling noise pass
    out=$(probe "$byte" 2 2>&1)
    echo "  $name attempt $attempt: $out"
    ok=1
    for field in "from $NETNS_SERVER_V4 port 123" "$@" origin_matches=yes length=48; do
      [[ " $out " == *" $field "* ]] || ok=0
    done
    if [ "$ok" = 1 ]; then
      pass "$name: $*, origin = request's transmit timestamp"
      return
    fi
  done
  fail "$name: expected $* and the request's transmit timestamp as origin"
}
# NTPv3 mode 1 (symmetric active, as sent by w32time when it is a server itself)
check_answer "NTPv3 mode 1" 0x19 li=0 vn=3 mode=2 stratum=10
# NTPv1 (mode 0) from a non-123 port: answered as a client request
check_answer "NTPv1 mode 0" 0x08 li=0 vn=1 mode=4 stratum=10
# NTPv2 mode 7 (private, ntpdc): dropped, exactly once (counted below)
out=$(probe 0x17 1 2>&1)
echo "  mode 7: $out"
if [[ $out == "no answer"* ]]; then pass "mode 7: no answer within 1 s"; else fail "mode 7: answered: $out"; fi

# --- stop ---
kill -TERM "$pid"
stopped=0
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { stopped=1; break; }
  sleep 0.1
done
if [ "$stopped" = 1 ]; then
  wait "$pid"
  status=$?
  pid=
  if [ "$status" = 0 ]; then pass "SIGTERM: exit status 0"; else fail "SIGTERM: exit status $status"; fi
else
  fail "SIGTERM: tachyond still running after 10 s"
fi
stopped_line=$(grep -o 'stopped: .*' "$log")
dropped_line=$(grep -o 'dropped: .*' "$log")
echo "  $stopped_line"
echo "  $dropped_line"
if [ -n "$stopped_line" ]; then pass "'stopped:' line logged"; else fail "no 'stopped:' line"; fi
private_re='[ ,]ntp_mode_private=1(,|$)'
if [[ $dropped_line =~ $private_re ]]; then
  pass "'dropped:' shows ntp_mode_private=1"
else
  fail "'dropped:' does not show ntp_mode_private=1: '$dropped_line'"
fi

finish
