#!/usr/bin/env bash
# Installs everything Tachyon needs to build, test and benchmark on Debian 12.
# Idempotent: installs only what is missing. Needs root (apt-get).
#
#   sudo ./tools/setup.sh
#
# Daemons pulled in as test clients (chrony, prometheus) must not start by
# themselves: a policy-rc.d that refuses every start is kept in place while
# apt-get runs.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (sudo ./tools/setup.sh)" >&2
  exit 1
fi

packages=(
  # build
  build-essential g++ pkg-config meson ninja-build git
  libdpdk-dev dpdk
  libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev
  libcpp-httplib-dev nlohmann-json3-dev libssl-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzing and sanitizers
  clang-14 libclang-rt-14-dev
  # run-time test tools and real clients
  iproute2 iputils-ping ethtool procps psmisc kmod
  chrony ntpsec-ntpdig python3-ntp sntp tshark tcpdump
  prometheus systemd curl python3 gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

policy=/usr/sbin/policy-rc.d
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi
fi

# ntpq ships in the ntpsec package, which conflicts with chrony: unpack it
# beside the system instead of installing it. It runs on python3-ntp.
ntpsec_root=/opt/tachyon-test/ntpsec
if [ ! -x "$ntpsec_root/usr/bin/ntpq" ]; then
  echo "setup.sh: unpacking ntpq from the ntpsec package into $ntpsec_root"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq ntpsec >/dev/null)
  mkdir -p "$ntpsec_root"
  dpkg -x "$tmp"/ntpsec_*.deb "$ntpsec_root"
  rm -rf "$tmp"
fi

# Installed daemons must not keep running in the background: tests start
# their own instances in network namespaces.
for d in chronyd prometheus; do
  pkill -x "$d" 2>/dev/null || true
done

echo "setup.sh: all dependencies present"
