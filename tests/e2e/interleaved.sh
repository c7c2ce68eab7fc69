#!/usr/bin/env bash
# Interleaved mode end to end: a real chronyd client with `xleave` polls
# tachyond over a veth and must log interleaved samples ("4I" in its
# measurements log) once the first exchange is done; tachyond counts them in
# /metrics. With [interleaved] enabled = false the same client only gets
# basic answers. Timing is not asserted (bench/interleaved_offsets.sh
# measures it).
#
#   interleaved.sh TACHYOND
set -uo pipefail
tachyond=$1
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup txl chronyd curl taskset

netns_create "$tag" >/dev/null
netns_names "$tag"

start() {  # EXTRA_CONFIG
  netns_write_config "$work/t.toml" af_packet "$NETNS_SRV_IF" "$tag"
  printf '\n[stats]\nlisten = "127.0.0.1:9127"\n%b\n' "$1" >>"$work/t.toml"
  : >"$work/log"
  ip netns exec "$NETNS_SRV" "$tachyond" --config "$work/t.toml" >"$work/log" 2>&1 &
  pid=$!
  e2e_wait_log "$work/log" "tachyond serving on" "$pid"
}
stop() {
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=
}
metric() { e2e_metric 9127 "$1"; }
# chronyd polling every 1/8 s for SECONDS with xleave; its measurements log
# ends in $work/measurements.log.
poll() {  # SECONDS
  rm -f "$work/measurements.log"
  cat >"$work/client.conf" <<EOC
server $NETNS_SERVER_V4 iburst minpoll -3 maxpoll -3 xleave
logdir $work
log measurements
cmdport 0
pidfile $work/client.pid
driftfile $work/drift
EOC
  ip netns exec "$NETNS_CLI" ping -c 2 -W 1 "$NETNS_SERVER_V4" >/dev/null 2>&1
  timeout "$1" ip netns exec "$NETNS_CLI" taskset -c "$NETNS_CLIENT_CPU" chronyd -x -d -u root \
    -f "$work/client.conf" >"$work/client.log" 2>&1
}
samples() {  # MODE (4I or 4B): samples chronyd logged in that mode
  [ -f "$work/measurements.log" ] || { echo 0; return; }
  awk -v m="$1" '$3 == "'"$NETNS_SERVER_V4"'" && $18 == m { n++ } END { print n + 0 }' "$work/measurements.log"
}

check "tachyond serves (interleaved mode on by default)" start ""
check "the banner says so" grep -q "interleaved mode: on, 65536 transmit timestamps per worker, taken as tx_burst is called" "$work/log"
poll 8
inter=$(samples 4I) basic=$(samples 4B)
echo "  chronyd xleave: $inter interleaved, $basic basic samples"
tail -3 "$work/measurements.log" 2>/dev/null | sed 's/^/  /'
check "chronyd reports interleaved samples ($inter)" test "$inter" -ge 10
check "most samples are interleaved ($inter of $((inter + basic)))" test "$inter" -ge $((3 * basic))
answers=$(metric tachyon_interleaved_answers_total)
misses=$(metric tachyon_interleaved_misses_total)
check "tachyond counts its interleaved answers ($answers)" test "$answers" -ge "$inter"
check "no interleaved request missed its entry ($misses)" test "$misses" -eq 0
status_answers=$(ip netns exec "$NETNS_SRV" curl -s http://127.0.0.1:9127/status |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["interleaved"]["answers"])')
check "/status shows them ($status_answers)" test "$status_answers" -ge "$answers"
stop

# A table of 256 entries per worker. Basic clients take no entry: 2000 of
# them between two polls leave an interleaved client's entry alone. 2000
# clients in interleaved mode do evict it: that client falls back to basic
# and the miss is counted. Hand-made packets from the client namespace.
check "tachyond serves with a 256-entry table" start "\n[interleaved]\ntable_entries = 256"
ip netns exec "$NETNS_CLI" python3 - "$NETNS_SERVER_V4" <<'PY'
import socket, struct, sys
server = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
def ask(origin, rx, tx):
    s.sendto(bytes([0x23]) + bytes(23) + struct.pack(">QQQ", origin, rx, tx), (server, 123))
    return struct.unpack(">QQQ", s.recv(100)[24:48])  # origin, receive, transmit
def flood(n, origin, first_tx):
    for i in range(n):
        try:
            ask(origin, 1, first_tx + i)
        except socket.timeout:
            pass
_, t1, _ = ask(0, 0, 1)  # basic, as a client's first request
assert t1 & 3 == 1, "receive timestamp marked, not remembered: %#x" % t1
origin, t2, _ = ask(t1, 5, 6)  # the client starts interleaved mode
assert origin == 6 and t2 & 3 == 3, "second answer basic and remembered: %#x %#x" % (origin, t2)
flood(2000, 0, 1000)  # basic clients (origin 0)
origin, t3, _ = ask(t2, 7, 8)
print("  after 2000 basic clients: answered in", "interleaved" if origin == 7 else "basic", "mode")
if origin != 7:
    sys.exit(1)
flood(2000, t1, 5000)  # clients in interleaved mode: each answer takes an entry
origin, _, _ = ask(t3, 9, 10)
print("  after 2000 interleaved clients: answered in", "interleaved" if origin == 9 else "basic", "mode")
sys.exit(0 if origin == 10 else 2)
PY
check "basic clients leave the entries alone; an evicted entry gets a basic answer" test $? -eq 0
misses=$(metric tachyon_interleaved_misses_total)
check "and is counted as a miss ($misses)" test "$misses" -eq 1
stop

check "tachyond serves with interleaved mode off" start "\n[interleaved]\nenabled = false"
check "the banner says so" grep -q "interleaved mode: off" "$work/log"
poll 5
inter=$(samples 4I) basic=$(samples 4B)
echo "  chronyd xleave, server in basic mode only: $inter interleaved, $basic basic samples"
check "chronyd gets basic answers only" test "$inter" -eq 0 -a "$basic" -ge 5
check "nothing counted as interleaved" test "$(metric tachyon_interleaved_answers_total)" -eq 0
stop

echo "interleaved e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
