# Shared set-up of the namespace-based e2e tests (auth, interleaved,
# operations, policy): source it, then call e2e_setup.
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_setup TAG_PREFIX [TOOL...]
#
# Skips (exit 77) without root or one of the TOOLs; sources tools/netns.sh;
# sets `tag` (TAG_PREFIX + PID, at most 14 characters), `work` (a temporary
# directory) and `pid` (the caller's tachyond, killed on exit); removes the
# namespaces and `work` on exit. check NAME COMMAND... counts into `passed`
# and `failed`; e2e_metric PORT NAME sums a /metrics family over queues.
# shellcheck shell=bash

e2e_setup() {
  local prefix=$1 tool
  shift
  [ "$(id -u)" -eq 0 ] || { echo "needs root: skipped"; exit 77; }
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$tool missing (tools/setup.sh): skipped"; exit 77; }
  done
  # shellcheck source=../../tools/netns.sh
  . "$(dirname "${BASH_SOURCE[0]}")/../../tools/netns.sh"
  tag=$prefix$$
  tag=${tag:0:14}
  work=$(mktemp -d)
  pid=
  passed=0
  failed=0
  trap e2e_cleanup EXIT INT TERM
}

e2e_cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
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
