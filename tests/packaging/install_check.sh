#!/usr/bin/env bash
# `meson install` into a scratch directory puts everything where Debian
# expects it, the installed example configuration is valid, and
# systemd-analyze verify accepts the installed unit (with no warning).
#
#   install_check.sh BUILD_DIR
set -uo pipefail
build=$1
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

passed=0 failed=0
check() {  # NAME COMMAND...
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}

prefix=$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
meson install -C "$build" --no-rebuild --quiet --destdir "$dest" > "$dest.log" 2>&1
check "meson install succeeds" [ $? = 0 ]
root="$dest$prefix"
# With prefix /usr meson puts sysconfdir in /etc; with /usr/local, in PREFIX/etc.
etc="$dest/etc"
[ "$prefix" = /usr ] || etc="$root/etc"
unit=$(find "$dest" -name tachyond.service | head -1)
check "tachyond in sbin" [ -x "$root/sbin/tachyond" ]
check "tachyon-query in bin" [ -x "$root/bin/tachyon-query" ]
check "systemd unit in the systemd unit directory" [ -n "$unit" ]
echo "unit installed as ${unit#$dest}"
check "example configuration in $([ "$prefix" = /usr ] && echo /etc || echo PREFIX/etc)/tachyon" \
  [ -f "$etc/tachyon/tachyond.toml" ]
check "documentation in share/doc/tachyon" [ -f "$root/share/doc/tachyon/configuration.md" ] && \
  [ -f "$root/share/doc/tachyon/README.md" ]
"$root/sbin/tachyond" --check-config "$etc/tachyon/tachyond.toml"
check "the installed example configuration is valid" [ $? = 0 ]

# The unit refers to the final paths; verify it against the scratch tree.
sed "s|$prefix/sbin/tachyond|$root/sbin/tachyond|g; s|$prefix/etc|$etc|g; s|/etc/tachyon|$etc/tachyon|g" \
  "$unit" > "$dest/tachyond.service"
systemd-analyze verify "$dest/tachyond.service" > "$dest/verify.out" 2>&1
rc=$?
cat "$dest/verify.out"
check "systemd-analyze verify: no error" [ "$rc" = 0 ]
check "systemd-analyze verify: no warning" [ ! -s "$dest/verify.out" ]
check "Type=notify with reload and restart policy" grep -q "^Type=notify" "$unit" && \
  grep -q "^ExecReload=" "$unit" && grep -q "^Restart=on-failure" "$unit"
echo "install check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
