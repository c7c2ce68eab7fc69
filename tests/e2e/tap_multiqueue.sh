#!/usr/bin/env bash
# tachyond on net_tap with two queues: RSS spreads clients over both
# workers, and the NIC (the tap PMD) computes the answers' IPv4 and UDP
# checksums, so the kernel accepting the answers proves the offload path.
# Clients and the tap's kernel side share one namespace created here.
#
#   tap_multiqueue.sh TACHYOND
# shellcheck source-path=SCRIPTDIR/../..
set -uo pipefail
tachyond=$1
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"   # check, e2e_wait_log, e2e_kill
[ "$(id -u)" -eq 0 ] || { echo "needs root: skipped"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "ip netns unavailable: skipped"; exit 77; }

ns=tachyon-tapmq
work=$(mktemp -d)
pid=
cleanup() {
  e2e_kill "$pid"
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM
ip netns del "$ns" 2>/dev/null
ip netns add "$ns"
ip -n "$ns" link set lo up

cpus=$(nproc)
cat > "$work/t.toml" <<CONF
[eal]
memory_mb = 256
file_prefix = "tapmq$$"
worker_cpus = [$([ "$cpus" -gt 1 ] && echo 1 || echo 0), 0]
[port]
device = "net_tap0,iface=tmq0"
queues = 2
[server]
ipv4 = ["192.0.2.1/24"]
ipv6 = ["2001:db8::1/64"]
[reference]
local_stratum = 10
CONF

passed=0 failed=0

ip netns exec "$ns" "$tachyond" --config "$work/t.toml" > "$work/log" 2>&1 &
pid=$!
e2e_wait_log "$work/log" "tachyond serving on" "$pid"
check "tachyond serves with 2 queues and RSS" grep -q "2 queue(s) with RSS" "$work/log"
check "checksums are offloaded to the NIC" grep -q "checksums: NIC offload" "$work/log"
ip -n "$ns" addr add 192.0.2.2/24 dev tmq0
ip -n "$ns" addr add 2001:db8::2/64 dev tmq0 nodad
ip -n "$ns" link set tmq0 up

# 64 clients (32 IPv4 and 32 IPv6 addresses, several source ports each):
# the kernel drops any answer whose checksum is wrong, so every answer
# received proves the NIC-computed checksums.
for i in $(seq 10 41); do
  ip -n "$ns" addr add "192.0.2.$i/24" dev tmq0
  ip -n "$ns" addr add "2001:db8::$i/64" dev tmq0 nodad
done
ip netns exec "$ns" python3 - > "$work/clients" <<'PY'
import socket, struct
ok = 0
for family, server, prefix in ((socket.AF_INET, "192.0.2.1", "192.0.2."), (socket.AF_INET6, "2001:db8::1", "2001:db8::")):
    for i in range(10, 42):
      for port in (41000 + i, 42000 + i):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((prefix + str(i), port))
        s.settimeout(1.0)
        xmt = 0x1122334455660000 + port
        s.sendto(bytes([0x23]) + bytes(39) + struct.pack(">Q", xmt), (server, 123))
        try:
            d = s.recv(100)
            if len(d) == 48 and d[0] & 7 == 4 and struct.unpack(">Q", d[24:32])[0] == xmt:
                ok += 1
        except socket.timeout:
            pass
        s.close()
print(ok)
PY
answered=$(cat "$work/clients")
echo "answered $answered of 128 requests from 64 addresses"
check "every client answered with valid checksums" [ "$answered" = 128 ]

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "clean stop" [ "$rc" = 0 ]
grep -E "queue [01]:" "$work/log"
q0=$(sed -n 's/.*queue 0: \([0-9]*\) received.*/\1/p' "$work/log")
q1=$(sed -n 's/.*queue 1: \([0-9]*\) received.*/\1/p' "$work/log")
check "RSS used both queues" [ "$(( ${q0:-0} > 0 && ${q1:-0} > 0 ))" = 1 ]
[ "$failed" -eq 0 ] || { echo "--- tachyond log"; cat "$work/log"; }
echo "e2e tap_multiqueue: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
