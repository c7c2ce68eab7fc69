# Shared parts of the namespace-based e2e tests. Source it:
#
#   . "$(dirname "$0")/lib.sh"
#
# --- The short tests (auth, interleaved, operations, policy, prometheus) call
#
#   e2e_setup TAG_PREFIX [TOOL...]
#
# which skips (exit 77) without root or one of the TOOLs; sources tools/netns.sh;
# sets `tag` (TAG_PREFIX + PID, at most 14 characters), `work` (a temporary
# directory) and `pid` (the caller's tachyond, killed on exit); removes the
# namespaces and `work` on exit. check NAME COMMAND... counts into `passed`
# and `failed`; e2e_metric PORT NAME sums a /metrics family over queues;
# e2e_wait_log and e2e_kill (below) serve them too. INT or TERM prints
# "interrupted" and exits 130. (tap_multiqueue, with a namespace of its
# own, uses check, e2e_wait_log and e2e_kill alone.)
# shellcheck shell=bash source-path=SCRIPTDIR/../..

e2e_setup() {
  local prefix=$1 tool
  shift
  [ "$(id -u)" -eq 0 ] || { echo "needs root: skipped"; exit 77; }
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$tool missing (tools/setup.sh): skipped"; exit 77; }
  done
  # shellcheck source=tools/netns.sh
  . "$(dirname "${BASH_SOURCE[0]}")/../../tools/netns.sh"
  tag=$prefix$$
  tag=${tag:0:14}
  work=$(mktemp -d)
  pid=
  passed=0
  failed=0
  trap e2e_cleanup EXIT
  trap 'echo "interrupted"; exit 130' INT TERM
}

e2e_cleanup() {
  e2e_kill "$pid"
  netns_delete "$tag" 2>/dev/null
  rm -rf "$work"
}

check() {  # NAME COMMAND...
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}

e2e_metric() {  # PORT NAME: a /metrics family of tachyond in $NETNS_SRV, summed over its labels
  ip netns exec "$NETNS_SRV" curl -s "http://127.0.0.1:$1/metrics" |
    awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { print s + 0 }'
}

# --- The veth scripts (ntp_clients, clock_side_by_side, clock_reference,
# query_clients, gen_smoke): one "PASS: ..." or "FAIL: ..." line per check
# and a closing "NAME: N passed, M failed" line.
#
#   e2e_begin NAME [TOOL...]  skips (exit 77) without root, `ip netns` or a
#                             TOOL; sources tools/netns.sh; sets passed and
#                             failed to 0; on INT or TERM prints "NAME:
#                             interrupted" and exits 130 (the script's EXIT
#                             trap then cleans up)
#   pass TEXT... / fail TEXT...
#   e2e_need TOOL...          a failed check for each TOOL not installed
#   e2e_wait_log LOG PATTERN PID [SECONDS]
#                             0 once LOG has PATTERN (grep), 1 if PID exits
#                             first or SECONDS (default 20) pass
#   e2e_kill PID...           kills (-KILL) and reaps each PID still running
#   e2e_finish [LOG...]       after a failure prints each LOG that exists;
#                             then the closing line; exits 0 if no check
#                             failed, else 1
e2e_begin() {
  e2e_name=$1
  shift
  local tool
  if [ "$(id -u)" -ne 0 ]; then
    echo "$e2e_name: SKIP: needs root (network namespaces, DPDK on a veth)"
    exit 77
  fi
  if ! ip netns list >/dev/null 2>&1; then
    echo "$e2e_name: SKIP: 'ip netns' is not available"
    exit 77
  fi
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$e2e_name: SKIP: needs $tool"; exit 77; }
  done
  # shellcheck source=tools/netns.sh
  . "$(dirname "${BASH_SOURCE[0]}")/../../tools/netns.sh"
  passed=0
  failed=0
  trap 'echo "$e2e_name: interrupted"; exit 130' INT TERM
}

pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

e2e_need() {  # TOOL...
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || fail "$tool not found (sudo ./tools/setup.sh installs it)"
  done
}

e2e_wait_log() {  # LOG PATTERN PID [SECONDS]
  local tenths=$((${4:-20} * 10))
  while [ "$tenths" -gt 0 ]; do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
    tenths=$((tenths - 1))
  done
  return 1
}

e2e_kill() {  # PID...
  local p
  for p in "$@"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -KILL "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
}

# shellcheck disable=SC2120  # LOGs are optional
e2e_finish() {  # [LOG...]
  local f
  if [ "$failed" -gt 0 ]; then
    for f in "$@"; do
      [ -f "$f" ] || continue
      echo "--- $f ---"
      cat "$f"
      echo "--- end of $f ---"
    done
  fi
  echo "$e2e_name: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && exit 0
  exit 1
}
