#!/usr/bin/env bash
# Bounded fuzz run for the test suite:
#   run_fuzz.sh FUZZER SEED_EXTRACTOR payload|frame|dir:SEED_DIR SECONDS REGRESSION_DIR CAPTURE_DIR
# Replays every regression input first (each once), then fuzzes for SECONDS
# on a fresh corpus seeded from the captures. Any crash fails the test and
# leaves the reproducer in the build directory.
set -euo pipefail
fuzzer=$1 extractor=$2 kind=$3 seconds=$4 regressions=$5 captures=$6
work=$(mktemp -d "${TMPDIR:-/tmp}/tachyon-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
case $kind in
  dir:*) cp "${kind#dir:}"/* "$work/corpus/" ;;  # seed files as they are
  *) "$extractor" "$kind" "$work/corpus" "$captures"/*.pcap ;;
esac
if compgen -G "$regressions/*" >/dev/null; then
  echo "replaying $(ls "$regressions" | wc -l) regression inputs"
  "$fuzzer" -runs=0 "$regressions"/*
fi
artifacts="$(pwd)/fuzz-artifacts-$(basename "$fuzzer")/"
mkdir -p "$artifacts"
"$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts" \
  -rss_limit_mb=2048 -max_len=2048 "$work/corpus"
