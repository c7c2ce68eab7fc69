#!/usr/bin/env bash
# Symmetric-key authentication through tachyond, with real clients in a
# network namespace: ntpdig (-k KEYFILE -a ID, ntpd-format keys) and chronyd
# (`key ID`, chrony-format keys) for MD5, SHA1 and AES-128-CMAC; a wrong key
# gets a crypto-NAK no client takes time from; auth.require drops what is not
# authenticated; SIGHUP re-reads the keys file (a new key works, a broken
# file keeps the running keys); the counters in /metrics; no key material in
# the log.
#
#   auth.sh TACHYOND KEYS_DIR
set -uo pipefail
tachyond=$1
keys=$2
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup tau ntpdig chronyd curl

for f in ntpd.keys chrony.keys wrong-ntpd.keys wrong-chrony.keys; do install -m 600 "$keys/$f" "$work/$f"; done
# The server reads the ntpd-format file; the clients their own format.
install -m 600 "$keys/ntpd.keys" "$work/server.keys"

netns_create "$tag" >/dev/null
netns_names "$tag"
netns_write_config "$work/t.toml" af_packet "$NETNS_SRV_IF" "$tag"
cat >>"$work/t.toml" <<CONF

[auth]
keys = "$work/server.keys"

[stats]
listen = "127.0.0.1:9125"
CONF
ip netns exec "$NETNS_SRV" "$tachyond" --config "$work/t.toml" >"$work/log" 2>&1 &
pid=$!
check "tachyond serves with a keys file" e2e_wait_log "$work/log" "tachyond serving on" "$pid"
check "the banner says which keys are loaded" grep -q "auth: 5 key(s) from $work/server.keys (2 MD5, 2 SHA1, 1 AES-CMAC)" "$work/log"
# Let ARP settle before anything is timed.
ip netns exec "$NETNS_CLI" ping -c 2 -W 1 "$NETNS_SERVER_V4" >/dev/null 2>&1

client() { ip netns exec "$NETNS_CLI" taskset -c "$NETNS_CLIENT_CPU" "$@"; }
metric() { e2e_metric 9125 "$1"; }
ntpdig_time='[+-][0-9.]+ \+/- [0-9.]+ 192\.0\.2\.1 s10 no-leap'
chrony_time='System clock wrong by [+-]?[0-9]+\.[0-9]+ seconds'
dig() { client timeout 20 ntpdig -t 2 "$@" "$NETNS_SERVER_V4" 2>&1; }
chrony() {  # KEYFILE ID [TIMEOUT]
  (cd "$work" && client timeout 30 chronyd -Q -t "${3:-6}" "keyfile $1" \
    "server $NETNS_SERVER_V4 iburst key $2 maxsamples 2" 2>&1 | grep -v 'chronyd version')
}
# Retries a check a few times: the first exchange may race ARP or a yield.
retry() {  # COMMAND...
  local i
  for i in 1 2 3; do "$@" && return 0; sleep 1; done
  return 1
}

names=([1]=MD5 [2]=SHA1 [3]=AES-128-CMAC [4]="MD5 (hex key)" [5]="SHA1 (ASCII key)")
dig_ok() { out=$(dig "$@"); echo "  ntpdig $*: $out" | head -3; grep -Eq "$ntpdig_time" <<<"$out"; }
chrony_ok() { out=$(chrony "$@"); echo "  chronyd key $2: $(tr '\n' ' ' <<<"$out")"; grep -Eq "$chrony_time" <<<"$out"; }
for id in 1 2 3 4 5; do
  before=$(metric tachyon_auth_signed_answers_total)
  check "ntpdig ${names[$id]}: accepts the signed answer" retry dig_ok -k "$work/ntpd.keys" -a "$id"
  check "chronyd ${names[$id]}: accepts the signed answer" retry chrony_ok "$work/chrony.keys" "$id"
  after=$(metric tachyon_auth_signed_answers_total)
  check "${names[$id]}: signed answers counted ($before -> $after)" test "$after" -ge $((before + 2))
done

# Wrong keys: a crypto-NAK, which neither client takes time from.
nak_before=$(metric tachyon_auth_crypto_naks_total)
for id in 1 2 3 9; do
  out=$(dig -k "$work/wrong-ntpd.keys" -a "$id")
  echo "  ntpdig wrong key $id: $(tr '\n' ' ' <<<"$out" | cut -c1-160)"
  check "ntpdig wrong key $id: no time taken" bash -c "! grep -Eq '$ntpdig_time' <<<\"\$1\"" _ "$out"
done
out=$(chrony "$work/wrong-chrony.keys" 3 3)
echo "  chronyd wrong key 3: $(tr '\n' ' ' <<<"$out")"
check "chronyd wrong key 3: no time taken" bash -c "! grep -Eq '$chrony_time' <<<\"\$1\"" _ "$out"
nak_after=$(metric tachyon_auth_crypto_naks_total)
check "crypto-NAKs counted ($nak_before -> $nak_after)" test "$nak_after" -ge $((nak_before + 5))

# An unauthenticated client is still answered while auth.require is false.
check "ntpdig without a key: answered" retry dig_ok
check "require off: tachyon_auth_required is 0" bash -c \
  "ip netns exec $NETNS_SRV curl -s http://127.0.0.1:9125/metrics | grep -qx 'tachyon_auth_required 0'"

# --- SIGHUP: the keys file is re-read ---
# Key 7 appears (SHA1); the server must sign with it after the reload.
printf '7 SHA1 %s\n' "$(printf 'tachyon-e2e-key-7-%s' "$tag" | sha1sum | cut -c1-40)" >>"$work/server.keys"
cp "$work/server.keys" "$work/new-ntpd.keys"
check "key 7 unknown before the reload" bash -c "! grep -Eq '$ntpdig_time' <<<\"\$(ip netns exec $NETNS_CLI timeout 20 ntpdig -t 2 -k $work/new-ntpd.keys -a 7 $NETNS_SERVER_V4 2>&1)\""
kill -HUP "$pid"
for _ in $(seq 1 50); do grep -q "reload: auth: 6 key(s)" "$work/log" && break; sleep 0.2; done
check "reload logs the new keys" grep -q "reload: auth: 6 key(s)" "$work/log"
check "ntpdig key 7 (added by the reload): signed answer accepted" retry dig_ok -k "$work/new-ntpd.keys" -a 7
# A broken keys file: the reload says where, and the running keys stay.
echo "8 SHA1 not-hex-and-far-too-long-for-an-ascii-key-0123456789" >>"$work/server.keys"
kill -HUP "$pid"
for _ in $(seq 1 50); do grep -q "keeping the running keys" "$work/log" && break; sleep 0.2; done
check "a broken keys file is reported with its line" grep -q "server.keys:[0-9]*:" "$work/log"
check "a broken keys file keeps the running keys" grep -q "keeping the running keys (6 key(s))" "$work/log"
check "key 7 still works" retry dig_ok -k "$work/new-ntpd.keys" -a 7

# --- auth.require = true (restart) ---
kill -TERM "$pid"
wait "$pid" 2>/dev/null
head -n -1 "$work/server.keys" >"$work/k" && install -m 600 "$work/k" "$work/server.keys"
sed -i 's/^\[auth\]$/[auth]\nrequire = true/' "$work/t.toml"
ip netns exec "$NETNS_SRV" "$tachyond" --config "$work/t.toml" >>"$work/log" 2>&1 &
pid=$!
e2e_wait_log "$work/log" "MAC required" "$pid"
check "tachyond restarts with auth.require" grep -q "MAC required" "$work/log"
sleep 1
out=$(dig)
echo "  ntpdig without a key: $(tr '\n' ' ' <<<"$out" | cut -c1-160)"
check "require: an unauthenticated request gets nothing" bash -c "! grep -Eq '$ntpdig_time' <<<\"\$1\"" _ "$out"
out=$(dig -k "$work/wrong-ntpd.keys" -a 1)
check "require: a wrong MAC gets nothing" bash -c "! grep -Eq '$ntpdig_time' <<<\"\$1\"" _ "$out"
check "require: chronyd with AES-CMAC is served" retry chrony_ok "$work/chrony.keys" 3
dropped=$(ip netns exec "$NETNS_SRV" curl -s "http://127.0.0.1:9125/metrics" |
  awk '/^tachyon_drops_total/ && /reason="auth_(required|failed)"/ { s += $2 } END { print s + 0 }')
check "require: the drops are counted by reason ($dropped)" test "$dropped" -ge 2
check "require on: tachyon_auth_required is 1" test "$(metric tachyon_auth_required)" = 1
required=$(ip netns exec "$NETNS_SRV" curl -s "http://127.0.0.1:9125/status" |
  python3 -c 'import json, sys; a = json.load(sys.stdin)["auth"]; print(a["required"], a["keys"])')
check "require on: /status says so, with the keys ($required)" test "$required" = "True 6"
# SIGHUP with require = false: the setting is live, and so is its gauge.
sed -i 's/^require = true$/require = false/' "$work/t.toml"
reloads=$(grep -c "reload: auth:" "$work/log")
kill -HUP "$pid"
for _ in $(seq 1 50); do [ "$(grep -c "reload: auth:" "$work/log")" -gt "$reloads" ] && break; sleep 0.2; done
check "reload to require = false: tachyon_auth_required is 0" test "$(metric tachyon_auth_required)" = 0
check "reload to require = false: ntpdig without a key is answered" retry dig_ok

# No key material in the log (each key's text, as the fixtures hold it).
leak=0
while read -r id type secret; do
  [[ $id =~ ^[0-9]+$ ]] || continue
  grep -qF -- "$secret" "$work/log" && leak=1
done <"$work/server.keys"
check "no key in the log" test "$leak" = 0
kill -TERM "$pid"
wait "$pid" 2>/dev/null
pid=
check "tachyond stops cleanly" grep -q "final counters\|stopped" "$work/log"

echo "auth e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
