#!/usr/bin/env bash
# The real ntpq (NTPsec 1.2) against core::respond_control(), over IPv4 and
# IPv6 loopback, through tests/core/control_udp_server.cc:
#
#   ntpq_control.sh CONTROL_UDP_SERVER
#
# NTPsec's ntpq has no port option: it always looks up the "ntp" service
# (port 123). So that the test needs no privilege and no fixed port, ntpq
# runs unmodified under a few lines of Python that map that one service
# lookup to the test server's ephemeral port. Exits 77 (skipped) when ntpq
# or python3-ntp is missing (tools/setup.sh installs them).
set -euo pipefail

server=$1
ntpq=${NTPQ:-/opt/tachyon-test/ntpsec/usr/bin/ntpq}
python=/usr/bin/python3  # ntpq's modules are in Debian's python3-ntp, not in a pyenv
if [ ! -f "$ntpq" ] || [ ! -x "$python" ]; then
  echo "SKIP: no ntpq at $ntpq (tools/setup.sh unpacks it)"
  exit 77
fi
if ! PYTHONPATH= "$python" -c 'import ntp.packet, ntp.util' 2>/dev/null; then
  echo "SKIP: python3-ntp is not installed"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tachyon-ntpq.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=../support/loopback.sh
. "$(dirname "$0")/../support/loopback.sh"

# ntpq_at NAME PORT ARGS...: runs ntpq; stdout in $work/NAME.out, stderr in $work/NAME.err.
ntpq_at() {
  local name=$1 port=$2
  shift 2
  echo "\$ ntpq $*" >"$work/$name.cmd"
  run_on_port "$port" "$ntpq" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" || true
}

failures=0
show() {
  cat "$work/$1.cmd"
  sed 's/^/    /' "$work/$1.out"
  if [ -s "$work/$1.err" ]; then sed 's/^/    (stderr) /' "$work/$1.err"; fi
}
# expect NAME out|err REGEX DESCRIPTION
expect() {
  if grep -Eq -- "$3" "$work/$1.$2"; then
    echo "ok: $4"
  else
    echo "FAIL: $4: no match for /$3/ in"
    show "$1"
    failures=$((failures + 1))
  fi
}
expect_none() {
  if grep -Eq -- "$3" "$work/$1.$2"; then
    echo "FAIL: $4: /$3/ found in"
    show "$1"
    failures=$((failures + 1))
  else
    echo "ok: $4"
  fi
}

start_server 110 fixed
start_server 110 extreme --extreme
port=$(cat "$work/fixed.port")
extreme_port=$(cat "$work/extreme.port")

for host in 127.0.0.1 ::1; do
  tag=${host//[.:]/_}

  ntpq_at "peers$tag" "$port" -p "$host"
  show "peers$tag"
  expect "peers$tag" out '^ +remote +refid +st t when poll reach +delay +offset +jitter$' "$host: ntpq -p header"
  # The reference: sys.peer tally '*', named by srchost, refid, stratum 0
  # below our stratum 1, type l(ocal refclock), 16 s poll, reach 377, and
  # delay/offset/jitter as served.
  expect "peers$tag" out '^\*phc\(2\) +\.PHC\. +0 l +[0-9]+ +16 +377 +0\.0003 +-0\.0012 +0\.0057$' \
    "$host: ntpq -p lists the reference with the * tally"
  expect_none "peers$tag" err '.' "$host: ntpq -p prints no error"

  ntpq_at "rv$tag" "$port" -c rv "$host"
  show "rv$tag"
  expect "rv$tag" out '^associd=0 status=0700 leap_none, sync_other, no events, unspecified,$' "$host: rv status word"
  expect "rv$tag" out '(^|, )leap=00(,|$)' "$host: rv leap"
  expect "rv$tag" out '(^|, )stratum=1(,|$)' "$host: rv stratum"
  expect "rv$tag" out '(^|, )refid=PHC(,|$)' "$host: rv refid"
  expect "rv$tag" out '(^|, )precision=-24(,|$)' "$host: rv precision"
  expect "rv$tag" out '(^|, )rootdisp=15\.625(,|$)' "$host: rv rootdisp"
  expect "rv$tag" out '(^|, )rootdelay=0\.0(,|$)' "$host: rv rootdelay"
  expect "rv$tag" out '(^|, )reftime=[0-9a-f]{8}\.00000000 [0-9-]{10}T' "$host: rv reftime"
  expect "rv$tag" out '(^|, )clock=[0-9a-f]{8}\.[0-9a-f]{8} [0-9-]{10}T' "$host: rv clock"
  expect "rv$tag" out '(^|, )peer=1(,|$)' "$host: rv peer"
  expect "rv$tag" out '(^|, )tai=37(,|$)' "$host: rv tai"
  expect "rv$tag" out '(^|, )offset=-0\.001234(,|$)' "$host: rv offset"
  expect "rv$tag" out '(^|, )expire="2026-06-30T00:00Z"(,|$)' "$host: rv leap file expiry"
  expect "rv$tag" out '(^|, )version="tachyond 0\.1\.0-test"(,|$)' "$host: rv version"
  expect "rv$tag" out '(^|, )ref_state="synchronized"(,|$)' "$host: rv reference state"
  expect_none "rv$tag" err '.' "$host: rv prints no error"

  ntpq_at "rvlist$tag" "$port" -c "rv 0 stratum,leap" "$host"
  show "rvlist$tag"
  if [ "$(cat "$work/rvlist$tag.out")" = "leap=00, stratum=1" ]; then
    echo "ok: $host: rv 0 stratum,leap returns exactly those"
  else
    echo "FAIL: $host: rv 0 stratum,leap"
    failures=$((failures + 1))
  fi

  ntpq_at "rv1$tag" "$port" -c "rv 1" "$host"
  show "rv1$tag"
  expect "rv1$tag" out '^associd=1 status=9600 conf, reach, sel_sys\.peer, no events,$' "$host: rv 1 status word"
  expect "rv1$tag" out '(^|, )srcadr=127\.127\.1\.2(,|$)' "$host: rv 1 srcadr"
  expect "rv1$tag" out '(^|, )srchost="phc\(2\)"(,|$)' "$host: rv 1 srchost"
  expect "rv1$tag" out '(^|, )reach=377(,|$)' "$host: rv 1 reach"
  expect "rv1$tag" out '(^|, )stratum=0(,|$)' "$host: rv 1 stratum"
done

ntpq_at assoc "$port" -c associations 127.0.0.1
show assoc
expect assoc out '^ +1 +1 +9600 +yes +yes +none +sys\.peer +0$' "associations: one configured, reachable sys.peer"

ntpq_at unknownvar "$port" -c "rv 0 stratum,nosuchvar" 127.0.0.1
show unknownvar
expect unknownvar err '^\*\*\*Server error code UNKNOWNVAR$' "an unknown variable is a clean error"

ntpq_at mru "$port" -c mrulist 127.0.0.1
show mru
expect mru err '^\*\*\*Server error code BADOP$' "mrulist (nonce, MRU) is a clean error"

ntpq_at sysinfo "$port" -n -c sysinfo 127.0.0.1
show sysinfo
expect sysinfo out '^system peer mode: +client$' "sysinfo shows the system peer mode"
expect sysinfo out '^root distance +15\.625$' "sysinfo shows the root distance"
expect_none sysinfo err 'Traceback' "sysinfo does not crash ntpq"

# The largest answers: every variable at its widest, all requested at once.
sysvars=version,leap,stratum,precision,rootdelay,rootdisp,rootdist,refid,reftime,tc,peer,peermode
sysvars=$sysvars,offset,frequency,sys_jitter,clock,tai,expire,ss_uptime,ref_source,ref_state
peervars=srcadr,srchost,leap,stratum,precision,rootdelay,rootdisp,refid,reftime,rec,reach,hmode,pmode
peervars=$peervars,hpoll,ppoll,flash,offset,delay,dispersion,jitter
ntpq_at largest "$extreme_port" -c "rv 0 $sysvars" -c "rv 1 $peervars" -p ::1
show largest
expect largest out '(^|, )version="v{31}"(,|$)' "largest system answer: first variable"
expect largest out '(^|, )ref_state="t{15}"$' "largest system answer: last variable"
expect largest out '(^|, )srchost="s{15}\(255\)"(,|$)' "largest peer answer: first variables"
expect largest out '(^|, )jitter=999999\.999999$' "largest peer answer: last variable"
expect largest out '^\*s{15} ' "largest answers: ntpq -p still lists the reference"
expect_none largest err '.' "largest answers: ntpq reports nothing wrong"

kill "${pids[@]}" 2>/dev/null || true
wait 2>/dev/null || true
pids=()
echo "server fixed: $(tail -n 1 "$work/fixed.log")"
echo "server extreme: $(tail -n 1 "$work/extreme.log")"
if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all ntpq checks passed"
