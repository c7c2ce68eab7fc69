#!/usr/bin/env bash
# The real ntpdig (NTPsec) and chronyd against the auth module, on loopback,
# through tests/auth/auth_udp_server.cc, for MD5, SHA1 and AES-128-CMAC:
#
#   real_clients.sh AUTH_UDP_SERVER DATA_DIR
#
# For each algorithm: the client's authenticated request verifies at the
# server (its log says auth=valid) and the client accepts the signed answer
# (ntpdig prints the time, chronyd "System clock wrong by"); with a wrong
# key or a key id the server lacks, the server sends a crypto-NAK and the
# client takes no time from it; with --require an unauthenticated request
# gets nothing.
#
# ntpdig has no port option and always asks for the "ntp" service, so it runs
# unmodified under a few lines of Python mapping that lookup to the test
# server's ephemeral port (as tests/core/ntpq_control.sh does for ntpq).
# chronyd runs with -Q (measure only, no clock change, no pid file) and its
# directives on the command line. Exits 77 (skipped) when a client is missing.
set -euo pipefail

server=$1
data=$2
python=/usr/bin/python3  # ntpdig's modules are in Debian's python3-ntp
ntpdig=$(command -v ntpdig || true)
chronyd=$(command -v chronyd || true)
if [ -z "$ntpdig" ] || [ -z "$chronyd" ] || [ ! -x "$python" ]; then
  echo "SKIP: needs ntpdig, chronyd and $python (tools/setup.sh installs them)"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tachyon-auth.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Keys files as an operator would keep them (git does not keep modes).
for f in ntpd.keys chrony.keys wrong-ntpd.keys wrong-chrony.keys; do
  install -m 600 "$data/$f" "$work/$f"
done

# shellcheck source=../support/loopback.sh
. "$(dirname "$0")/../support/loopback.sh"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# ntpdig_at PORT ARGS...: prints ntpdig's output (stdout and stderr).
ntpdig_at() {
  local port=$1
  shift
  run_on_port "$port" "$ntpdig" -t 2 "$@" 127.0.0.1 2>&1 || true
}
# chronyd_at PORT KEYFILE KEY_ID: prints chronyd's output.
chronyd_at() {
  (cd "$work" && timeout 30 "$chronyd" -Q -t "$4" "keyfile $2" \
    "server 127.0.0.1 port $1 iburst key $3 maxsamples 2" 2>&1 | grep -v 'chronyd version') || true
}
# server_said NAME COUNT: the last COUNT lines of a server's log.
server_said() { tail -n "$2" "$work/$1.log"; }

ntpdig_time='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ \(\+0000\) [+-][0-9.]+ \+/- [0-9.]+ 127\.0\.0\.1 s1 no-leap$'
chrony_time='System clock wrong by [+-]?[0-9]+\.[0-9]+ seconds'

start_server 280 open --keys "$work/ntpd.keys"
start_server 280 required --keys "$work/chrony.keys" --require
port=$(cat "$work/open.port")
required_port=$(cat "$work/required.port")

# key id -> algorithm in the fixtures (1-3 ASCII/hex; 4 hex MD5, 5 ASCII SHA1).
names=([1]=MD5 [2]=SHA1 [3]=AES-128-CMAC [4]="MD5 (hex key)" [5]="SHA1 (ASCII key)")
macs=([1]=68 [2]=72 [3]=68 [4]=68 [5]=72)

for id in 1 2 3 4 5; do
  alg=${names[$id]}
  # --- ntpdig, ntpd-format keys file ---
  out=$(ntpdig_at "$port" -k "$work/ntpd.keys" -a "$id")
  log=$(server_said open 1)
  echo "  ntpdig key $id: $out"
  echo "  server: $log"
  if [[ $log == *"auth=valid key=$id -> signed answer, ${macs[$id]} bytes"* ]]; then
    pass "ntpdig $alg: the request verifies"
  else
    fail "ntpdig $alg: the server did not verify the request"
  fi
  if grep -Eq "$ntpdig_time" <<<"$out"; then
    pass "ntpdig $alg: ntpdig accepts the signed answer"
  else
    fail "ntpdig $alg: ntpdig did not accept the signed answer"
  fi

  # --- chronyd, chrony-format keys file ---
  out=$(chronyd_at "$port" "$work/chrony.keys" "$id" 6)
  log=$(server_said open 1)
  echo "  chronyd key $id: $(tr '\n' ' ' <<<"$out")"
  echo "  server: $log"
  if [[ $log == *"auth=valid key=$id -> signed answer, ${macs[$id]} bytes"* ]]; then
    pass "chronyd $alg: the request verifies"
  else
    fail "chronyd $alg: the server did not verify the request"
  fi
  if grep -Eq "$chrony_time" <<<"$out"; then
    pass "chronyd $alg: chronyd accepts the signed answer"
  else
    fail "chronyd $alg: chronyd did not accept the signed answer"
  fi
done

# --- wrong keys: a crypto-NAK, and no time taken from it ---
for id in 1 2 3 9; do
  what="wrong key $id"
  expect="bad_mac"
  if [ "$id" = 9 ]; then what="key id 9 the server lacks"; expect="unknown_key"; fi
  out=$(ntpdig_at "$port" -k "$work/wrong-ntpd.keys" -a "$id")
  log=$(server_said open 1)
  echo "  ntpdig $what: $(tr '\n' ' ' <<<"$out" | cut -c1-160)"
  echo "  server: $log"
  if [[ $log == *"auth=$expect key=$id -> crypto-NAK answer, 52 bytes"* ]]; then
    pass "ntpdig $what: the server answers a crypto-NAK"
  else
    fail "ntpdig $what: no crypto-NAK"
  fi
  # NTPsec 1.2.2's ntpdig rejects the answer (its MAC check fails) and then
  # trips over its own bookkeeping (read_append: 'bytes' object has no
  # attribute 'trusted'); either way it must print no time.
  if ! grep -Eq "$ntpdig_time" <<<"$out"; then
    pass "ntpdig $what: ntpdig takes no time from the crypto-NAK"
  else
    fail "ntpdig $what: ntpdig took the time of a crypto-NAK"
  fi
done
for id in 3 9; do
  out=$(chronyd_at "$port" "$work/wrong-chrony.keys" "$id" 3)
  log=$(server_said open 1)
  echo "  chronyd wrong key $id: $(tr '\n' ' ' <<<"$out")"
  echo "  server: $log"
  if [[ $log == *"-> crypto-NAK answer, 52 bytes"* ]] && ! grep -Eq "$chrony_time" <<<"$out"; then
    pass "chronyd key $id mismatch: a crypto-NAK, which chronyd does not use"
  else
    fail "chronyd key $id mismatch"
  fi
done

# --- require = true ---
out=$(ntpdig_at "$required_port")
log=$(server_said required 1)
echo "  ntpdig, no key, server requires one: $(tr '\n' ' ' <<<"$out" | cut -c1-160)"
echo "  server: $log"
if [[ $log == *"auth=none key=0 -> drop (auth_required)"* ]] && ! grep -Eq "$ntpdig_time" <<<"$out"; then
  pass "require: an unauthenticated request gets nothing"
else
  fail "require: an unauthenticated request was answered"
fi
out=$(ntpdig_at "$required_port" -k "$work/wrong-ntpd.keys" -a 1)
log=$(server_said required 1)
echo "  server: $log"
if [[ $log == *"auth=bad_mac key=1 -> drop (auth_failed)"* ]]; then
  pass "require: a wrong MAC gets nothing, not even a crypto-NAK"
else
  fail "require: a wrong MAC was answered"
fi
out=$(chronyd_at "$required_port" "$work/chrony.keys" 3 6)
log=$(server_said required 1)
echo "  server: $log"
if [[ $log == *"auth=valid key=3 -> signed answer, 68 bytes"* ]] && grep -Eq "$chrony_time" <<<"$out"; then
  pass "require: chronyd with AES-CMAC is served"
else
  fail "require: chronyd with AES-CMAC was not served"
fi

if grep -q BUG "$work/open.log" "$work/required.log"; then fail "an answer was longer than its request"; fi
echo "auth real clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
