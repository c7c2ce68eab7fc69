#!/usr/bin/env bash
# Soak test: tachyond under sustained mixed load for SECONDS, with faults,
# watched through its own /metrics endpoint and /proc.
#
#   bench/soak.sh TACHYOND TACHYON_GEN [SECONDS]   (default 600, at least 40; the test suite runs 60)
#
# tachyond serves net_memif0 (worker and control thread on SERVER_CPU);
# tachyon-gen is the memif client on GEN_CPU: never two poll loops on one
# CPU. The run:
#
#   1. calibration: a short ramp against a throw-away tachyond with the
#      same policies finds the rate the pair sustains now (on 2 CPUs the
#      generator's core is usually the limit); the soak offers 80 % of it
#      (RATE=... skips this);
#   2. the soak: tachyond with an access list (a denied prefix with an
#      allowed hole in it, among 256 other prefixes), per-client rate
#      limiting (every client sends 2.5x its allowance), an MD5 key (the
#      generator's +mac requests get crypto-NAKs), interleaved mode on, and
#      the PHC reference (the LD_PRELOAD fake of tests/clock, driven as
#      tests/e2e/clock_reference.sh does). During the load: a SIGHUP every
#      12 s swapping the KoD/drop refusals of [access] and [ratelimit]; the
#      PHC stops answering (holdover, then the alarm, then recovery), later
#      steps by +10 ms and back;
#   3. the load pauses (the generator is SIGSTOPped: still connected, not
#      sending), resumes for a few seconds, and ends.
#
# /metrics and /proc/PID are sampled every INTERVAL seconds throughout.
# Checks: no invalid answer; RSS flat after a 10 s warm-up (growth below
# 8 MB or 5 %, whichever is larger), file descriptors and threads flat;
# mbufs in use back to their idle value in the pause and after the
# generator left; drops only for policy reasons (access_denied,
# rate_limited), both refusals of both policies seen; every frame received
# accounted for (sent, refused by the TX queue or dropped); the port
# counters of both ends agree (nothing lost between them); answers in
# every sampling interval, through holdover and the alarm, and after the
# pause; holdover, alarm, recovery and both steps seen and logged; every
# reload applied; a clean stop on SIGTERM.
#
# Known: DPDK 22.11's memif PMD may crash the server's poll loop when the
# client disconnects (docs/performance.md). The generator disconnects once,
# after the last check; if tachyond dies then, a NOTE line says so.
#
# Prints a summary and one PASS/FAIL line per check, then "soak: N passed,
# M failed". Exit status 0 if all passed, 1 otherwise, 2 for a usage error.
#
# Tunables (environment): RATE (offered rate, e.g. 400k: no calibration),
# SERVER_CPU (0), GEN_CPU (1), INTERVAL (2 s), FAKE_PTP (the fake PHC
# library; default: tests/clock/libfake_ptp.so of TACHYOND's build tree;
# without it the system clock is the reference and the PHC faults are
# skipped), OUT (a directory to keep the samples, the generator's JSON and
# tachyond's log in). No root, hugepages or namespaces needed; everything
# started here is stopped on exit.
# shellcheck disable=SC2317  # cleanup runs from a trap
set -uo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 TACHYOND TACHYON_GEN [SECONDS]" >&2
  exit 2
fi
tachyond=$1
gen=$2
seconds=${3:-600}
server_cpu=${SERVER_CPU:-0}
gen_cpu=${GEN_CPU:-1}
interval=${INTERVAL:-2}
warmup=10      # s of load before RSS is taken as the baseline
quiet=6        # s of pause (generator stopped) at the end of the load
after=5        # s of load after the pause
reload_every=12
holdover_limit=5
fault_length=$((holdover_limit + 5))

if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 40 ]; then
  echo "soak: SECONDS must be an integer of at least 40, not '$seconds'" >&2
  exit 2
fi
if [ "$server_cpu" = "$gen_cpu" ]; then
  echo "soak: SERVER_CPU and GEN_CPU must differ (two poll loops on one CPU starve each other)" >&2
  exit 2
fi
for f in "$tachyond" "$gen"; do
  [ -x "$f" ] || { echo "soak: $f is not an executable (meson compile -C build)" >&2; exit 2; }
done
for tool in python3 timeout pgrep; do
  command -v "$tool" >/dev/null || { echo "soak: $tool not found (sudo tools/setup.sh)" >&2; exit 2; }
done
fake=${FAKE_PTP:-$(dirname "$tachyond")/../../tests/clock/libfake_ptp.so}
if [ -f "$fake" ]; then fake=$(realpath "$fake"); else fake=''; fi

tmp=$(mktemp -d /tmp/tachyon-soak.XXXXXX)
sock=$tmp/tachyond.sock
stats_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$stats_port
srv_prefix=soak_srv_$$
cal_prefix=soak_cal_$$
gen_prefix=soak_gen_$$
gen_wrapper=   # the `timeout` around the generator; gen_pid is the generator itself
gen_pid=
srv_wrapper=
srv_pid=
sampler_pid=

stop_process() {  # WRAPPER_PID PID: TERM, then KILL after 5 s
  local wrapper=$1 pid=$2
  [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
  if [ -n "$wrapper" ]; then
    for _ in $(seq 1 50); do kill -0 "$wrapper" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$wrapper" "$pid" 2>/dev/null
    wait "$wrapper" 2>/dev/null
  fi
}
# The generator always stops before the server: memif's rx_burst must not
# run while its peer disconnects.
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null
  stop_process "$gen_wrapper" "$gen_pid"
  stop_process "$srv_wrapper" "$srv_pid"
  wait 2>/dev/null
  rm -rf "$tmp" "/var/run/dpdk/$srv_prefix" "/var/run/dpdk/$cal_prefix" "/var/run/dpdk/$gen_prefix"
}
trap cleanup EXIT
trap 'echo "soak: interrupted"; exit 130' INT TERM

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() {
  echo "soak: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && exit 0
  exit 1
}
keep() {  # copies the evidence to $OUT, if set
  [ -n "${OUT:-}" ] || return 0
  mkdir -p "$OUT" && cp "$tmp"/samples.jsonl "$tmp"/events "$tmp"/gen.json "$tmp"/gen.out "$tmp"/tachyond.log \
    "$tmp"/tachyond.toml "$OUT"/ 2>/dev/null
  echo "evidence kept in $OUT"
}

child_of() {  # PID: the process `timeout` started (waits up to 5 s)
  local c
  for _ in $(seq 1 50); do
    c=$(pgrep -P "$1" | head -n 1)
    [ -n "$c" ] && { echo "$c"; return 0; }
    sleep 0.1
  done
  return 1
}
wait_for_log() {  # LOG PATTERN WRAPPER_PID: until PATTERN is in LOG (20 s)
  for _ in $(seq 1 200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
now() { date +%s.%N; }
event() { echo "$(now) $*" >>"$tmp/events"; }

# ---------------------------------------------------------------- configuration
# Every client sends 40 requests/s against an allowance of 16/s (interval
# -4) and a burst of 8: 60 % over its limit, so that it stays over even if
# the generator falls behind on a busy machine.
# The clients are the lowest addresses of 198.18.0.0/15, ascending: the
# first 1/16 to 1/8 of them fall in the denied prefix, whose first quarter
# is allowed again (the longest prefix decides): 5-9 % of them are denied.
mix='v4=80,v3=6,v2=2,v1=2,v4+sym=4,v4+ef=3,v4+mac=3'
clients_for() {  # RATE: sets clients, deny_len, deny_list
  read -r clients deny_len < <(python3 -c '
import math, sys
clients = max(256, min(131070, int(sys.argv[1]) // 40))
print(clients, 32 - int(math.log2(clients / 8)))' "$1")
  deny_list=\"198.18.0.0/$deny_len\"
  for i in $(seq 0 255); do deny_list+=", \"100.64.$i.0/24\""; done
}
printf '# ntpd format: the generator MACs its +mac requests with random bytes.\n1 MD5 soak_test_md5_key\n' \
  >"$tmp/ntp.keys"
chmod 600 "$tmp/ntp.keys"

# The soak's configuration in FILE, replaced atomically; the calibration
# server gets the same policies under its own socket and prefix.
write_config() {  # FILE PREFIX SOCKET STATS_LISTEN REFERENCE ACCESS_REFUSAL RATELIMIT_REFUSAL
  cat >"$1.new" <<EOF
[eal]
memory_mb = 256
file_prefix = "$2"
control_cpu = $server_cpu
worker_cpus = [$server_cpu]

[port]
device = "net_memif0,role=server,socket=$3"

[server]
ipv4 = ["192.0.2.1/24"]

[reference]
$5

[access]
deny = [$deny_list]
allow = ["198.18.0.0/$((deny_len + 2))"]
refusal = "$6"

[ratelimit]
enabled = true
interval = -4
burst = 8
leak = 2
table_entries = 1048576
refusal = "$7"

[auth]
keys = "$tmp/ntp.keys"

[stats]
listen = "$4"
EOF
  mv "$1.new" "$1"
}
if [ -n "$fake" ]; then
  reference="source = \"phc\"
phc_device = \"/dev/ptp0\"
holdover_limit = $holdover_limit"
else
  reference='local_stratum = 10'
fi
soak_config() {  # ACCESS_REFUSAL RATELIMIT_REFUSAL
  write_config "$tmp/tachyond.toml" "$srv_prefix" "$sock" "127.0.0.1:$stats_port" "$reference" "$1" "$2"
}

# ---------------------------------------------------------------- calibration
# The rate tachyond sustains with these policies and this mix: a ramp
# against a throw-away tachyond, from the most clients, loss not counted
# (denied and rate-limited requests get no time). Over memif an overloaded
# server pushes back through the full ring, so the ramp ends when the
# generator cannot send at the offered rate: that is the rate the pair
# sustains now (usually the generator's core on 2 CPUs).
if [ -n "${RATE:-}" ]; then
  max_rate=
  rate=$(python3 -c '
import sys
t = sys.argv[1].strip().lower()
m = {"k": 1e3, "m": 1e6}.get(t[-1:], 1)
print(int(float(t[:-1] if t[-1:] in "km" else t) * m))' "$RATE") ||
    { echo "soak: RATE '$RATE' is not a rate (e.g. 400000, 400k, 1.5M)" >&2; exit 2; }
  echo "soak: offered rate $rate/s (RATE)"
else
  clients_for 1000000000
  write_config "$tmp/calibration.toml" "$cal_prefix" "$tmp/calibration.sock" "" 'local_stratum = 10' drop kod
  timeout -k 5 120 "$tachyond" --config "$tmp/calibration.toml" >"$tmp/calibration.log" 2>&1 &
  srv_wrapper=$!
  srv_pid=$(child_of "$srv_wrapper")
  if ! wait_for_log "$tmp/calibration.log" "tachyond serving on" "$srv_wrapper"; then
    fail "calibration: tachyond did not start: $(cat "$tmp/calibration.log")"
    finish
  fi
  timeout -k 5 90 "$gen" -d "net_memif0,role=client,socket=$tmp/calibration.sock" -s 192.0.2.1 --cpus "$gen_cpu" \
    --ramp --start-rate 100k --multiplier 1.5 --step 1 --max-rate 10M --max-loss 100 --warmup 0.3 \
    --source 198.18.0.0/15 --clients "$clients" --mix "$mix" --yield-us 0 --file-prefix "$gen_prefix" -q \
    --json "$tmp/calibration.json" >"$tmp/calibration.out" 2>&1
  status=$?
  # A throw-away server: whatever the memif disconnect did to it does not matter.
  stop_process "$srv_wrapper" "$srv_pid"
  srv_wrapper=''
  srv_pid=''
  max_rate=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["result"]
print(int(r["max_loss_free_rate"] or 0))' "$tmp/calibration.json" 2>/dev/null)
  if [ "$status" != 0 ] || [ -z "$max_rate" ] || [ "$max_rate" = 0 ]; then
    fail "calibration: no rate measured (tachyon-gen exit $status):"
    sed 's/^/    /' "$tmp/calibration.out"
    finish
  fi
  rate=$((max_rate * 8 / 10))
  echo "soak: calibration: $max_rate requests/s sustained with the soak's policies; offering 80 %: $rate/s"
fi
clients_for "$rate"

set_fake() { printf '%s\n' "$@" >"$tmp/fake.control.new" && mv "$tmp/fake.control.new" "$tmp/fake.control"; }

cat >"$tmp/sampler.py" <<'EOF'
# Samples URL (/metrics) and /proc/PID every INTERVAL s into OUT, one JSON
# object a line, until PID is gone or LIMIT seconds have passed.
import json, os, re, sys, time, urllib.request

url, pid, out, interval, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
line = re.compile(r'^(\w+)(?:\{([^}]*)\})? (\S+)$')
label = re.compile(r'(\w+)="([^"]*)"')

def parse(text):
    m = {"rx": 0, "tx": 0, "tx_refused": 0, "answers": 0, "kod": {}, "drops": {}, "leaks": 0, "crypto_naks": 0,
         "interleaved": 0}
    total = {"tachyon_rx_packets_total": "rx", "tachyon_tx_packets_total": "tx",
             "tachyon_tx_refused_total": "tx_refused", "tachyon_ntp_answers_total": "answers",
             "tachyon_ratelimit_leaks_total": "leaks", "tachyon_auth_crypto_naks_total": "crypto_naks",
             "tachyon_interleaved_answers_total": "interleaved"}
    gauge = {"tachyon_mbufs_in_use": "mbufs", "tachyon_mbufs_capacity": "mbufs_capacity",
             "tachyon_stratum": "stratum", "tachyon_leap_indicator": "leap",
             "tachyon_root_dispersion_seconds": "root_dispersion", "tachyon_reference_steps_total": "ref_steps",
             "tachyon_reference_samples_total": "ref_samples",
             "tachyon_reference_samples_rejected_total": "ref_rejected", "tachyon_uptime_seconds": "uptime"}
    for raw in text.splitlines():
        r = line.match(raw)
        if not r:
            continue
        name, labels, value = r.group(1), dict(label.findall(r.group(2) or "")), float(r.group(3))
        value = int(value) if value.is_integer() else value
        if name in total:
            m[total[name]] += value
        elif name in gauge:
            m[gauge[name]] = value
        elif name == "tachyon_kod_sent_total":
            m["kod"][labels["code"]] = m["kod"].get(labels["code"], 0) + value
        elif name == "tachyon_drops_total" and value:
            m["drops"][labels["reason"]] = m["drops"].get(labels["reason"], 0) + value
        elif name == "tachyon_reference_state" and value == 1:
            m["state"] = labels["state"]
    return m

end = time.time() + limit
with open(out, "a") as f:
    while time.time() < end:
        t = time.time()
        s = {"t": t}
        try:
            s["m"] = parse(urllib.request.urlopen(url + "/metrics", timeout=3).read().decode())
        except Exception as e:  # noqa: BLE001 -- recorded, judged later
            s["error"] = str(e)
        try:
            status = open(f"/proc/{pid}/status").read()
            s["rss_kb"] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            s["threads"] = int(re.search(r"Threads:\s+(\d+)", status).group(1))
            s["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        except (OSError, AttributeError):
            s["gone"] = True
        f.write(json.dumps(s) + "\n")
        f.flush()
        if s.get("gone"):
            break
        time.sleep(max(0.0, interval - (time.time() - t)))
EOF

# ---------------------------------------------------------------- the soak
soak_config drop kod
refusals="access drop, ratelimit kod"
set_fake "offset_ns 37000000000" "noise_ns 50"
if [ -n "$fake" ]; then what="the fake PHC $fake"; else what="the system clock (no fake PHC: faults skipped)"; fi
echo "soak: tachyond on CPU $server_cpu, tachyon-gen on CPU $gen_cpu; $seconds s at $rate/s from $clients clients," \
  "mix $mix; reference: $what"
: >"$tmp/events"
budget=$((seconds + 240))
timeout -s TERM -k 10 "$budget" env ${fake:+LD_PRELOAD="$fake"} FAKE_PTP_CONTROL="$tmp/fake.control" \
  "$tachyond" --config "$tmp/tachyond.toml" >"$tmp/tachyond.log" 2>&1 &
srv_wrapper=$!
srv_pid=$(child_of "$srv_wrapper")
if ! wait_for_log "$tmp/tachyond.log" "tachyond serving on" "$srv_wrapper"; then
  fail "tachyond did not start: $(cat "$tmp/tachyond.log")"
  finish
fi
if [ -n "$fake" ]; then
  for _ in $(seq 1 50); do grep -q "synchronized to PHC" "$tmp/tachyond.log" && break; sleep 0.1; done
fi
event start
python3 "$tmp/sampler.py" "$url" "$srv_pid" "$tmp/samples.jsonl" "$interval" "$budget" &
sampler_pid=$!
sleep $((3 * interval))  # the idle baseline: no client yet

# Bounded three ways: --duration, --count, and timeout(1). SIGINT ends it.
event gen_start
gen_bound=$((seconds + quiet + after + 60))
timeout -s TERM -k 10 $((gen_bound + 60)) "$gen" -d "net_memif0,role=client,socket=$sock" -s 192.0.2.1 \
  --cpus "$gen_cpu" --yield-us 0 --file-prefix "$gen_prefix" -r "$rate" -t "$gen_bound" -n $((rate * gen_bound)) \
  --warmup 1 --source 198.18.0.0/15 --clients "$clients" --mix "$mix" --progress-interval 1 \
  --json "$tmp/gen.json" >"$tmp/gen.out" 2>&1 &
gen_wrapper=$!
gen_pid=$(child_of "$gen_wrapper")
for _ in $(seq 1 300); do
  grep -q '^step 1 ' "$tmp/gen.out" && break
  kill -0 "$gen_wrapper" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^step 1 ' "$tmp/gen.out"; then
  fail "tachyon-gen did not start its load:"
  sed 's/^/    /' "$tmp/gen.out"
  finish
fi
load_start=$(date +%s)
event load_start
echo "soak: load started"

next_reload=$reload_every
reloads=0
# One fault after the other, all after the warm-up and before the end.
max() { echo $(($1 > $2 ? $1 : $2)); }
fault_at=$(max $((seconds * 30 / 100)) $((warmup + 2)))
step_at=$(max $((seconds * 55 / 100)) $((fault_at + fault_length + 4)))
step_back_at=$(max $((seconds * 75 / 100)) $((step_at + 6)))
noisy_at=$(max $((seconds * 85 / 100)) $((step_back_at + 4)))  # 20 us of noise on every sample, for 4 s
next_report=60
while :; do
  t=$(($(date +%s) - load_start))
  [ "$t" -ge "$seconds" ] && break
  kill -0 "$srv_wrapper" 2>/dev/null || { event tachyond_died; break; }
  kill -0 "$gen_wrapper" 2>/dev/null || { event gen_died; break; }
  if [ "$t" -ge "$next_reload" ]; then
    if [ $((reloads % 2)) = 0 ]; then
      soak_config kod drop
      refusals="access kod, ratelimit drop"
    else
      soak_config drop kod
      refusals="access drop, ratelimit kod"
    fi
    kill -HUP "$srv_pid"
    reloads=$((reloads + 1))
    event reload "$refusals"
    next_reload=$((next_reload + reload_every))
  fi
  if [ -n "$fake" ]; then
    if [ "$t" -ge "$fault_at" ] && ! grep -q ' phc_fail$' "$tmp/events"; then
      set_fake "offset_ns 37000000000" "noise_ns 50" "fail 1"
      event phc_fail
      echo "soak: t=${t}s: the PHC stops answering"
    elif [ "$t" -ge $((fault_at + fault_length)) ] && ! grep -q ' phc_back$' "$tmp/events"; then
      set_fake "offset_ns 37000000000" "noise_ns 50"
      event phc_back
      echo "soak: t=${t}s: the PHC answers again"
    elif [ "$t" -ge "$step_at" ] && ! grep -q ' phc_step$' "$tmp/events"; then
      set_fake "offset_ns 37010000000" "noise_ns 50"
      event phc_step
      echo "soak: t=${t}s: the PHC steps by +10 ms"
    elif [ "$t" -ge "$step_back_at" ] && ! grep -q ' phc_step_back$' "$tmp/events"; then
      set_fake "offset_ns 37000000000" "noise_ns 50"
      event phc_step_back
      echo "soak: t=${t}s: the PHC steps back by -10 ms"
    elif [ "$t" -ge "$noisy_at" ] && ! grep -q ' phc_noisy$' "$tmp/events"; then
      set_fake "offset_ns 37000000000" "noise_ns 20000"
      event phc_noisy
      echo "soak: t=${t}s: the PHC turns noisy (20 us per sample)"
    elif [ "$t" -ge $((noisy_at + 4)) ] && ! grep -q ' phc_quiet$' "$tmp/events"; then
      set_fake "offset_ns 37000000000" "noise_ns 50"
      event phc_quiet
      echo "soak: t=${t}s: the PHC is quiet again"
    fi
  fi
  if [ "$t" -ge "$next_report" ]; then
    echo "soak: t=${t}s: $(tail -n 1 "$tmp/samples.jsonl" | python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
m = s.get("m", {})
print("RSS %.1f MB, %d answers, mbufs in use %d, reference %s" % (s.get("rss_kb", 0) / 1024, m.get("answers", 0),
      m.get("mbufs", -1), m.get("state", "?")))' 2>/dev/null)"
    next_report=$((next_report + 60))
  fi
  sleep 0.5
done

# The pause: the generator stops sending but stays connected.
if kill -0 "$gen_wrapper" 2>/dev/null && kill -0 "$srv_wrapper" 2>/dev/null; then
  kill -STOP "$gen_pid"
  event load_end
  echo "soak: load paused for $quiet s (tachyon-gen stopped, still connected)"
  sleep "$quiet"
  kill -CONT "$gen_pid"
  event after_start
  echo "soak: load resumed for $after s"
  sleep "$after"
fi
kill -0 "$srv_wrapper" 2>/dev/null && event tachyond_alive_at_end
kill -INT "$gen_pid" 2>/dev/null  # ends the step: it drains, reports and exits
for _ in $(seq 1 300); do kill -0 "$gen_wrapper" 2>/dev/null || break; sleep 0.1; done
kill -0 "$gen_wrapper" 2>/dev/null && stop_process "$gen_wrapper" "$gen_pid"
wait "$gen_wrapper"
gen_status=$?
gen_wrapper=''
gen_pid=
event gen_exit
echo "soak: tachyon-gen exited ($gen_status)"

sleep $((2 * interval))  # after the generator's disconnect
srv_status=
if kill -0 "$srv_wrapper" 2>/dev/null; then
  kill -TERM "$srv_pid"
  for _ in $(seq 1 100); do kill -0 "$srv_wrapper" 2>/dev/null || break; sleep 0.1; done
  wait "$srv_wrapper"
  srv_status=$?
  event tachyond_stopped
else
  wait "$srv_wrapper"
  srv_status="died:$?"
fi
srv_wrapper=''
srv_pid=''
kill "$sampler_pid" 2>/dev/null
wait "$sampler_pid" 2>/dev/null
sampler_pid=
keep

# ---------------------------------------------------------------- the verdict
python3 - "$tmp" "$rate" "${max_rate:-}" "$seconds" "$warmup" "$clients" "$mix" "$reloads" "$gen_status" \
  "$srv_status" "${fake:+phc}" "$holdover_limit" "198.18.0.0/$deny_len" >"$tmp/verdict" 2>&1 <<'EOF'
import json, sys

(tmp, rate, max_rate, seconds, warmup, clients, mix, reloads, gen_status, srv_status, phc, holdover_limit,
 deny) = sys.argv[1:14]
rate, seconds, warmup, reloads = int(rate), int(seconds), int(warmup), int(reloads)
samples = [json.loads(l) for l in open(f"{tmp}/samples.jsonl")]
events = []
for l in open(f"{tmp}/events"):
    t, name, *rest = l.split()
    events.append((float(t), name, " ".join(rest)))
ev = {}
for t, name, _ in events:
    ev.setdefault(name, t)
log = open(f"{tmp}/tachyond.log").read()
try:
    g = json.load(open(f"{tmp}/gen.json"))
    step = g["steps"][0]
except (OSError, ValueError, KeyError, IndexError):
    g, step = None, None

def check(ok, text):
    print(("PASS: " if ok else "FAIL: ") + text)

def note(text):
    print("NOTE: " + text)

def within(a, b):
    return [s for s in samples if "m" in s and "rss_kb" in s and a <= s["t"] < b]

def mb(kb):
    return kb / 1024.0

def fmt(n):
    return f"{n:,.0f}"

end = ev.get("gen_exit", samples[-1]["t"])
t0 = ev.get("load_start")
t_load_end = ev.get("load_end", end)
t_after = ev.get("after_start", end)
idle = within(ev["start"], ev.get("gen_start", end))
warm = within(t0 + warmup, t_load_end) if t0 else []
load = within(t0, t_load_end) if t0 else []
quiet = within(t_load_end, t_after)
after = within(t_after, end)
post = within(end, float("inf"))
ok = [s for s in samples if "m" in s]
last = (post or after or quiet or load or ok)[-1]

print()
print("=== soak summary ===")
cal = f"80 % of the {int(max_rate):,}/s measured just before" if max_rate else "RATE"
print(f"load: {seconds} s at {fmt(rate)} requests/s offered ({cal}), {clients} clients of 198.18.0.0/15, mix {mix}")
print(f"policy: deny {deny} but its first quarter (+256 other prefixes); 16 requests/s per client (offered: 40), "
      f"burst 8, leak 1/4; "
      f"{reloads} reloads swapping the KoD/drop refusals")
if len(load) >= 2:
    a, b = load[0], load[-1]
    dt = b["t"] - a["t"]
    print(f"tachyond during the load: received {fmt((b['m']['rx'] - a['m']['rx']) / dt)}/s, "
          f"answered {fmt((b['m']['answers'] - a['m']['answers']) / dt)}/s with time, "
          f"{fmt((sum(b['m']['kod'].values()) - sum(a['m']['kod'].values())) / dt)}/s with a KoD")
if step:
    kod = step["kod"]
    print(f"generator: sent {fmt(step['sent'])}, time answers {fmt(step['answered'])} "
          f"({fmt(step['unsynchronized'])} unsynchronized), KoD RATE {fmt(kod['RATE'])} DENY {fmt(kod['DENY'])}, "
          f"crypto-NAK {fmt(step['crypto_nak'])}, without answer {fmt(step['lost'])} ({step['lost_pct']:.2f} %, "
          f"{fmt(step['late'])} late), invalid {step['invalid']}")
    rtt, proc = step.get("rtt_us") or {}, step.get("processing_us") or {}
    print(f"  round trip p50 {rtt.get('p50', 0):.1f} us, p99 {rtt.get('p99', 0):.1f} us; stated processing "
          f"p50 {proc.get('p50', 0):.2f} us, p99 {proc.get('p99', 0):.2f} us; generator skipped "
          f"{fmt(step['tx_skipped'])} while behind schedule")
m = last["m"]
print(f"tachyond totals: received {fmt(m['rx'])}, sent {fmt(m['tx'])} ({fmt(m['answers'])} time answers, "
      f"KoD {', '.join(f'{k} {fmt(v)}' for k, v in m['kod'].items() if v) or 'none'}, "
      f"{fmt(m['crypto_naks'])} crypto-NAKs, {fmt(m['interleaved'])} interleaved), "
      f"{fmt(m['tx_refused'])} refused by the TX queue, {fmt(m['leaks'])} rate-limit leaks")
print(f"drops by reason: {', '.join(f'{k} {fmt(v)}' for k, v in sorted(m['drops'].items())) or 'none'}")
if idle and warm:
    rss_idle, rss_base = idle[-1]["rss_kb"], warm[0]["rss_kb"]
    rss_max = max(s["rss_kb"] for s in warm + quiet + after)
    rss_end = (after or quiet or warm)[-1]["rss_kb"]
    print(f"RSS: idle {mb(rss_idle):.1f} MB, after the {warmup} s warm-up {mb(rss_base):.1f} MB, "
          f"max {mb(rss_max):.1f} MB, end {mb(rss_end):.1f} MB (growth {mb(rss_max - rss_base):+.2f} MB)")
    print(f"file descriptors: {warm[0]['fds']} after the warm-up, max {max(s['fds'] for s in warm + quiet + after)};"
          f" threads {warm[0]['threads']}, max {max(s['threads'] for s in warm + quiet + after)}")
mb_idle = idle[-1]["m"]["mbufs"] if idle else None
print(f"mbufs in use: idle {mb_idle}, max seen under load {max((s['m']['mbufs'] for s in load), default='-')} "
      f"of {fmt(last['m']['mbufs_capacity'])}, end of the pause {quiet[-1]['m']['mbufs'] if quiet else '-'}, "
      f"after the generator left {post[-1]['m']['mbufs'] if post else '-'}")
if phc:
    states = []
    for s in load + quiet + after:
        st = (s["m"].get("state"), int(s["m"].get("stratum", 0)))
        if not states or states[-1][1:] != st:
            states.append((s["t"] - t0, *st))
    print("reference: " + " -> ".join(f"{st} (stratum {sr}) at {t:.0f} s" for t, st, sr in states))
print()

# --- checks ---
check(len(samples) > 0 and all("m" in s for s in samples if not s.get("gone")),
      f"/metrics answered all {len([s for s in samples if 'm' in s])} scrapes")
check(step is not None and gen_status == "0" and step["sent"] > 0,
      f"tachyon-gen ran the whole soak and reported (exit {gen_status})")
if step:
    check(step["invalid"] == 0, f"no invalid answer among {fmt(step['answered'])} time answers"
          + (f": {step['invalid_by_reason']}" if step["invalid"] else ""))
if not (idle and warm):
    check(False, "RSS, file descriptors and threads: no sample before the load or after its warm-up")
else:
    growth = rss_max - rss_base
    limit = max(8 * 1024, rss_base * 0.05)
    check(growth < limit, f"RSS flat: {mb(rss_base):.1f} MB after the warm-up, max {mb(rss_max):.1f} MB "
          f"({mb(growth):+.2f} MB, limit {mb(limit):.1f} MB)")
    fd_max = max(s["fds"] for s in warm + quiet + after)
    th_max = max(s["threads"] for s in warm + quiet + after)
    check(fd_max <= warm[0]["fds"] + 4 and th_max == warm[0]["threads"],
          f"file descriptors ({warm[0]['fds']} -> max {fd_max}) and threads ({warm[0]['threads']} -> max {th_max}) flat")
if quiet and mb_idle is not None:
    check(quiet[-1]["m"]["mbufs"] == mb_idle,
          f"mbufs in use back to their idle value ({mb_idle}) in the pause: {quiet[-1]['m']['mbufs']:.0f}")
    q = quiet[-1]["m"]
    accounted = q["tx"] + q["tx_refused"] + sum(q["drops"].values())
    check(q["rx"] == accounted, f"every frame received accounted for in the pause: {fmt(q['rx'])} received = "
          f"{fmt(q['tx'])} sent + {fmt(q['tx_refused'])} refused by the TX queue + "
          f"{fmt(sum(q['drops'].values()))} dropped")
else:
    check(False, "the load pause was reached")
if post and mb_idle is not None:
    check(post[-1]["m"]["mbufs"] == mb_idle,
          f"mbufs in use back to their idle value ({mb_idle}) after the generator left: {post[-1]['m']['mbufs']:.0f}")
expected = {"access_denied", "rate_limited"}
reasons = set(m["drops"])
check(reasons <= expected, "drops only for policy reasons: " + (", ".join(sorted(reasons)) or "none")
      + ("" if reasons <= expected else f" (unexpected: {', '.join(sorted(reasons - expected))})"))
check(m["drops"].get("access_denied", 0) > 0 and m["drops"].get("rate_limited", 0) > 0
      and m["kod"].get("DENY", 0) > 0 and m["kod"].get("RATE", 0) > 0,
      "both refusals of both policies exercised (drops access_denied, rate_limited; KoD DENY, RATE)")
stalls = [(b["t"] - t0, b["m"]["answers"] - a["m"]["answers"]) for a, b in zip(load, load[1:])
          if b["m"]["answers"] <= a["m"]["answers"]]
rates = [(b["m"]["answers"] - a["m"]["answers"]) / (b["t"] - a["t"]) for a, b in zip(load, load[1:])]
check(len(load) >= 2 and not stalls, f"answers in every {len(rates)} sampling intervals of the load "
      f"(lowest {fmt(min(rates, default=0))}/s)" + (f"; none at {stalls}" if stalls else ""))
if after and quiet:
    a, b = quiet[-1], after[-1]
    n = b["m"]["answers"] - a["m"]["answers"]
    check(n > 0, f"answering after the pause: {fmt(n)} time answers in {b['t'] - a['t']:.1f} s")
else:
    check(False, "answering after the pause: no sample")
done = log.count("reload: done")
check(done == reloads and "reload failed" not in log and "did not pass a quiescent point" not in log,
      f"{reloads} reloads under load, {done} applied, none failed")
if phc:
    hold = [s for s in load if s["m"].get("state") == "holdover"]
    alarm = [s for s in load if s["m"].get("state") == "unsynchronized" and s["m"].get("stratum") == 16]
    back = [s for s in load + quiet + after if s["t"] > ev.get("phc_back", float("inf"))
            and s["m"].get("state") == "synchronized" and s["m"].get("stratum") == 1]
    in_fault = [s for s in load if ev.get("phc_fail", 0) <= s["t"] <= ev.get("phc_back", 0)]
    grew = all(b["m"]["answers"] > a["m"]["answers"] for a, b in zip(in_fault, in_fault[1:]))
    check(bool(hold) and "holdover: no good sample" in log,
          f"PHC stopped: holdover seen in {len(hold)} samples and logged")
    check(bool(alarm) and log.count(f"holdover limit of {holdover_limit}.000 s passed") == 1,
          f"holdover limit: LI=3, stratum 16 seen in {len(alarm)} samples, logged once")
    check(bool(back) and "synchronized again to PHC" in log, "recovered: synchronized, stratum 1 again, logged")
    check(len(in_fault) >= 3 and grew, f"answering through the fault: answers grew in each of "
          f"{max(len(in_fault) - 1, 0)} intervals")
    check(step is not None and step["unsynchronized"] > 0,
          f"the generator got unsynchronized answers during the alarm: {fmt(step['unsynchronized']) if step else 0}")
    check("the reference stepped by 10.00 ms" in log and "the reference stepped by -10.00 ms" in log
          and m.get("ref_steps", 0) >= 2, f"PHC steps of +10 ms and -10 ms followed and logged "
          f"({m.get('ref_steps', 0):.0f} steps in /metrics)")
    noisy = [s for s in load if ev.get("phc_noisy", float("inf")) <= s["t"] <= ev.get("phc_quiet", 0)]
    served = all(b["m"]["answers"] > a["m"]["answers"] for a, b in zip(noisy, noisy[1:]))
    check("phc_noisy" in ev and len(noisy) >= 2 and served
          and all(s["m"].get("stratum") == 1 for s in noisy),
          f"PHC noisy (20 us per sample) for 4 s: still serving at stratum 1, answering in each of "
          f"{max(len(noisy) - 1, 0)} intervals")
port = (g or {}).get("port")
if post and port:
    b = post[-1]["m"]
    check(port["tx_packets"] == b["rx"] and port["rx_packets"] == b["tx"],
          f"nothing lost between them: the generator sent {fmt(port['tx_packets'])} frames, tachyond received "
          f"{fmt(b['rx'])}; tachyond sent {fmt(b['tx'])}, the generator received {fmt(port['rx_packets'])}")
if srv_status == "0":
    check(True, "tachyond stopped cleanly on SIGTERM (exit 0)")
elif srv_status.startswith("died:") and "tachyond_alive_at_end" in ev:
    sig = int(srv_status[5:]) - 128
    note(f"tachyond died of signal {sig} when tachyon-gen disconnected, after every check above: the DPDK 22.11 "
         "memif race (docs/performance.md, docs/reliability.md)")
else:
    check(False, f"tachyond survived the soak and stopped cleanly (status {srv_status})")
EOF
verdict_status=$?
cat "$tmp/verdict"
passed=$((passed + $(grep -c '^PASS: ' "$tmp/verdict")))
failed=$((failed + $(grep -c '^FAIL: ' "$tmp/verdict")))
[ "$verdict_status" = 0 ] || fail "the verdict script failed (exit $verdict_status)"
if [ "$failed" -gt 0 ]; then
  echo "--- tachyond log (last 40 lines) ---"
  tail -n 40 "$tmp/tachyond.log"
  echo "--- tachyon-gen output (last 20 lines) ---"
  tail -n 20 "$tmp/gen.out"
fi
finish
