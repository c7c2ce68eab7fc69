#!/usr/bin/env bash
# What an operator does to a running tachyond: validate a configuration,
# override keys on the command line, and reload with SIGHUP under load
# (bad file: the running configuration is kept; good file: live keys
# applied; restart-only keys reported) without losing an answer.
#
#   operations.sh TACHYOND
set -uo pipefail
tachyond=$1
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup tops

# --check-config: every error with file, line and column; exit status 1.
cat > "$work/bad.toml" <<'CONF'
[port]
device = "net_tap0"
quues = 2
[server]
ipv4 = ["192.0.2.1/24", "224.0.0.1"]
CONF
"$tachyond" --check-config "$work/bad.toml" > "$work/check.out" 2>&1
rc=$?
cat "$work/check.out"
check "check-config rejects a bad file (exit 1)" [ "$rc" = 1 ]
check "unknown key reported at its line with a suggestion" \
  grep -q "bad.toml:3:1: unknown key \"quues\" in \[port\]; did you mean \"queues\"?" "$work/check.out"
check "bad address reported at its column" grep -q "bad.toml:5:25: server.ipv4\[1\]" "$work/check.out"
check "error count printed" grep -q "^2 errors$" "$work/check.out"
"$tachyond" --check-config "$work/bad.toml" --set port.quues=1 > /dev/null 2>&1
"$tachyond" --check-config "$work/bad.toml" --queues many > "$work/check2.out" 2>&1
check "a bad override is reported under its option" grep -q "^--queues: port.queues: expected an integer" "$work/check2.out"

netns_create "$tag" >/dev/null
netns_names "$tag"
netns_write_config "$work/t.toml" af_packet "$NETNS_SRV_IF" "$tag"
"$tachyond" --check-config "$work/t.toml" > "$work/check3.out" 2>&1
check "check-config accepts a good file (exit 0)" [ $? = 0 ]

# An override changes what is served: NTP on port 10123 instead of 123.
ip netns exec "$NETNS_SRV" "$tachyond" --config "$work/t.toml" --ntp-port 10123 > "$work/log" 2>&1 &
pid=$!
e2e_wait_log "$work/log" "tachyond serving on" "$pid"
check "tachyond starts with overrides" grep -q "UDP port 10123" "$work/log"

probe() {  # PORT: prints "answered" or "silent"
  ip netns exec "$NETNS_CLI" taskset -c 0 python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(b"\x23" + bytes(39) + (1).to_bytes(8, "big"), ("192.0.2.1", int(sys.argv[1])))
try:
    s.recv(100)
    print("answered")
except socket.timeout:
    print("silent")
PY
}
check "answers on the overridden port" [ "$(probe 10123)" = answered ]
check "silent on the file's port" [ "$(probe 123)" = silent ]

# SIGHUP under load: a stream of requests for 5 s while three reloads happen.
ip netns exec "$NETNS_CLI" taskset -c 0 python3 - > "$work/stream" <<'PY' &
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
answered = lost = 0
end = time.time() + 5
while time.time() < end:
    s.sendto(b"\x23" + bytes(39) + (1).to_bytes(8, "big"), ("192.0.2.1", 10123))
    try:
        s.recv(100)
        answered += 1
    except socket.timeout:
        lost += 1
print(answered, lost)
PY
stream=$!
cp "$work/t.toml" "$work/good.toml"
sleep 1
echo 'broken = [' >> "$work/t.toml"
kill -HUP "$pid"
sleep 1
{ cat "$work/good.toml"; printf '\n[log]\nlevel = "warn"\n'; } > "$work/t.toml"
kill -HUP "$pid"
sleep 1
sed -i 's|^ipv4 = .*|ipv4 = ["192.0.2.77/24"]|' "$work/t.toml"
kill -HUP "$pid"
wait "$stream"
read -r answered lost < "$work/stream"
echo "during reloads: $answered answered, $lost lost"
check "no answer lost during reloads" [ "$lost" = 0 ]
check "more than 100 answers during reloads" [ "$answered" -gt 100 ]
check "bad file: errors logged with their line" grep -q "reload: .*t.toml:[0-9]*:[0-9]*: invalid TOML" "$work/log"
check "bad file: running configuration kept" grep -q "reload failed (1 error): keeping the running configuration" "$work/log"
check "good file: log level applied live" grep -q "reload: log level warn" "$work/log"
check "restart-only change reported" grep -q "reload: \[server\] changed: restart tachyond to apply it" "$work/log"
check "still serving the running address" [ "$(probe 10123)" = answered ]

# The leap-seconds file is re-read on reload (tzdata updates it in place);
# one that fails its checksum keeps the table in use.
cp /usr/share/zoneinfo/leap-seconds.list "$work/leap.list"
sed 's|^\[reference\]$|[reference]\nleap_file = "'"$work"'/leap.list"|' "$work/good.toml" > "$work/t.toml"
kill -HUP "$pid"
sleep 1
check "leap file: a new path applied live" grep -q "reload: leap seconds from $work/leap.list (expires" "$work/log"
sed -i 's/^2272060800\( *\)10/2272060800\111/' "$work/leap.list"  # its SHA-1 no longer matches
kill -HUP "$pid"
sleep 1
check "leap file: a corrupted file keeps the leap seconds in use" \
  grep -q "reload: reference.leap_file: .*keeping the leap seconds in use" "$work/log"
check "leap file: not reported as needing a restart" bash -c "! grep -q 'reload: \[reference\] changed' '$work/log'"
check "still serving after the leap file reloads" [ "$(probe 10123)" = answered ]

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "clean stop" [ "$rc" = 0 ]
[ "$failed" -eq 0 ] || { echo "--- tachyond log"; cat "$work/log"; }
echo "e2e operations: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
