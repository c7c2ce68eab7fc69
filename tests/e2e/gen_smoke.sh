#!/usr/bin/env bash
# End-to-end smoke test of tachyon-gen, a short and slow version of the
# benchmarks (bench/memif_bench.sh, bench/veth_bench.sh): no timing is
# asserted, only that every server answers and no answer is invalid.
#
#   sudo tests/e2e/gen_smoke.sh TACHYOND TACHYON_GEN REFLECTOR
#
#   memif: tachyond (IPv4 and IPv6, every kind of request, a short ramp,
#          interleaved mode, bursts, 802.1Q VLAN with --count, requests
#          signed with --keys, right and wrong), the
#          reflector (--echo); Ctrl-C prints the table; clear errors for
#          a device that does not probe, a server that does not answer ARP
#          and --hugepages where DPDK can use none
#   veth:  tachyond and the reflector on net_af_xdp, and chronyd on the
#          kernel's socket (also in interleaved mode, and with signed
#          requests: MD5 and AES-CMAC), from tachyon-gen on
#          net_af_packet in the other namespace; the three DPDK programs on
#          2 MiB hugepages, as bench/veth_bench.sh runs them (reserved here
#          and given back), which must all be free again once they exit
#   tap:   two tachyon-gen workers (RSS) against chronyd on the tap's
#          kernel side
#
# The reflector part is skipped if REFLECTOR does not exist (benchmarks not
# built). Prints one PASS/FAIL line per check and "gen smoke: N passed, M
# failed". Exit status: 0 if all passed, 1 if any failed, 77 (skip) without
# root or `ip netns`.
# shellcheck source-path=SCRIPTDIR/../..
# shellcheck disable=SC2317  # cleanup runs from a trap
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 TACHYOND TACHYON_GEN REFLECTOR" >&2
  exit 2
fi
tachyond=$1
gen=$2
reflector=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_begin "gen smoke"
# shellcheck source=tools/hugepages.sh
. "$here/../../tools/hugepages.sh"
tag=e2egen
netns_names "$tag"
tmp=$(mktemp -d /tmp/tachyon-gen-smoke.XXXXXX)
server_pid=
chronyd_started=0
# Poll loops on distinct CPUs where there are two.
server_cpu=$(netns_worker_cpu)
gen_cpu=0

cleanup() {
  e2e_kill "$server_pid"
  if [ "$chronyd_started" = 1 ] && [ -s "$tmp/chronyd.pid" ]; then
    kill -TERM "$(cat "$tmp/chronyd.pid")" 2>/dev/null
  fi
  if [ -s "$tmp/chronyd-tap.pid" ]; then
    kill -TERM "$(cat "$tmp/chronyd-tap.pid")" 2>/dev/null
  fi
  ip netns del "$tag-tap" 2>/dev/null
  netns_delete "$tag"
  hugepages_release
  rm -rf "$tmp"
}
trap cleanup EXIT

e2e_need python3 chronyd timeout
[ -x "$tachyond" ] || fail "tachyond not found at '$tachyond'"
[ -x "$gen" ] || fail "tachyon-gen not found at '$gen'"
[ "$failed" -eq 0 ] || e2e_finish

# Runs the generator (bounded in time), keeping its output; GEN_NS runs it
# in the client namespace.
GEN_NS=
run_gen() {  # NAME JSON ARGS...
  local name=$1 json=$2
  shift 2
  local cmd=("$gen" --cpus "$gen_cpu" --file-prefix "gen_smoke_$$" -q --json "$json" "$@")
  [ -n "$GEN_NS" ] && cmd=(ip netns exec "$GEN_NS" "${cmd[@]}")
  timeout 60 "${cmd[@]}" >"$tmp/$name.out" 2>&1
  local status=$?
  sed 's/^/    /' "$tmp/$name.out"
  return $status
}

# Checks a --json result: STEPS steps at least, no invalid answer, and
# every step answered: at least half of what it sent over memif, at least
# something over a veth. (There, on a busy machine, the server's answers
# wait for the kernel's softirq thread on the server's CPU, which its
# busy-polling worker starves: loss is no fault of the generator's.)
# STRICT=0 selects the veth criterion.
STRICT=1
check_result() {  # NAME JSON MIN_STEPS [EXTRA_PYTHON_CONDITION]
  local name=$1 json=$2 min_steps=$3 extra=${4:-True}
  local verdict
  verdict=$(python3 - "$json" "$min_steps" "$extra" "$STRICT" <<'EOF' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
steps = d["steps"]
problems = []
if len(steps) < int(sys.argv[2]):
    problems.append(f"{len(steps)} steps")
for s in steps:
    if s["invalid"]:
        problems.append(f"step {s['step']}: {s['invalid']} invalid {s['invalid_by_reason']}")
    strict = sys.argv[4] == "1"
    if s["sent"] == 0 or s["answered"] == 0 or (strict and s["answered"] * 2 < s["sent"]):
        problems.append(f"step {s['step']}: {s['answered']} of {s['sent']} answered")
    # The per-kind figures add up to the step's, and over memif every kind
    # of request is answered on its own (tachyond, which has no keys here,
    # answers a +mac request with a crypto-NAK: refused, but answered).
    kinds = s["by_kind"]
    if sum(k["sent"] for k in kinds) != s["sent"] or sum(k["answered"] for k in kinds) != s["answered"]:
        problems.append(f"step {s['step']}: per-kind counts do not add up: {kinds}")
    for k in kinds:
        if strict and (k["answered"] + k["refused"]) * 2 < k["sent"]:
            problems.append(f"step {s['step']}: {k['kind']}: {k['answered']} + {k['refused']} refused of {k['sent']}")
if not eval(sys.argv[3], {"d": d, "steps": steps}):
    problems.append("condition failed: " + sys.argv[3])
total = sum(s["answered"] for s in steps)
refused = sum(k["refused"] for s in steps for k in s["by_kind"])
sent = sum(s["sent"] for s in steps)
note = f" and {refused} refused" if refused else ""
note += "" if (total + refused) * 2 >= sent else f" (of {sent} sent: a busy machine)"
print("; ".join(problems) if problems else f"ok: {len(steps)} steps, {total} answered{note}, 0 invalid")
EOF
)
  if [[ $verdict == ok:* ]]; then pass "$name: ${verdict#ok: }"; else fail "$name: $verdict"; fi
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=
}

mix='v4=60,v3=10,v2=5,v1=5,v4+sym=5,v2+sym=5,v4+ef=4,v4+mac=3,v4+ef+mac=3'
echo "gen smoke: tachyond on CPU $server_cpu, tachyon-gen on CPU $gen_cpu"

# ---------------------------------------------------------------- memif
sock=$tmp/tachyond.sock
cat >"$tmp/tachyond-memif.toml" <<EOF
[eal]
memory_mb = 256
file_prefix = "gen_smoke_srv_$$"
control_cpu = 0
worker_cpus = [$server_cpu]

[port]
device = "net_memif0,role=server,socket=$sock"

[server]
ipv4 = ["192.0.2.1/24"]
ipv6 = ["2001:db8::1/64"]

[reference]
local_stratum = 10

[stats]
listen = "127.0.0.1:9129"
EOF
memif_sessions=0
# One tachyond per generator session: DPDK 22.11's memif may crash the
# server's poll loop when its client disconnects (a race in the PMD), which
# must not spoil the next session.
start_memif_tachyond() {  # [CONFIG]
  memif_sessions=$((memif_sessions + 1))
  local log=$tmp/tachyond-memif-$memif_sessions.log
  "$tachyond" --config "${1:-$tmp/tachyond-memif.toml}" >"$log" 2>&1 &
  server_pid=$!
  e2e_wait_log "$log" "tachyond serving on" "$server_pid" && return 0
  fail "memif: tachyond did not start: $(cat "$log")"
  stop_server
  return 1
}
stop_memif_tachyond() {
  local status=0
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null || status=$?
  server_pid=
  echo "    tachyond $(grep -o 'dropped: .*' "$tmp/tachyond-memif-$memif_sessions.log")"
  if [ "$status" -gt 128 ]; then
    echo "    note: tachyond died of signal $((status - 128)) when tachyon-gen disconnected (DPDK 22.11 memif race)"
  fi
}
memif=(-d "net_memif0,role=client,socket=$sock")

if start_memif_tachyond; then
  pass "memif: tachyond serving"
  run_gen memif-v4 "$tmp/memif-v4.json" "${memif[@]}" -s 192.0.2.1 -r 2000 -t 2 --warmup 0.2 --mix "$mix" &&
    check_result "memif tachyond IPv4, every kind of request" "$tmp/memif-v4.json" 1 \
      'd["config"]["server_mac_resolved"] and steps[0]["unsynchronized"] == 0' ||
    fail "memif tachyond IPv4: tachyon-gen failed"
  stop_memif_tachyond
fi
if start_memif_tachyond; then
  run_gen memif-v6 "$tmp/memif-v6.json" "${memif[@]}" -s 2001:db8::1 --source 2001:db8::8000/113 -r 2000 -t 2 \
    --warmup 0.2 --mix "$mix" &&
    check_result "memif tachyond IPv6, every kind of request" "$tmp/memif-v6.json" 1 ||
    fail "memif tachyond IPv6: tachyon-gen failed"
  stop_memif_tachyond
fi
if start_memif_tachyond; then
  # Interleaved mode (tachyond's is on by default): a client's first answer
  # is basic, most of the others must be interleaved -- and all valid, with
  # the previous answer's transmit timestamp.
  clients=64
  run_gen memif-xleave "$tmp/memif-xleave.json" "${memif[@]}" -s 192.0.2.1 --interleaved --clients $clients -r 2000 \
    -t 2 --warmup 0 &&
    check_result "memif tachyond interleaved mode" "$tmp/memif-xleave.json" 1 \
      "d['config']['interleaved'] and steps[0]['interleaved'] > 0.5 * (steps[0]['answered'] - $clients)" ||
    fail "memif tachyond interleaved mode: tachyon-gen failed"
  python3 - "$tmp/memif-xleave.json" <<'EOF' 2>/dev/null
import json, sys
s = json.load(open(sys.argv[1]))["steps"][0]
print("    %d interleaved, %d basic answers (%.1f%% interleaved)"
      % (s["interleaved"], s["basic"], s["interleaved_pct"]))
EOF
  stop_memif_tachyond
fi
if start_memif_tachyond; then
  # --burst 32: the requests leave in whole bursts of 32 at the same
  # average rate, and tachyond receives them so (its burst histogram).
  # Without it, 3200/s arrive one by one.
  run_gen memif-burst "$tmp/memif-burst.json" "${memif[@]}" -s 192.0.2.1 -r 3200 -t 1 --warmup 0 --burst 32 &&
    check_result "memif tachyond, requests in bursts of 32" "$tmp/memif-burst.json" 1 ||
    fail "memif tachyond --burst: tachyon-gen failed"
  bursts=$(curl -s --max-time 5 http://127.0.0.1:9129/metrics | python3 -c '
import re, sys
le = {m.group(1): float(m.group(2)) for m in
      re.finditer(r"^tachyon_rx_burst_frames_bucket\{[^}]*le=\"([^\"]+)\"\} (\S+)", sys.stdin.read(), re.M)}
print("%.0f %.0f" % (le["+Inf"] - le["16"], le["+Inf"]))' 2>&1)  # the last bucket: 17-32 frames
  read -r whole all <<<"$bursts"
  if [[ $whole =~ ^[0-9]+$ ]] && [ "$whole" -ge 90 ]; then
    pass "memif: tachyond received $whole bursts of 17-32 frames (of $all non-empty polls) from --burst 32"
  else
    fail "memif: --burst 32 did not arrive in bursts ($bursts)"
  fi
  stop_memif_tachyond
fi
if start_memif_tachyond; then
  run_gen memif-ramp "$tmp/memif-ramp.json" "${memif[@]}" -s 192.0.2.1 --ramp --start-rate 1000 --multiplier 2 \
    --max-rate 4000 --step 0.5 --warmup 0 --max-loss 50 &&
    check_result "memif tachyond ramp 1k-4k/s" "$tmp/memif-ramp.json" 3 \
      'd["result"]["stop_reason"] == "max_rate" and d["result"]["max_loss_free_rate"]' ||
    fail "memif tachyond ramp: tachyon-gen failed"
  stop_memif_tachyond
fi
# --loss-retries: answers count as lost after 1 us here (--timeout), so the
# first step fails; it must be run once more at the same rate (a retry),
# fail again, and end the ramp with no loss-free rate.
if start_memif_tachyond; then
  if run_gen memif-retry "$tmp/memif-retry.json" "${memif[@]}" -s 192.0.2.1 --ramp --start-rate 1000 \
    --step 0.3 --warmup 0 --timeout 0.000001 --loss-retries 1; then
    verdict=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
seen = [(s["kind"], s["offered_rate"], s["passed"]) for s in d["steps"]]
r = d["result"]
ok = (seen == [("ramp", 1000, False), ("retry", 1000, False)] and r["stop_reason"] == "loss"
      and r["max_loss_free_rate"] is None and r["passed_when_run_again"] == []
      and d["config"]["ramp"]["loss_retries"] == 1)
print("ok" if ok else f"steps {seen}, result {r}")' "$tmp/memif-retry.json" 2>&1)
    if [ "$verdict" = ok ] && grep -q "a failed step run again up to 1 time" "$tmp/memif-retry.out"; then
      pass "memif: --loss-retries 1 runs a failed step once more, then the ramp ends at the loss"
    else
      fail "memif: --loss-retries: $verdict"
    fi
  else
    fail "memif --loss-retries ramp: tachyon-gen failed"
  fi
  stop_memif_tachyond
fi
# 802.1Q: tachyond on VLAN 100; the generator's tagged requests (IPv4 and
# IPv6, --count instead of a duration) are answered, untagged ones are not.
sed 's/^\[server\]$/[server]\nvlan = 100/' "$tmp/tachyond-memif.toml" >"$tmp/tachyond-vlan.toml"
if start_memif_tachyond "$tmp/tachyond-vlan.toml"; then
  run_gen memif-vlan "$tmp/memif-vlan.json" "${memif[@]}" -s 192.0.2.1 --vlan 100 -r 2000 -n 2000 --warmup 0 \
    --mix 'v4=8,v3=1,v4+sym=1' &&
    check_result "memif tachyond on VLAN 100, IPv4, --count 2000" "$tmp/memif-vlan.json" 1 \
      'steps[0]["sent"] == 2000 and d["config"]["vlan"] == 100 and d["result"]["stop_reason"] == "count"' ||
    fail "memif tachyond VLAN IPv4: tachyon-gen failed"
  stop_memif_tachyond
fi
if start_memif_tachyond "$tmp/tachyond-vlan.toml"; then
  run_gen memif-vlan6 "$tmp/memif-vlan6.json" "${memif[@]}" -s 2001:db8::1 --source 2001:db8::8000/113 --vlan 100 \
    -r 2000 -n 2000 --warmup 0 &&
    check_result "memif tachyond on VLAN 100, IPv6" "$tmp/memif-vlan6.json" 1 'steps[0]["sent"] == 2000' ||
    fail "memif tachyond VLAN IPv6: tachyon-gen failed"
  stop_memif_tachyond
fi
if start_memif_tachyond "$tmp/tachyond-vlan.toml"; then
  timeout 30 "$gen" "${memif[@]}" -s 192.0.2.1 --resolve-timeout 1 --cpus "$gen_cpu" \
    --file-prefix "gen_smoke_untagged_$$" -q >"$tmp/untagged.out" 2>&1
  status=$?
  if [ "$status" = 1 ] && grep -q "no ARP reply from 192.0.2.1" "$tmp/untagged.out"; then
    pass "untagged requests to tachyond on VLAN 100: no ARP answer, exit status 1"
  else
    fail "untagged requests to tachyond on VLAN 100: exit status $status: $(cat "$tmp/untagged.out")"
  fi
  stop_memif_tachyond
fi
# --keys: tachyond reads the ntpd-format keys file, tachyon-gen the same
# keys in chrony's format. Signed requests (SHA1, a 24-byte MAC) must all be
# answered with a MAC that verifies; with the wrong secrets under the same
# ids, every signed request gets a crypto-NAK and no answer is invalid.
keys=$here/../auth/data
for f in ntpd.keys chrony.keys wrong-chrony.keys; do install -m 600 "$keys/$f" "$tmp/$f"; done
printf '\n[auth]\nkeys = "%s"\n' "$tmp/ntpd.keys" | cat "$tmp/tachyond-memif.toml" - >"$tmp/tachyond-auth.toml"
signed_mix='v4+mac=2,v3+mac=1,v4+ef+mac=1,v4=1'
if start_memif_tachyond "$tmp/tachyond-auth.toml"; then
  run_gen memif-signed "$tmp/memif-signed.json" "${memif[@]}" -s 192.0.2.1 -r 2000 -t 1 --warmup 0 \
    --keys "$tmp/chrony.keys" --mac-key-id 2 --mix "$signed_mix" &&
    check_result "memif tachyond, requests signed with SHA1 key 2: every answer's MAC verifies" \
      "$tmp/memif-signed.json" 1 \
      'd["config"]["keys"]["algorithm"] == "SHA1" and all(k["answered"] > 0 and k["refused"] == 0 for k in steps[0]["by_kind"])' ||
    fail "memif tachyond, signed requests: tachyon-gen failed"
  grep -q "+mac requests signed with key 2 (SHA1) from $tmp/chrony.keys; their answers' MACs checked" \
    "$tmp/memif-signed.out" || fail "memif signed requests: the header does not name the key"
  stop_memif_tachyond
fi
if start_memif_tachyond "$tmp/tachyond-auth.toml"; then
  # Four in five requests get a NAK, no time: the step's "half answered"
  # rule does not apply (STRICT=0); the condition checks each kind.
  STRICT=0
  run_gen memif-wrong-key "$tmp/memif-wrong-key.json" "${memif[@]}" -s 192.0.2.1 -r 2000 -t 1 --warmup 0 \
    --keys "$tmp/wrong-chrony.keys" --mac-key-id 1 --mix "$signed_mix" &&
    check_result "memif tachyond, requests signed with a wrong secret: crypto-NAKs, none invalid" \
      "$tmp/memif-wrong-key.json" 1 \
      'all((k["answered"] == 0 < k["refused"]) if "+mac" in k["kind"] else (k["refused"] == 0 < k["answered"]) for k in steps[0]["by_kind"])' ||
    fail "memif tachyond, wrong key: tachyon-gen failed"
  STRICT=1
  stop_memif_tachyond
fi
if start_memif_tachyond; then
  # Ctrl-C: the run stops and the table is printed.
  timeout 60 "$gen" "${memif[@]}" -s 192.0.2.1 -r 1000 -t 30 --warmup 0 --cpus "$gen_cpu" \
    --file-prefix "gen_smoke_int_$$" -q >"$tmp/interrupt.out" 2>&1 &
  gen_pid=$!
  sleep 3
  kill -INT "$gen_pid"
  wait "$gen_pid"
  status=$?
  if [ "$status" = 0 ] && grep -q "run ended: interrupted" "$tmp/interrupt.out" &&
    grep -q "^ *1 fixed" "$tmp/interrupt.out"; then
    pass "SIGINT: exit status 0, table printed, 'run ended: interrupted'"
  else
    fail "SIGINT: exit status $status; output:"
    sed 's/^/    /' "$tmp/interrupt.out"
  fi
  stop_memif_tachyond
fi
if start_memif_tachyond; then
  # Clear errors: nobody answers ARP for 192.0.2.99.
  timeout 30 "$gen" "${memif[@]}" -s 192.0.2.99 --resolve-timeout 1 --cpus "$gen_cpu" \
    --file-prefix "gen_smoke_arp_$$" -q >"$tmp/noarp.out" 2>&1
  status=$?
  if [ "$status" = 1 ] && grep -q "no ARP reply from 192.0.2.99" "$tmp/noarp.out"; then
    pass "no ARP answer: exit status 1, '$(grep -o 'no ARP reply from 192.0.2.99 within [0-9.]* s' "$tmp/noarp.out")'"
  else
    fail "no ARP answer: exit status $status: $(cat "$tmp/noarp.out")"
  fi
  stop_memif_tachyond
fi

# Clear errors: a driver DPDK does not know, --hugepages where DPDK can
# use none (what is missing, and how to do without), an interface that is
# not there. Each run must exit with status 1 and say PATTERN.
expect_gen_error() {  # NAME LABEL PATTERN ARGS...
  local name=$1 label=$2 pattern=$3 status
  shift 3
  timeout 30 "$gen" -s 192.0.2.1 --cpus "$gen_cpu" --file-prefix "gen_smoke_${name}_$$" -q "$@" >"$tmp/$name.out" 2>&1
  status=$?
  if [ "$status" = 1 ] && grep -q "$pattern" "$tmp/$name.out"; then
    pass "$label: exit status 1, '$(grep -o "$pattern" "$tmp/$name.out" | head -1 | cut -c1-100)'"
  else
    fail "$label: exit status $status: $(cat "$tmp/$name.out")"
  fi
}
expect_gen_error nodrv "unknown driver" "DPDK did not start.*check --device" -d net_nosuchdriver0
if ! hugepages_mounted || [ "$(hugepages_meminfo HugePages_Free)" = 0 ]; then
  expect_gen_error nohuge "--hugepages without hugepages" \
    "DPDK did not start.*no \(hugetlbfs is mounted\|free hugepages\).*or run without hugepages: leave out --hugepages" \
    -d net_null0 --hugepages
else
  echo "SKIP: --hugepages without hugepages (this machine has free hugepages mounted)"
fi
expect_gen_error nodev "missing interface" "did not probe" -d net_af_packet0,iface=nosuchif0

if [ -x "$reflector" ]; then
  "$reflector" -d "net_memif0,role=server,socket=$tmp/reflector.sock,mac=02:00:00:00:00:01" --cpu "$server_cpu" \
    --file-prefix "gen_smoke_refl_$$" >"$tmp/reflector.log" 2>&1 &
  server_pid=$!
  if e2e_wait_log "$tmp/reflector.log" "reflector serving on" "$server_pid"; then
    run_gen reflector "$tmp/reflector.json" -d "net_memif0,role=client,socket=$tmp/reflector.sock" -s 192.0.2.1 \
      --server-mac 02:00:00:00:00:01 --echo -r 2000 -t 2 --warmup 0.2 --mix "$mix" &&
      check_result "memif reflector (--echo)" "$tmp/reflector.json" 1 ||
      fail "memif reflector: tachyon-gen failed"
  else
    fail "reflector did not start: $(cat "$tmp/reflector.log")"
  fi
  stop_server
else
  echo "SKIP: reflector not built at '$reflector' (-Dbenchmarks=false)"
fi

# bench/gen_results.py, which gives the benchmarks' verdicts, on these real
# results (its logic is tested on written documents by the unit test
# gen_results): the ramp against the reflector's run, or the fixed-rate one.
# The ramp ends at its --max-rate, so its maximum is a lower bound ("at least").
results=$here/../../bench/gen_results.py
baseline=$tmp/reflector.json
[ -s "$baseline" ] || baseline=$tmp/memif-v4.json
if [ -s "$tmp/memif-ramp.json" ] && [ -s "$baseline" ]; then
  python3 "$results" compare --target 0.001 --processing-p99 1000 tachyond="$tmp/memif-ramp.json" \
    baseline="$baseline" >"$tmp/compare.out" 2>&1
  status=$?
  sed 's/^/    /' "$tmp/compare.out"
  rows=$(python3 "$results" tsv "$tmp/memif-ramp.json" 2>&1 | grep -c $'\t1$')
  if [ "$status" = 0 ] && grep -Eq "^ratio tachyond/baseline: [0-9.]+, (measured|at least) \(target ≥ 0.001: met\)$" "$tmp/compare.out" &&
    grep -Eq "^tachyond's stated processing p99 below saturation \(at [0-9,]+/s\): [0-9.]+ us \(target ≤ 1000 us: met\)$" \
      "$tmp/compare.out" &&
    grep -Eq "^tachyond's stated processing p99 over its [1-9][0-9]* passed step\(s\) up to [0-9,]+/s: [0-9.]+-[0-9.]+ us, median [0-9.]+; within 1000 us in ([0-9]+) of \1$" \
      "$tmp/compare.out" && [ "$rows" -ge 3 ]; then
    pass "bench/gen_results.py judges real tachyon-gen results (ratio, processing p99 and its spread, $rows passed steps in the plot's table)"
  else
    fail "bench/gen_results.py on real results: exit $status, $rows passed steps in tsv"
  fi
else
  fail "bench/gen_results.py: no ramp result to judge"
fi

# ---------------------------------------------------------------- veth
netns_create "$tag" || { fail "cannot create namespaces $tag-srv/$tag-cli"; e2e_finish; }
# Hugepages, as the benchmark runs them: one server and the generator at a
# time, 256 MiB (128 pages) each.
hugepages_reserve 384 || { fail "cannot reserve 384 hugepages"; e2e_finish; }
free_pages=$(hugepages_meminfo HugePages_Free)
# Every hugepage a DPDK program took is free again once it has exited
# (they unlink their hugepage files; DPDK alone would leave them taken
# until its next start with the same prefix).
# (The kernel unpins an AF_XDP socket's memory in deferred work, so allow
# it a few seconds.)
check_pages_free() {  # WHO
  local now _
  for _ in $(seq 1 50); do
    now=$(hugepages_meminfo HugePages_Free)
    [ "$now" = "$free_pages" ] && break
    sleep 0.1
  done
  if [ "$now" = "$free_pages" ]; then
    pass "veth: every hugepage free again after $1 exited ($now free)"
  else
    fail "veth: $now hugepages free after $1 exited, $free_pages before it started (files left: $(find /dev/hugepages -maxdepth 1 -type f -printf '%f ' 2>/dev/null | head -c 120))"
  fi
}
netns_write_config "$tmp/tachyond-veth.toml" af_xdp "$NETNS_SRV_IF" "gen_smoke_veth_$$"
hugepages_config "$tmp/tachyond-veth.toml"
ip netns exec "$NETNS_SRV" "$tachyond" --config "$tmp/tachyond-veth.toml" >"$tmp/tachyond-veth.log" 2>&1 &
server_pid=$!
GEN_NS=$NETNS_CLI
STRICT=0
# The generator on net_af_packet: with AF_XDP at both ends of the veth,
# frames were seen to vanish between the two on a heavily loaded machine
# (the kernel's part of the path); AF_PACKET has been reliable. The
# benchmark (bench/veth_bench.sh) uses AF_XDP on both ends.
veth=(-d "net_af_packet0,iface=$NETNS_CLI_IF" --hugepages)
if e2e_wait_log "$tmp/tachyond-veth.log" "tachyond serving on" "$server_pid"; then
  if grep -q "memory: 256 MB hugepages" "$tmp/tachyond-veth.log"; then
    pass "veth: tachyond serving on net_af_xdp, on hugepages"
  else
    fail "veth: tachyond's log does not say 'memory: 256 MB hugepages': $(grep -o 'memory: [^;]*' "$tmp/tachyond-veth.log")"
  fi
  run_gen veth-v4 "$tmp/veth-v4.json" "${veth[@]}" -s 192.0.2.1 --source 192.0.2.128/25 -r 2000 -t 2 \
    --warmup 0.5 --mix "$mix" &&
    check_result "veth tachyond IPv4 (tachyond on af_xdp)" "$tmp/veth-v4.json" 1 || fail "veth tachyond IPv4: tachyon-gen failed"
  run_gen veth-v6 "$tmp/veth-v6.json" "${veth[@]}" -s 2001:db8::1 --source 2001:db8::8000/113 -r 2000 -t 2 \
    --warmup 0.5 --mix "$mix" &&
    check_result "veth tachyond IPv6 (tachyond on af_xdp)" "$tmp/veth-v6.json" 1 || fail "veth tachyond IPv6: tachyon-gen failed"
else
  fail "veth: tachyond did not start: $(cat "$tmp/tachyond-veth.log")"
fi
stop_server
check_pages_free "tachyond and tachyon-gen"

# The reflector on the same port, as bench/veth_bench.sh runs it (the
# path's ceiling): yielding like tachyond's worker, --echo from the client.
if [ -x "$reflector" ]; then
  ip netns exec "$NETNS_SRV" "$reflector" -d "net_af_xdp0,iface=$NETNS_SRV_IF,start_queue=0,queue_count=1" \
    --cpu "$server_cpu" --yield-us 1000 --hugepages --file-prefix "gen_smoke_vrefl_$$" >"$tmp/reflector-veth.log" 2>&1 &
  server_pid=$!
  if e2e_wait_log "$tmp/reflector-veth.log" "reflector serving on" "$server_pid"; then
    refl_mac=$(grep -o "MAC [0-9a-f:]*" "$tmp/reflector-veth.log" | head -1 | cut -d' ' -f2)
    run_gen veth-reflector "$tmp/veth-reflector.json" "${veth[@]}" -s 192.0.2.1 --source 192.0.2.128/25 \
      --server-mac "$refl_mac" --echo -r 2000 -t 2 --warmup 0.5 &&
      check_result "veth reflector on af_xdp (--echo)" "$tmp/veth-reflector.json" 1 ||
      fail "veth reflector: tachyon-gen failed"
  else
    fail "veth: reflector did not start: $(cat "$tmp/reflector-veth.log")"
  fi
  stop_server
  check_pages_free "the reflector"
fi

# chronyd on the kernel's socket of the same interface.
# (tools/netns.sh turns the kernel's IPv6 off on it while tachyond owns it.)
netns_kernel_server "$tag"
cat >"$tmp/chrony.conf" <<EOF
local stratum 1
allow all
keyfile $tmp/chrony.keys
pidfile $tmp/chronyd.pid
driftfile $tmp/chronyd.drift
bindcmdaddress $tmp/chronyd.sock
cmdport 0
EOF
chronyd_started=1
ip netns exec "$NETNS_SRV" chronyd -f "$tmp/chrony.conf" -x -U -u root
for _ in $(seq 1 50); do [ -s "$tmp/chronyd.pid" ] && break; sleep 0.1; done
if [ -s "$tmp/chronyd.pid" ]; then
  pass "veth: chronyd serving on the kernel's socket"
  # chronyd silently drops requests with a MAC of a key it does not have
  # (77) and answers every other kind: the per-kind figures must say
  # exactly that (each kind with a MAC lost, each other kind answered).
  chronyd_kinds='all((k["answered"] == 0) == ("+mac" in k["kind"]) and k["sent"] > 0 for s in steps for k in s["by_kind"])'
  run_gen chronyd-v4 "$tmp/chronyd-v4.json" "${veth[@]}" -s 192.0.2.1 --source 192.0.2.128/25 -r 2000 -t 2 \
    --warmup 1 --mix "$mix" --mac-key-id 77 &&
    check_result "veth chronyd IPv4, every kind but +mac answered" "$tmp/chronyd-v4.json" 1 "$chronyd_kinds" ||
    fail "veth chronyd IPv4: tachyon-gen failed"
  run_gen chronyd-v6 "$tmp/chronyd-v6.json" "${veth[@]}" -s 2001:db8::1 --source 2001:db8::8000/113 -r 2000 -t 2 \
    --warmup 1 --mix "$mix" --mac-key-id 77 &&
    check_result "veth chronyd IPv6, every kind but +mac answered" "$tmp/chronyd-v6.json" 1 "$chronyd_kinds" ||
    fail "veth chronyd IPv6: tachyon-gen failed"
  # --keys against another implementation: chronyd checks our MACs (MD5
  # and AES-CMAC) and signs its answers, whose MACs we check. Every kind
  # must be answered, no answer invalid.
  for id in 1 3; do
    run_gen "chronyd-key$id" "$tmp/chronyd-key$id.json" "${veth[@]}" -s 192.0.2.1 --source 192.0.2.128/25 -r 1000 \
      -t 2 --warmup 1 --keys "$tmp/chrony.keys" --mac-key-id "$id" --mix "$signed_mix" &&
      check_result "veth chronyd, requests signed with key $id: every kind answered, its MACs verify" \
        "$tmp/chronyd-key$id.json" 1 'all(k["answered"] > 0 for s in steps for k in s["by_kind"])' ||
      fail "veth chronyd, key $id: tachyon-gen failed"
  done
  # chronyd serves interleaved mode too: our requests must be ones it
  # recognizes, and its interleaved answers valid. (No share asserted: a
  # lost answer on a busy machine makes the client's next one basic.)
  run_gen chronyd-xleave "$tmp/chronyd-xleave.json" "${veth[@]}" -s 192.0.2.1 --source 192.0.2.128/25 \
    --interleaved -r 1000 -t 2 --warmup 1 &&
    check_result "veth chronyd interleaved mode" "$tmp/chronyd-xleave.json" 1 \
      "d['config']['interleaved'] and steps[0]['interleaved'] > 0" ||
    fail "veth chronyd interleaved mode: tachyon-gen failed"
else
  fail "veth: chronyd did not start"
fi

# ---------------------------------------------------------------- tap
# Two generator workers (--cpus with two CPUs) need a port with RSS, which
# net_tap has. The tap's kernel side, in a namespace of its own, is the
# server (chronyd): its answers land on whichever queue the kernel picks,
# so some reach the worker that did not send the request, which must hand
# them over (forwarded) for them to count.
if [ "$(nproc)" -lt 2 ]; then
  echo "SKIP: two generator workers need two CPUs"
else
  tapns=$tag-tap
  ip netns del "$tapns" 2>/dev/null
  ip netns add "$tapns" && ip -n "$tapns" link set lo up
  sed "s#$tmp/chronyd#$tmp/chronyd-tap#g" "$tmp/chrony.conf" >"$tmp/chrony-tap.conf"
  (
    # The tap appears once the generator has started DPDK.
    for _ in $(seq 1 100); do ip -n "$tapns" link show gentap0 >/dev/null 2>&1 && break; sleep 0.1; done
    ip -n "$tapns" address add 192.0.2.1/24 dev gentap0 && ip -n "$tapns" link set gentap0 up &&
      ip netns exec "$tapns" chronyd -f "$tmp/chrony-tap.conf" -x -U -u root
  ) &
  setup_pid=$!
  ip netns exec "$tapns" timeout 60 "$gen" -d net_tap0,iface=gentap0 --cpus 0-1 -s 192.0.2.1 \
    --source 192.0.2.128/25 --resolve-timeout 8 --warmup 1 -r 2000 -t 2 --file-prefix "gen_smoke_tap_$$" -q \
    --json "$tmp/tap.json" >"$tmp/tap.out" 2>&1
  status=$?
  wait "$setup_pid"
  if [ "$status" = 0 ]; then
    check_result "tap: two generator workers against chronyd, answers handed between them" "$tmp/tap.json" 1 \
      'd["config"]["workers"] == 2 and steps[0]["forwarded"] > 0'
  else
    fail "tap: two generator workers: exit status $status: $(grep -v '^tap_\|qdisc\|eth_dev_tap' "$tmp/tap.out")"
  fi
fi

e2e_finish
