#!/usr/bin/env bash
# Admission end to end, with real clients: ntpq (mode 6) from an allowed
# source and not from others, KoD DENY for a denied source, KoD RATE once a
# source exceeds its rate limit (and what chronyd makes of it), a live
# access-list change with SIGHUP, and the counters in /metrics.
#
#   policy.sh TACHYOND
set -uo pipefail
tachyond=$1
ntpq=/opt/tachyon-test/ntpsec/usr/bin/ntpq
[ -f "$ntpq" ] || { echo "ntpq not unpacked (tools/setup.sh): skipped"; exit 77; }
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup tpol

netns_create "$tag" >/dev/null
netns_names "$tag"
# Extra client addresses: .3 is denied, .4 and .5 are rate limited.
for a in 3 4 5; do ip -n "$NETNS_CLI" addr add "192.0.2.$a/24" dev "$NETNS_CLI_IF"; done
netns_write_config "$work/t.toml" af_packet "$NETNS_SRV_IF" "$tag"
cat >> "$work/t.toml" <<'CONF'

[access]
deny = ["192.0.2.3"]
refusal = "kod"

[ratelimit]
enabled = true
interval = 4
burst = 4
leak = 0
kod_poll = 10

[control]
allow = ["192.0.2.2"]

[stats]
listen = "127.0.0.1:9123"
CONF
ip netns exec "$NETNS_SRV" "$tachyond" --config "$work/t.toml" > "$work/log" 2>&1 &
pid=$!
check "tachyond serves with access list, rate limit and mode 6 allow-list" e2e_wait_log "$work/log" "tachyond serving on" "$pid"
# The rate-limit table (1 MiB) on transparent huge pages, where the kernel
# offers them; a warning where it does not.
case $(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null) in
  always | madvise)
    check "the rate-limit table is on transparent huge pages" \
      grep -q "\[info\] rate-limit and interleave tables: [0-9.]* MiB on transparent huge pages" "$work/log" ;;
  *) check "a warning says the tables are not on huge pages" grep -q "\[warning\] rate-limit and interleave tables" "$work/log" ;;
esac

# A probe from a chosen source: prints "time STRATUM", "kod CODE POLL",
# "control", or "silent".
probe() {  # SOURCE [control]
  ip netns exec "$NETNS_CLI" taskset -c 0 python3 - "$1" "${2:-}" <<'PY'
import socket, struct, sys
src, kind = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(1)
if kind == "control":
    s.sendto(bytes([0x16, 0x01, 0, 1]) + bytes(8), ("192.0.2.1", 123))
else:
    s.sendto(bytes([0x23]) + bytes(39) + (123456789).to_bytes(8, "big"), ("192.0.2.1", 123))
try:
    d = s.recv(600)
except socket.timeout:
    print("silent")
    sys.exit()
if d[0] & 7 == 6:
    print("control")
elif d[1] == 0:
    print("kod", d[12:16].decode(), struct.unpack("b", d[2:3])[0])
else:
    print("time", d[1])
PY
}

# Mode 6 with the real ntpq from the allowed source (192.0.2.2 is the
# client namespace's first address, which ntpq uses).
ip netns exec "$NETNS_CLI" env PYTHONPATH= timeout 20 /usr/bin/python3 "$ntpq" -p 192.0.2.1 > "$work/ntpq-p" 2>&1
cat "$work/ntpq-p"
check "ntpq -p lists the reference with the * tally" grep -Eq '^\*' "$work/ntpq-p"
ip netns exec "$NETNS_CLI" env PYTHONPATH= timeout 20 /usr/bin/python3 "$ntpq" -c rv 192.0.2.1 > "$work/ntpq-rv" 2>&1
cat "$work/ntpq-rv"
check "ntpq -c rv shows stratum 10 and no leap" grep -q "stratum=10" "$work/ntpq-rv" && grep -q "leap=00" "$work/ntpq-rv"
check "ntpq -c rv shows the reference clock state" grep -q 'ref_state="local"' "$work/ntpq-rv"
check "mode 6 from a source not on the allow-list gets nothing" [ "$(probe 192.0.2.5 control)" = silent ]

# Access list: 192.0.2.3 is denied with a KoD DENY.
out=$(probe 192.0.2.3)
echo "denied source: $out"
check "denied source gets a KoD DENY" [ "${out% *}" = "kod DENY" ]

# Rate limit: a burst of 4, then KoD RATE asking for poll 2^10.
results=()
for _ in 1 2 3 4 5 6; do results+=("$(probe 192.0.2.4)"); done
printf 'rate-limited source: %s\n' "${results[@]}"
check "the first 4 requests get time" [ "${results[*]:0:4}" = "time 10 time 10 time 10 time 10" ]
check "the 5th gets a KoD RATE with poll 10" [ "${results[4]}" = "kod RATE 10" ]
check "another source is not affected" [ "$(probe 192.0.2.5)" = "time 10" ]

# chronyd as a client hitting the limit with iburst: it must stop trusting
# the server rather than follow it (chrony reduces its polling on KoD RATE).
ip netns exec "$NETNS_CLI" taskset -c 0 timeout 20 chronyd -Q -t 8 \
  "server 192.0.2.1 iburst maxsamples 8" > "$work/chronyd" 2>&1
cat "$work/chronyd"

# Reload: deny the rate-limited source too, live.
sed -i 's|^deny = .*|deny = ["192.0.2.3", "192.0.2.5"]|; s|^refusal = "kod"|refusal = "drop"|' "$work/t.toml"
kill -HUP "$pid"
for _ in $(seq 1 30); do grep -q "reload: access list" "$work/log" && break; sleep 0.2; done
grep "reload" "$work/log"
check "reload applies the access list live" grep -q "reload: access list (0 allow, 2 deny, default allow)" "$work/log"
check "newly denied source is dropped" [ "$(probe 192.0.2.5)" = silent ]
check "KoD DENY turned into silence for the old one" [ "$(probe 192.0.2.3)" = silent ]

ip netns exec "$NETNS_SRV" curl -s http://127.0.0.1:9123/metrics > "$work/metrics"
value() { awk -v m="$1" '$1 == m { print $2 }' "$work/metrics"; }
check "/metrics counts KoD DENY" [ "$(value 'tachyon_kod_sent_total{queue="0",code="DENY"}')" -ge 1 ]
check "/metrics counts KoD RATE" [ "$(value 'tachyon_kod_sent_total{queue="0",code="RATE"}')" -ge 1 ]
check "/metrics counts access_denied drops" [ "$(value 'tachyon_drops_total{queue="0",reason="access_denied"}')" -ge 2 ]
check "/metrics counts mode 6 answers" [ "$(value 'tachyon_control_answers_total{queue="0"}')" -ge 2 ]
# The tables' mappings (the rate limit's and, interleaved mode being on by
# default, the interleave table's: 1 MiB each in a 2 MiB page), and what of
# them the kernel backs with huge pages, read at the scrape.
check "/metrics shows the table memory" [ "$(value tachyon_table_memory_bytes)" = 4194304 ]
case $(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null) in
  always | madvise) check "/metrics: all of it on huge pages" [ "$(value tachyon_table_memory_huge_bytes)" = 4194304 ] ;;
  *) check "/metrics: none of it on huge pages" [ "$(value tachyon_table_memory_huge_bytes)" = 0 ] ;;
esac

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "clean stop" [ "$rc" = 0 ]
[ "$failed" -eq 0 ] || { echo "--- tachyond log"; cat "$work/log"; }
echo "e2e policy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
