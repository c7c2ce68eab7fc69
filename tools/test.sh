#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors,
# and runs the whole suite, then the same suite under ASan+UBSan with bounded
# fuzzing. Prints meson's summary for each build and a closing
# "N passed, N failed" line. Exit status 0 only if everything passed.
#
#   sudo ./tools/test.sh              # everything (what CI runs)
#   sudo ./tools/test.sh --quick      # gcc build and its suites only
#
# Environment: FUZZ_SECONDS (default 30) bounds each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=CI,FUZZ_SECONDS "$0" "$@"
fi

./tools/setup.sh

fuzz_seconds=${FUZZ_SECONDS:-30}
status=0
logs=()

configure() {  # DIR [meson options...]
  local dir=$1
  shift
  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

run_suite() {  # DIR [meson test options...]
  local dir=$1
  shift
  meson compile -C "$dir"
  if ! meson test -C "$dir" --print-errorlogs "$@"; then status=1; fi
  logs+=("$dir/meson-logs/testlog.json")
}

echo "== gcc build (warnings as errors): unit, dpdk and end-to-end suites"
configure build-test --werror -Dbuildtype=debugoptimized
run_suite build-test --num-processes 2

if [ "$quick" = 0 ]; then
  echo "== clang ASan+UBSan build: unit and dpdk suites, bounded fuzzing (${fuzz_seconds}s per target)"
  CC=clang-14 CXX=clang++-14 configure build-asan --werror -Dbuildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true \
    -Dfuzz_seconds="$fuzz_seconds" -Dbenchmarks=false -De2e=false
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    run_suite build-asan --num-processes 2 --suite unit --suite dpdk --suite fuzz
fi

python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if r.get("result") in ("OK", "EXPECTEDFAIL", "SKIP"):
                    passed += 1
                else:
                    failed += 1
    except FileNotFoundError:
        failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit $status
