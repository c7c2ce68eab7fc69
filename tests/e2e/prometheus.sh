#!/usr/bin/env bash
# A real Prometheus server scrapes tachyond's /metrics; the series it stores
# must match the traffic the test sent. Also: promtool accepts the
# exposition, and /status agrees with it.
#
#   prometheus.sh TACHYOND
# shellcheck source-path=SCRIPTDIR/../..
set -uo pipefail
tachyond=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_setup tprom prometheus
prom_pid=
trap 'e2e_kill "$prom_pid"; e2e_cleanup' EXIT

netns_create "$tag" >/dev/null
netns_names "$tag"
netns_write_config "$work/t.toml" af_packet "$NETNS_SRV_IF" "$tag"
printf '\n[stats]\nlisten = "127.0.0.1:9123"\n' >> "$work/t.toml"
ip netns exec "$NETNS_SRV" "$tachyond" --config "$work/t.toml" > "$work/tachyond.log" 2>&1 &
pid=$!
e2e_wait_log "$work/tachyond.log" "stats endpoint" "$pid"
check "tachyond serves its stats endpoint" grep -q "stats endpoint on http://127.0.0.1:9123" "$work/tachyond.log"

cat > "$work/prometheus.yml" <<'YML'
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tachyond
    static_configs:
      - targets: ['127.0.0.1:9123']
YML
ip netns exec "$NETNS_SRV" prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address=127.0.0.1:9090 --log.level=warn > "$work/prometheus.log" 2>&1 &
prom_pid=$!

# Known traffic: 25 NTPv4 and 15 NTPv3 client requests, 5 mode 7 probes.
ip netns exec "$NETNS_CLI" taskset -c 0 python3 - <<'PY'
import socket
for version, count in ((4, 25), (3, 15)):
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        s.sendto(bytes([(version << 3) | 3]) + bytes(39) + (1000 + i).to_bytes(8, "big"), ("192.0.2.1", 123))
        s.recv(100)
        s.close()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(bytes([0x17, 0, 3, 42]) + bytes(4), ("192.0.2.1", 123))
PY

query() {  # PROMQL: prints the first value, or nothing
  ip netns exec "$NETNS_SRV" curl -s --get --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
# Wait until Prometheus has scraped the traffic (scrapes every second).
answers=
for _ in $(seq 1 60); do
  answers=$(query 'sum(tachyon_ntp_answers_total)' 2>/dev/null)
  [ "$answers" = 40 ] && break
  sleep 0.5
done
echo "Prometheus: sum(tachyon_ntp_answers_total) = ${answers:-none}"
check "Prometheus scraped tachyond (up == 1)" [ "$(query 'up{job="tachyond"}')" = 1 ]
check "Prometheus stores all 40 answers" [ "$answers" = 40 ]
v3=$(query 'sum(tachyon_ntp_answers_total{version="3",mode="client"})')
echo "Prometheus: NTPv3 client answers = $v3"
check "answers by version: 15 NTPv3" [ "$v3" = 15 ]
private=$(query 'sum(tachyon_drops_total{reason="ntp_mode_private"})')
echo "Prometheus: mode 7 drops = $private"
check "drops by reason: 5 mode 7" [ "$private" = 5 ]
check "processing-time histogram has 40 observations" \
  [ "$(query 'sum(tachyon_processing_time_seconds_count)')" = 40 ]
# The tables (rate limit and interleave, 1 MiB each by default) and the
# expression troubleshooting.md suggests to alert on: what of them is not
# on huge pages.
check "table memory: 4 MiB mapped" [ "$(query 'tachyon_table_memory_bytes')" = 4194304 ]
case $(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null) in
  always | madvise) expected=0 ;;
  *) expected=4194304 ;;
esac
check "table memory off huge pages: $expected bytes" \
  [ "$(query 'tachyon_table_memory_bytes - tachyon_table_memory_huge_bytes')" = "$expected" ]

ip netns exec "$NETNS_SRV" curl -s http://127.0.0.1:9123/metrics > "$work/metrics.txt"
if promtool check metrics < "$work/metrics.txt" > "$work/promtool.txt" 2>&1; then ok=0; else ok=1; fi
cat "$work/promtool.txt"
check "promtool check metrics accepts /metrics" [ "$ok" = 0 ]

ip netns exec "$NETNS_SRV" curl -s http://127.0.0.1:9123/status > "$work/status.json"
status_answers=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["traffic"]["ntp_answers"])' "$work/status.json")
check "/status agrees (ntp_answers = 40)" [ "$status_answers" = 40 ]
code=$(ip netns exec "$NETNS_SRV" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9123/nothing)
check "unknown paths get 404" [ "$code" = 404 ]

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "clean stop" [ "$rc" = 0 ]
[ "$failed" -eq 0 ] || { echo "--- tachyond log"; cat "$work/tachyond.log"; echo "--- prometheus log"; cat "$work/prometheus.log"; }
echo "e2e prometheus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
