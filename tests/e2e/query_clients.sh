#!/usr/bin/env bash
# End-to-end test of tachyon-query: against tachyond (net_af_packet) and
# against chronyd serving on the kernel side of a veth, each in its own pair
# of network namespaces created here and removed on exit, over IPv4 and
# IPv6; and `tachyon-query status` against a fixture served on the loopback
# of a test namespace, plus tachyond's own /status when it answers.
#
#   sudo tests/e2e/query_clients.sh build/src/daemon/tachyond build/tools/query/tachyon-query
#
# Prints every output, one PASS/FAIL line per check and a closing
# "e2e query: N passed, M failed" line. Exit status: 0 if every check
# passed, 1 if any failed, 77 (skip) without root or `ip netns`.
# shellcheck source-path=SCRIPTDIR/../..
# shellcheck disable=SC2317  # cleanup and finish run from traps
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 TACHYOND TACHYON_QUERY" >&2
  exit 2
fi
tachyond=$1
query=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fixtures=$here/../query/data

# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_begin "e2e query"

tag_t=e2eqtach             # tachyond's pair: e2eqtach-srv / e2eqtach-cli
tag_c=e2eqchrony           # chronyd's pair
prefix=tachyon_e2e_query   # DPDK --file-prefix
max_offset=0.001           # seconds
fixture_port=9180          # http.server on the loopback of a test namespace
tmp=$(mktemp -d /tmp/tachyon-e2e-query.XXXXXX)
chmod 755 "$tmp"           # chronyd may drop root before writing its files
log=$tmp/tachyond.log
pid=
chronyd_pid=
http_pid=

cleanup() {
  e2e_kill "$pid" "$chronyd_pid" "$http_pid"
  netns_delete "$tag_t"
  netns_delete "$tag_c"
  rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
finish() { e2e_finish "$log" "$tmp/chronyd.log"; }

# Run in a namespace, pinned off tachyond's busy-polled worker CPU, bounded in time.
in_ns() {  # NAMESPACE COMMAND...
  local ns=$1
  shift
  timeout 30 taskset -c "$NETNS_CLIENT_CPU" ip netns exec "$ns" "$@"
}

indent() { sed 's/^/  | /'; }

# Checks tachyon-query --json output: every sample answered with these
# values, and |offset| < max_offset for the sample with the smallest delay.
# Prints nothing and succeeds, or prints why not.
json_check() {  # JSON SAMPLES STRATUM REFID_PREFIX VERSION MODE
  python3 - "$@" <<'EOF'
import json, sys
text, samples, stratum, refid, version, mode = sys.argv[1:7]
max_offset = 0.001
try:
    doc = json.loads(text)
except ValueError as e:
    sys.exit(f"not JSON: {e}")
s = doc.get("samples", [])
problems = []
if len(s) != int(samples):
    problems.append(f"{len(s)} samples, expected {samples}")
for x in s:
    want = {"status": "ok", "stratum": int(stratum), "leap": "none", "version": int(version), "mode": int(mode)}
    for k, v in want.items():
        if x.get(k) != v:
            problems.append(f"sample {x.get('index')}: {k} = {x.get(k)!r}, expected {v!r}")
    if not str(x.get("refid", "")).startswith(refid):
        problems.append(f"sample {x.get('index')}: refid {x.get('refid')!r}, expected {refid}...")
# The offset of the sample with the smallest delay, as NTP clients pick it:
# the others may carry queueing on one leg only (a loaded host).
timed = [x for x in s if "offset_s" in x and "delay_s" in x]
if not timed:
    problems.append("no sample with an offset")
else:
    best = min(timed, key=lambda x: x["delay_s"])
    if abs(best["offset_s"]) >= max_offset:
        problems.append(f"offset {best['offset_s']} s of the best sample (delay {best['delay_s']} s), "
                        f"expected |offset| < {max_offset}")
if doc.get("exit_code") != 0:
    problems.append(f"exit_code {doc.get('exit_code')}")
if problems:
    sys.exit("; ".join(problems))
EOF
}

# A JSON query with up to 4 attempts 2 s apart (a lost datagram or a burst of
# scheduling noise on a loaded host is not what is tested here).
check_json() {  # NAME NAMESPACE SAMPLES STRATUM REFID VERSION MODE -- QUERY_ARGS...
  local name=$1 ns=$2 samples=$3 stratum=$4 refid=$5 version=$6 mode=$7 attempt out rc why
  shift 8
  for attempt in 1 2 3 4; do
    [ "$attempt" = 1 ] || sleep 2
    out=$(in_ns "$ns" "$query" --json "$@" 2>"$tmp/stderr")
    rc=$?
    why=$(json_check "$out" "$samples" "$stratum" "$refid" "$version" "$mode" 2>&1)
    if [ "$rc" = 0 ] && [ -z "$why" ]; then
      echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("\n".join("  sample %d: offset %+.9f s delay %.9f s stratum %d refid %s version %d mode %d" % (x["index"], x["offset_s"], x["delay_s"], x["stratum"], x["refid"], x["version"], x["mode"]) for x in d["samples"]))'
      pass "$name (attempt $attempt)"
      return
    fi
    echo "  $name attempt $attempt: exit $rc: ${why:-} $(tr '\n' ' ' <"$tmp/stderr")"
  done
  fail "$name: expected $samples samples of stratum $stratum, refid $refid, version $version, mode $mode, |offset| < $max_offset s, exit 0"
}

# Text output of three samples: the fields a person reads in every block,
# and the offset bound on the block with the smallest delay.
check_text() {  # NAME NAMESPACE STRATUM REFID_LINE VERSION_MODE -- QUERY_ARGS...
  local name=$1 ns=$2 stratum=$3 refid=$4 vm=$5 attempt out rc offset ok field
  shift 6
  for attempt in 1 2 3 4; do
    [ "$attempt" = 1 ] || sleep 2
    out=$(in_ns "$ns" "$query" -c 3 -i 0.2 "$@" 2>&1)
    rc=$?
    echo "$out" | indent
    offset=$(awk '/^  offset / { o = $2 } /^  delay / { if (best == "" || $2 < best) { best = $2; bo = o } }
                  END { print bo }' <<<"$out")
    ok=1
    [ "$rc" = 0 ] || ok=0
    for field in "stratum *$stratum" "refid *$refid" "leap *none" "version/mode *$vm" \
      'precision *2^-[0-9]* (.*)' 'root delay  *[0-9.]* s .*' 'root dispersion  *[0-9.]* s .*' \
      'poll *2^-*[0-9]* (.*)' 'reference time *20[0-9-]*T[0-9:.]*Z'; do
      [ "$(grep -c "^  $field\$" <<<"$out")" = 3 ] || { ok=0; echo "  attempt $attempt: not 3 lines '$field'"; }
    done
    [ -n "$offset" ] && awk -v x="$offset" -v l="$max_offset" 'BEGIN { if (x < 0) x = -x; exit !(x < l) }' || ok=0
    if [ "$ok" = 1 ]; then
      pass "$name: stratum $stratum, refid $refid, leap none, $vm, best offset $offset s (attempt $attempt)"
      return
    fi
  done
  fail "$name: expected exit 0, 3 samples of stratum $stratum, refid $refid, leap none, version/mode $vm, |offset| < $max_offset s"
}

e2e_need chronyd python3 curl ping taskset timeout
[ -x "$tachyond" ] || fail "tachyond not found at '$tachyond'"
[ -x "$query" ] || fail "tachyon-query not found at '$query'"
[ "$failed" -eq 0 ] || finish

# ====================== tachyond ======================
echo "e2e query: tachyond $tachyond (net_af_packet), worker CPU $(netns_worker_cpu), clients on CPU $NETNS_CLIENT_CPU"
netns_create "$tag_t" || { fail "cannot create namespaces $tag_t-srv/$tag_t-cli"; finish; }
netns_write_config "$tmp/tachyond.toml" af_packet "$NETNS_SRV_IF" "$prefix"
ip netns exec "$NETNS_SRV" "$tachyond" --config "$tmp/tachyond.toml" >"$log" 2>&1 &
pid=$!
t_srv=$NETNS_SRV
t_cli=$NETNS_CLI

if e2e_wait_log "$log" 'tachyond serving on' "$pid"; then
  pass "tachyond serving: $(grep -o 'tachyond serving on.*' "$log")"
  # Resolve the server's MAC (ARP, NDP) before anything is timed.
  in_ns "$t_cli" ping -c 2 -W 1 "$NETNS_SERVER_V4" >/dev/null
  in_ns "$t_cli" ping -6 -c 2 -W 1 "$NETNS_SERVER_V6" >/dev/null

  # tachyond under local_stratum = 10 answers stratum 10, refid "LOCL".
  check_text "tachyond IPv4" "$t_cli" 10 'LOCL (4C4F434C)' '4/4 (server)' -- "$NETNS_SERVER_V4"
  check_text "tachyond IPv6" "$t_cli" 10 'LOCL (4C4F434C)' '4/4 (server)' -- "$NETNS_SERVER_V6"
  check_json "tachyond IPv4 -c 3" "$t_cli" 3 10 LOCL 4 4 -- -c 3 -i 0.2 "$NETNS_SERVER_V4"
  check_json "tachyond IPv6 -c 3" "$t_cli" 3 10 LOCL 4 4 -- -c 3 -i 0.2 "[$NETNS_SERVER_V6]:123"
  check_json "tachyond IPv4 NTPv3 symmetric (mode 2 answers)" "$t_cli" 5 10 LOCL 3 2 -- \
    --version 3 --mode symmetric -c 5 -i 0.1 "$NETNS_SERVER_V4"
  check_json "tachyond IPv6 NTPv3 symmetric (mode 2 answers)" "$t_cli" 5 10 LOCL 3 2 -- \
    --version 3 --mode symmetric -c 5 -i 0.1 -6 "$NETNS_SERVER_V6"
  check_json "tachyond NTPv2 client" "$t_cli" 5 10 LOCL 2 4 -- --version 2 -c 5 -i 0.1 "$NETNS_SERVER_V4"

  # Text summary over three samples.
  out=$(in_ns "$t_cli" "$query" -c 3 -i 0.2 "$NETNS_SERVER_V4" 2>&1)
  rc=$?
  echo "$out" | tail -4 | indent
  if [ "$rc" = 0 ] && grep -q '^3 requests, 3 usable, 0 lost$' <<<"$out" &&
    grep -q '^offset min/mean/max/stddev = ' <<<"$out"; then
    pass "tachyond -c 3: summary of 3 usable samples"
  else
    fail "tachyond -c 3: exit $rc, expected a '3 requests, 3 usable, 0 lost' summary"
  fi

  # Stripchart: one line per sample with an offset bar.
  out=$(in_ns "$t_cli" "$query" --stripchart -c 3 -i 0.2 "$NETNS_SERVER_V6" 2>&1)
  rc=$?
  echo "$out" | indent
  bars=$(grep -cE '^[0-9:.]+, d:\+[0-9.]+s o:[-+][0-9.]+s  \[[ |*<>]{51}\]$' <<<"$out")
  if [ "$rc" = 0 ] && [ "$bars" = 3 ] && grep -q '^Tracking 2001:db8::1 \[2001:db8::1\]:123' <<<"$out"; then
    pass "tachyond --stripchart: 3 bar lines"
  else
    fail "tachyond --stripchart: exit $rc, $bars bar lines, expected 3"
  fi

  # Nothing answers on another port (tachyond drops it, no ICMP): exit 1.
  out=$(in_ns "$t_cli" "$query" -t 0.5 --port 124 "$NETNS_SERVER_V4" 2>&1)
  rc=$?
  echo "$out" | indent
  if [ "$rc" = 1 ] && grep -q 'no answer within 0.5 s' <<<"$out"; then
    pass "tachyond port 124: no answer, exit 1"
  else
    fail "tachyond port 124: exit $rc, expected 1 and 'no answer within 0.5 s'"
  fi

  # tachyond's own /status, once its stats endpoint serves it.
  if in_ns "$t_srv" curl -sf -o "$tmp/real_status.json" http://127.0.0.1:9123/status; then
    out=$(in_ns "$t_srv" "$query" status 2>&1)
    rc=$?
    echo "$out" | indent
    if [ "$rc" = 0 ] && grep -q '^Server$' <<<"$out" && grep -q '^  Version  *: ' <<<"$out" &&
      grep -q '^  NTP answers  *: [1-9]' <<<"$out"; then
      pass "status against tachyond: summary with Server, Version and NTP answers"
    else
      fail "status against tachyond: exit $rc, expected a summary with Server, Version and NTP answers > 0"
    fi
    # The symmetric requests above were counted as such.
    out=$(in_ns "$t_srv" "$query" status --json 2>&1)
    rc=$?
    if [ "$rc" = 0 ] && python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["answers"]["by_mode"]["symmetric_active"] >= 2 else 1)' <<<"$out"; then
      pass "status --json against tachyond: valid JSON, symmetric_active answers >= 2"
    else
      fail "status --json against tachyond: exit $rc, expected JSON with answers.by_mode.symmetric_active >= 2"
    fi
  else
    echo "  real /status not available yet (curl http://127.0.0.1:9123/status in $t_srv failed): skipped"
  fi
elif kill -0 "$pid" 2>/dev/null; then
  fail "tachyond did not log 'tachyond serving on' within 20 s"
else
  wait "$pid"
  fail "tachyond exited with status $? before serving"
  pid=
fi
if [ -n "$pid" ]; then
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=
fi

# ====================== chronyd ======================
netns_create "$tag_c" || { fail "cannot create namespaces $tag_c-srv/$tag_c-cli"; finish; }
c_srv=$NETNS_SRV
c_cli=$NETNS_CLI
# The server end gets kernel addresses: chronyd answers through the kernel.
netns_kernel_server "$tag_c"
cat >"$tmp/chrony.conf" <<EOF
# Written by tests/e2e/query_clients.sh: a stratum-1 server on its own clock.
local stratum 1
allow all
pidfile $tmp/chronyd.pid
driftfile $tmp/chronyd.drift
cmdport 0
EOF
# -x: never touch the clock; -U: no root check; -d: foreground, logs to stderr.
taskset -c "$NETNS_CLIENT_CPU" ip netns exec "$c_srv" chronyd -f "$tmp/chrony.conf" -x -U -d \
  >"$tmp/chronyd.log" 2>&1 &
chronyd_pid=$!
in_ns "$c_cli" ping -c 2 -W 1 "$NETNS_SERVER_V4" >/dev/null
in_ns "$c_cli" ping -6 -c 2 -W 1 "$NETNS_SERVER_V6" >/dev/null
ready=0
for _ in $(seq 1 20); do
  if in_ns "$c_cli" "$query" -t 0.5 "$NETNS_SERVER_V4" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$chronyd_pid" 2>/dev/null || break
  sleep 0.5
done
if [ "$ready" = 1 ]; then
  pass "chronyd answering on $NETNS_SERVER_V4"
  # `local stratum 1`: refid 127.127.1.1, not printable, so shown in hex.
  check_text "chronyd IPv4" "$c_cli" 1 7F7F0101 '4/4 (server)' -- "$NETNS_SERVER_V4"
  check_text "chronyd IPv6" "$c_cli" 1 7F7F0101 '4/4 (server)' -- "$NETNS_SERVER_V6"
  check_json "chronyd IPv6 -c 3" "$c_cli" 3 1 7F7F0101 4 4 -- -c 3 -i 0.2 -6 "$NETNS_SERVER_V6"
  check_json "chronyd IPv4 NTPv3 symmetric (mode 2 answers)" "$c_cli" 5 1 7F7F0101 3 2 -- \
    --version 3 --mode symmetric -c 5 -i 0.1 "$NETNS_SERVER_V4"

  # A closed port on a kernel host: ICMP port unreachable, reported at once.
  start=$(date +%s%N)
  out=$(in_ns "$c_cli" "$query" -t 5 "$NETNS_SERVER_V4:124" 2>&1)
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "$out" | indent
  if [ "$rc" = 1 ] && grep -q 'port unreachable' <<<"$out" && [ "$ms" -lt 4000 ]; then
    pass "chronyd host port 124: port unreachable in $ms ms, exit 1"
  else
    fail "chronyd host port 124: exit $rc after $ms ms, expected 1 and 'port unreachable' before the 5 s timeout"
  fi
else
  fail "chronyd did not answer on $NETNS_SERVER_V4 within 10 s"
fi

# ====================== status against fixtures ======================
# Served by python3 -m http.server on the loopback of the chronyd client
# namespace: nothing leaves it, no port of the host is taken.
www=$tmp/www
mkdir -p "$www/partial"
cp "$fixtures/status_full.json" "$www/status"
cp "$fixtures/status_partial.json" "$www/partial/status"
printf '{"server": {"version": ' >"$www/broken"
ip netns exec "$c_cli" python3 -m http.server --bind 127.0.0.1 --directory "$www" "$fixture_port" \
  >"$tmp/http.log" 2>&1 &
http_pid=$!
url=http://127.0.0.1:$fixture_port
for _ in $(seq 1 50); do
  in_ns "$c_cli" curl -sf -o /dev/null "$url/status" && break
  sleep 0.1
done

out=$(in_ns "$c_cli" "$query" status --url "$url" 2>&1)
rc=$?
echo "$out" | indent
ok=1
[ "$rc" = 0 ] || ok=0
for line in '^Server$' '^  Version  *: 0.1.0$' '^  Queues  *: 1 (RSS off)$' '^Reference$' \
  '^  State  *: synchronized$' '^  Precision  *: 2^-26 (14.9 ns)$' '^  TAI offset  *: 37 s$' \
  '^  Leap file expiry  *: 2026-12-28T00:00:00Z (' '^  Servo window  *: 64 samples$' '^Traffic$' \
  '^  NTP answers  *: 80$' \
  '^  KoD sent  *: 0 (RATE 0, DENY 0, RSTR 0)$' '^    not_our_address  *: 8 (80.0%)$' \
  '^  By version  *: v1 0, v2 0, v3 5, v4 75$' '^Authentication$' '^  MAC required  *: yes (requests without a valid MAC get no answer)$' '^  Crypto-NAKs sent  *: 3$' \
  '^  Interleaved answers *: 20 (25.0% of NTP answers)$' '^  p99  *: 500.0 ns$' \
  '^  Queue 0  *: received 100, sent 90, tx refused 0, dropped 10$' '^  In use  *: 10 of 4095 (0.2%)$' \
  '^  On huge pages  *: 2.0 MiB (50.0%)$'; do
  grep -q -- "$line" <<<"$out" || { ok=0; echo "  missing: $line"; }
done
if [ "$ok" = 1 ]; then pass "status against the fixture: every group and field"; else fail "status against the fixture (exit $rc)"; fi

out=$(in_ns "$c_cli" "$query" status --json --url "$url/status" 2>&1)
rc=$?
if [ "$rc" = 0 ] && python3 -c 'import json, sys; sys.exit(json.load(sys.stdin) != json.load(open(sys.argv[1])))' \
  "$fixtures/status_full.json" <<<"$out"; then
  pass "status --json: the fixture, unchanged"
else
  fail "status --json: exit $rc, expected the fixture's JSON"
fi

out=$(in_ns "$c_cli" "$query" status --url "$url/partial/status" 2>&1)
rc=$?
echo "$out" | indent
if [ "$rc" = 0 ] && grep -q '^  uptime_s  *: soon$' <<<"$out" && grep -q '^ptp$' <<<"$out" &&
  ! grep -q '^Mbufs$' <<<"$out"; then
  pass "status with missing and unknown fields: shows what is there"
else
  fail "status with missing and unknown fields: exit $rc"
fi

check_status_error() {  # NAME URL EXPECTED_TEXT
  local out rc
  out=$(in_ns "$c_cli" "$query" status -t 2 --url "$2" 2>&1)
  rc=$?
  echo "$out" | indent
  if [ "$rc" = 5 ] && grep -qF -- "$3" <<<"$out"; then pass "$1: exit 5, '$3'"; else fail "$1: exit $rc, expected 5 and '$3'"; fi
}
check_status_error "status, invalid JSON" "$url/broken" "invalid JSON"
check_status_error "status, HTTP 404" "$url/nothing/here" "HTTP 404"
check_status_error "status, nothing listening" "http://127.0.0.1:$((fixture_port + 1))" "is tachyond running?"

finish
