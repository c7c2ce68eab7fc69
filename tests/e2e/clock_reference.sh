#!/usr/bin/env bash
# End-to-end test of tachyond's timescale as real answers show it: tachyond
# on one end of a veth pair (net_af_packet), a client on the other, each in
# a namespace created here and removed on exit. The PHC is the fake one
# (LD_PRELOAD of libfake_ptp.so, steered through its control file).
#
#   sudo tests/e2e/clock_reference.sh build/src/daemon/tachyond build/tests/clock/libfake_ptp.so
#
# Checks, each in the LI, stratum, refid, root dispersion and timestamps of
# real answers and in tachyond's log:
#   - system clock: what the kernel says (here usually unsynchronized: LI=3, stratum 16)
#   - source = "nic" on a port that cannot read its clock: start-up refused, clearly
#   - PHC: fallback PRECISE -> EXTENDED, synchronized, holdover (dispersion
#     grows), alarm (LI=3, stratum 16), recovery, a step of the PHC
#   - a leap second inserted and one deleted, at 23:59:60 (a test leap file),
#     each named ahead in /status and /metrics
#   - the leap smear, half-way (LI=0, refid 254.x.y.z, 0.25 s behind, /status)
# Exit status: 0 all passed, 1 a check failed, 77 (skip) without root or `ip netns`.
# shellcheck source-path=SCRIPTDIR/../..
# shellcheck disable=SC2317  # cleanup and finish run from traps
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 TACHYOND LIBFAKE_PTP" >&2
  exit 2
fi
tachyond=$1
fake=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name="e2e clock reference"

# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_begin "$name"

tag=clkref
prefix=tachyon_clkref
tmp=$(mktemp -d /tmp/tachyon-clock-ref.XXXXXX)
log=$tmp/tachyond.log
all_logs=$tmp/all.log
control=$tmp/fake_ptp.control
fake_log=$tmp/fake_ptp.log
pid=

cleanup() {
  e2e_kill "$pid"
  netns_delete "$tag"
  rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
finish() {
  stop_tachyond
  e2e_finish "$all_logs"
}

client() { timeout 60 taskset -c "$NETNS_CLIENT_CPU" ip netns exec "$NETNS_CLI" "$@"; }
probe() { client python3 "$here/clock_probe.py" "$NETNS_SERVER_V4" "$@"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | head -n 1; }
# N answers: the last answer's line, then the summary of the least-delayed
# 40% (this machine may be loaded: an offset is only known to delay/2).
answers() { probe --count "$1" --interval 0.1 --best 0.4 | grep -E '^(li=|summary)' | tail -n 2 | tr '\n' ' '; }
# |offset - EXPECTED| within half the delay plus SLACK seconds.
offset_near() {  # LINE EXPECTED SLACK
  is_true "($(field "$1" offset_median) - ($2))^2 <= ($(field "$1" delay_median) / 2 + $3)^2"
}
calc() { awk "BEGIN { printf \"%.9f\", $* }"; }
is_true() { awk "BEGIN { exit !($*) }"; }

# The config of tools/netns.sh with its [reference] table replaced.
write_config() {  # REFERENCE_LINES
  netns_write_config "$tmp/tachyond.toml" af_packet "$NETNS_SRV_IF" "$prefix" || return 1
  sed -i '/^\[reference\]/,$d' "$tmp/tachyond.toml"
  printf '[reference]\n%s\n' "$1" >>"$tmp/tachyond.toml"
}

start_tachyond() {  # [VAR=VALUE...]: waits for "tachyond serving on"; 1 if it exited first
  : >"$log"
  ip netns exec "$NETNS_SRV" env "$@" "$tachyond" --config "$tmp/tachyond.toml" >"$log" 2>&1 &
  pid=$!
  e2e_wait_log "$log" 'tachyond serving on' "$pid" 15
}

stop_tachyond() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
    { echo "=== $(sed -n '/^\[reference\]/,$p' "$tmp/tachyond.toml" | tr '\n' ' ') ==="; cat "$log"; } >>"$all_logs"
  fi
}

set_fake() { printf '%s\n' "$@" >"$control.tmp" && mv "$control.tmp" "$control"; }
logged() { grep -c -F -- "$1" "$log"; }  # how many lines say it

# A leap-seconds.list with a leap at the end of 2030-06-30 (TAI - UTC 37 ->
# $1) and a correct SHA-1, valid until 2031.
write_leap_file() {  # AFTER FILE
  python3 - "$1" "$2" <<'PY'
import hashlib, sys
after, path = int(sys.argv[1]), sys.argv[2]
e = 2208988800
entries = [(1483228800 + e, 37), (1909094400 + e, after)]  # 2017-01-01, 2030-07-01
updated, expiry = 1893456000 + e, 1924992000 + e            # 2030-01-01, 2031-01-01
digits = f"{updated}{expiry}" + "".join(f"{t}{o}" for t, o in entries)
h = hashlib.sha1(digits.encode()).hexdigest()
with open(path, "w") as f:
    f.write(f"#$\t{updated}\n#@\t{expiry}\n")
    for t, o in entries:
        f.write(f"{t}\t{o}\t# test\n")
    f.write("#h\t" + " ".join(h[i:i + 8] for i in range(0, 40, 8)) + "\n")
PY
}
leap=1909094400  # 2030-07-01 00:00:00 UTC

e2e_need python3 taskset timeout
[ -x "$tachyond" ] || fail "tachyond not found at '$tachyond'"
[ -f "$fake" ] || fail "fake PHC library not found at '$fake'"
[ "$failed" -eq 0 ] || finish

netns_create "$tag" || { fail "cannot create namespaces $tag-srv/$tag-cli"; finish; }
echo "$name: tachyond $tachyond, fake PHC $fake"

# --- the system clock, as the kernel flags it -----------------------------
# STA_UNSYNC (0x40) in adjtimex()'s status; struct timex puts it at byte 40 on 64-bit.
unsync=$(python3 -c '
import ctypes, struct
buf = ctypes.create_string_buffer(256)
ctypes.CDLL(None).adjtimex(buf)
print(1 if struct.unpack_from("i", buf.raw, 40)[0] & 0x40 else 0)')
write_config 'source = "system"'
if start_tachyond; then
  client ping -c 1 -W 1 "$NETNS_SERVER_V4" >/dev/null 2>&1
  a=$(probe --count 1 --timeout 2)
  echo "  system clock (STA_UNSYNC=$unsync): $a"
  if [ "$unsync" = 1 ]; then
    if [ "$(field "$a" li)" = 3 ] && [ "$(field "$a" stratum)" = 16 ]; then
      pass "system clock flagged unsynchronized by the kernel: LI=3, stratum 16"
    else
      fail "system clock unsynchronized: expected li=3 stratum=16"
    fi
  elif [ "$(field "$a" li)" = 0 ] && [ "$(field "$a" stratum)" = 2 ] && [ "$(field "$a" refid)" = SYS ]; then
    pass "system clock synchronized: LI=0, stratum 2, refid SYS"
  else
    fail "system clock synchronized: expected li=0 stratum=2 refid=SYS"
  fi
else
  fail "tachyond (system) did not start"
fi
stop_tachyond

# --- source = "nic" on a port without a readable clock --------------------
write_config 'source = "nic"'
if start_tachyond; then
  fail "tachyond started with source = \"nic\" on net_af_packet"
  stop_tachyond
else
  wait "$pid" 2>/dev/null
  status=$?
  pid=
  cat "$log" >>"$all_logs"
  line=$(grep -F 'reference.source = "nic": port ' "$log")
  echo "  $line"
  if [ "$status" != 0 ] && [[ $line == *"(net_af_packet) cannot read its clock: rte_eth_read_clock: "* ]]; then
    pass "source = \"nic\" refused at start-up (exit $status) with the port, driver and call named"
  else
    fail "source = \"nic\": expected a non-zero exit and 'cannot read its clock' (exit $status)"
  fi
fi

# --- PHC: fallback, holdover, alarm, recovery, step -----------------------
write_config 'source = "phc"
phc_device = "/dev/ptp0"
holdover_limit = 3
holdover_dispersion_ppm = 1000'
set_fake "offset_ns 37000000000" "noise_ns 50" "precise 0"
: >"$fake_log"
if start_tachyond LD_PRELOAD="$fake" FAKE_PTP_CONTROL="$control" FAKE_PTP_LOG="$fake_log"; then
  client ping -c 1 -W 1 "$NETNS_SERVER_V4" >/dev/null 2>&1
  a=$(answers 10)
  echo "  synchronized: $a"
  if [ "$(field "$a" li)" = 0 ] && [ "$(field "$a" stratum)" = 1 ] && [ "$(field "$a" refid)" = PHC ] &&
    offset_near "$a" 0 0.0002 && is_true "$(field "$a" root_dispersion) < 0.001"; then
    pass "PHC: LI=0, stratum 1, refid PHC, offset $(field "$a" offset_median) s, root dispersion $(field "$a" root_dispersion) s"
  else
    fail "PHC: expected li=0 stratum=1 refid=PHC, |offset| < 1 ms and root dispersion < 1 ms"
  fi
  order=$(head -n 3 "$fake_log" | tr '\n' ',')
  if [ "$order" = "PTP_CLOCK_GETCAPS ok,PTP_SYS_OFFSET_PRECISE EOPNOTSUPP,PTP_SYS_OFFSET_EXTENDED ok," ] &&
    [ "$(logged 'PTP_SYS_OFFSET_PRECISE: Operation not supported; using PTP_SYS_OFFSET_EXTENDED')" = 1 ]; then
    pass "PHC: PRECISE refused, EXTENDED used, logged once"
  else
    fail "PHC fallback: ioctls '$order'"
  fi
  disp0=$(field "$a" root_dispersion)

  set_fake "offset_ns 37000000000" "noise_ns 50" "precise 0" "fail 1"
  sleep 1.6
  a=$(probe --count 1)
  echo "  holdover: $a"
  if [ "$(field "$a" li)" = 0 ] && [ "$(field "$a" stratum)" = 1 ] &&
    is_true "$(field "$a" root_dispersion) > $disp0 + 0.0005" && [ "$(logged 'holdover: no good sample')" -ge 1 ]; then
    pass "holdover: still LI=0, stratum 1; root dispersion grew from $disp0 to $(field "$a" root_dispersion) s; logged"
  else
    fail "holdover: expected li=0, stratum 1 and a growing root dispersion"
  fi
  sleep 2.4
  a=$(probe --count 1)
  echo "  past the holdover limit: $a"
  if [ "$(field "$a" li)" = 3 ] && [ "$(field "$a" stratum)" = 16 ] &&
    [ "$(logged 'holdover limit of 3.000 s passed without a good sample')" = 1 ]; then
    pass "holdover limit: LI=3, stratum 16, logged once"
  else
    fail "holdover limit: expected li=3 stratum=16"
  fi
  set_fake "offset_ns 37000000000" "noise_ns 50" "precise 0"
  sleep 1
  a=$(probe --count 1)
  echo "  recovered: $a"
  if [ "$(field "$a" li)" = 0 ] && [ "$(field "$a" stratum)" = 1 ] &&
    is_true "$(field "$a" root_dispersion) < 0.001" && [ "$(logged 'synchronized again to PHC /dev/ptp0')" -ge 1 ]; then
    pass "recovery: LI=0, stratum 1, root dispersion $(field "$a" root_dispersion) s"
  else
    fail "recovery: expected li=0 stratum=1 and a small root dispersion"
  fi
  set_fake "offset_ns 37010000000" "noise_ns 50" "precise 0"
  sleep 1.5
  a=$(answers 10)
  echo "  PHC stepped by +10 ms: $a"
  if offset_near "$a" 0.010 0.0002 &&
    [ "$(logged 'the reference stepped by 10.00 ms')" = 1 ]; then
    pass "a 10 ms step of the PHC is followed and logged once as a step"
  else
    fail "PHC step: expected the offset to follow to +10 ms and one step logged"
  fi
else
  fail "tachyond (phc) did not start"
fi
stop_tachyond

# --- leap seconds through the PHC (TAI): inserted, then deleted -----------
check_leap() {  # AFTER KIND: 38 inserted | 36 deleted
  local after=$1 kind=$2 now offset shift out pre=0 post=0 repeated=0 bad=0 line li t3 d
  write_leap_file "$after" "$tmp/leap.list"
  write_config "source = \"phc\"
leap_file = \"$tmp/leap.list\""
  now=$(date +%s%N)
  # The PHC reads TAI for 23:59:52 UTC now: the leap comes in 8 s.
  offset=$(((leap - 8 + 37) * 1000000000 - now))
  shift=$(calc "($offset - 37000000000) / 1e9")
  set_fake "offset_ns $offset" "epoch_ns $now" "noise_ns 50"
  if ! start_tachyond LD_PRELOAD="$fake" FAKE_PTP_CONTROL="$control"; then
    fail "tachyond (leap $kind) did not start"
    return
  fi
  # The leap comes in 8 s: /status and /metrics name it ahead.
  local next want
  want="$([ "$kind" = inserted ] && echo insert || echo delete) 2030-07-01T00:00:00Z $leap.0"
  next=$(ip netns exec "$NETNS_SRV" python3 -c '
import json, urllib.request
r = json.load(urllib.request.urlopen("http://127.0.0.1:9123/status", timeout=5))["reference"]
m = urllib.request.urlopen("http://127.0.0.1:9123/metrics", timeout=5).read().decode()
g = [l.split()[1] for l in m.splitlines() if l.startswith("tachyon_leap_next_timestamp_seconds ")]
print(r["next_leap"], r["next_leap_utc"], float(g[0]) if g else "-")' 2>&1)
  if [ "$next" = "$want" ]; then
    pass "leap second $kind: /status and /metrics name it ahead ($next)"
  else
    fail "leap second $kind: /status next_leap, next_leap_utc, /metrics: expected '$want', got '$next'"
  fi
  client ping -c 1 -W 1 "$NETNS_SERVER_V4" >/dev/null 2>&1
  out=$(probe --count 56 --interval 0.2)
  while read -r line; do
    [[ $line == li=* ]] || continue
    li=$(field "$line" li)
    t3=$(field "$line" t3)
    # Served time minus what it would be without the leap (within delay/2).
    d=$(calc "$(field "$line" offset) - $shift")
    if [ "$kind" = inserted ] && [ "$li" = 1 ] && is_true "$d > -0.01 && $d < 0.01 && $t3 < $leap"; then
      pre=$((pre + 1))
    elif [ "$kind" = inserted ] && [ "$li" = 0 ] && is_true "$d > -1.01 && $d < -0.99"; then
      post=$((post + 1))
      is_true "$t3 < $leap" && repeated=$((repeated + 1))
    elif [ "$kind" = deleted ] && [ "$li" = 2 ] && is_true "$d > -0.01 && $d < 0.01 && $t3 < $leap - 1"; then
      pre=$((pre + 1))
    elif [ "$kind" = deleted ] && [ "$li" = 0 ] && is_true "$d > 0.99 && $d < 1.01 && $t3 >= $leap"; then
      post=$((post + 1))
    else
      bad=$((bad + 1))
      echo "  unexpected: $line (served - unleaped: $d s)"
    fi
  done <<<"$out"
  echo "  leap $kind: $pre answers before (LI announced), $post after ($repeated in the repeated 23:59:59), $bad other"
  if [ "$pre" -ge 5 ] && [ "$post" -ge 10 ] && [ "$bad" -le 1 ] &&
    { [ "$kind" = deleted ] || [ "$repeated" -ge 3 ]; }; then
    pass "leap second $kind at 23:59:60 in real answers: LI before, time stepped by the leap after"
  else
    fail "leap second $kind: pre=$pre post=$post repeated=$repeated bad=$bad"
  fi
  if [ "$(logged "leap second $kind: TAI - UTC is now $after s")" = 1 ] && [ "$(logged 'leap second announced')" = 1 ]; then
    pass "leap second $kind: announced and applied, each logged once"
  else
    fail "leap second $kind: log lines missing"
  fi
  stop_tachyond
}
check_leap 38 inserted
check_leap 36 deleted

# --- leap smear, 6 hours into the 24 ---------------------------------------
write_leap_file 38 "$tmp/leap.list"
write_config "source = \"phc\"
leap_file = \"$tmp/leap.list\"
leap_mode = \"smear\""
now=$(date +%s%N)
offset=$(((leap - 6 * 3600 + 37) * 1000000000 - now))
shift=$(calc "($offset - 37000000000) / 1e9")
set_fake "offset_ns $offset" "epoch_ns $now" "noise_ns 50"
if start_tachyond LD_PRELOAD="$fake" FAKE_PTP_CONTROL="$control"; then
  client ping -c 1 -W 1 "$NETNS_SERVER_V4" >/dev/null 2>&1
  a=$(answers 10)
  d=$(calc "$(field "$a" offset_median) - $shift")
  echo "  smear: $a (served - UTC: $d s)"
  # 6 h into the smear the correction is a quarter of a second (+ the few
  # seconds tachyond has been up, at 1/86400: 12 us a second).
  if [ "$(field "$a" li)" = 0 ] && [[ $(field "$a" refid_ip) == 254.* ]] &&
    offset_near "$a" "$shift - 0.25" 0.0003; then
    pass "smear: LI=0, refid $(field "$a" refid_ip), served $d s from UTC (a quarter of the leap)"
  else
    fail "smear: expected li=0, refid 254.x.y.z and served time 0.25 s behind"
  fi
  status=$(ip netns exec "$NETNS_SRV" python3 -c '
import json, urllib.request
r = json.load(urllib.request.urlopen("http://127.0.0.1:9123/status", timeout=5))["reference"]
print(r["leap_smear"], round(r["smear_offset_s"], 4))' 2>&1)
  echo "  /status: leap_smear, smear_offset_s = $status"
  if [[ $status == "True 0.25"* ]]; then
    pass "smear shown in /status: $status"
  else
    fail "smear in /status: '$status'"
  fi
else
  fail "tachyond (smear) did not start"
fi
stop_tachyond

finish
