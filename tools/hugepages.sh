# shellcheck shell=bash disable=SC2034  # (variables are for the scripts that source this)
# Hugepages for a benchmark or test run, given back afterwards. Sourced, not
# executed; root only:
#
#   . tools/hugepages.sh
#   hugepages_reserve 384 || exit 1    # that many free pages of the default size
#   trap hugepages_release EXIT
#   hugepages_config tachyond.toml; tachyond --config tachyond.toml; tachyon-gen --hugepages ...
#
# or, for a benchmark with a HUGEPAGES=0|1 switch:
#   hugepages_for_run "$hugepages" 384 || exit 1
#   tachyon-gen "${HUGEPAGES_ARGS[@]}" ...; echo "DPDK on $HUGEPAGES_NOTE"
#   if [ "$hugepages" = 1 ]; then hugepages_config tachyond.toml; fi
#
# hugepages_reserve mounts hugetlbfs on /dev/hugepages if nothing is mounted
# (DPDK finds its mounts in /proc/mounts) and raises vm.nr_hugepages by what
# is missing; hugepages_release undoes exactly that: it lowers
# vm.nr_hugepages by what it added (pages still in use stay until their
# process exits; tachyond, tachyon-gen and the reflector unlink their
# hugepage files, so they never outlive the process) and unmounts what it
# mounted. Nothing else is touched.

HUGEPAGES_ADDED=0
HUGEPAGES_MOUNTED=
HUGEPAGES_ARGS=()
HUGEPAGES_NOTE="ordinary memory (--no-huge)"

hugepages_meminfo() {  # KEY: its value in /proc/meminfo (HugePages_Free, HugePages_Total, ...)
  awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

hugepages_mounted() {  # true if some hugetlbfs is mounted
  awk '$3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts
}

hugepages_config() {  # FILE: tachyond's configuration FILE (with an [eal] table) on hugepages
  sed -i 's/^\[eal\]$/[eal]\nmemory = "hugepages"/' "$1"
}

hugepages_for_run() {  # ON(0|1) N: with 1, reserves N pages and sets HUGEPAGES_ARGS (the programs' --hugepages)
  [ "$1" = 1 ] || return 0
  hugepages_reserve "$2" || return 1
  HUGEPAGES_ARGS=(--hugepages)
  HUGEPAGES_NOTE="2 MiB hugepages"
}

hugepages_reserve() {  # N
  local want=$1 free total
  if ! hugepages_mounted; then
    mkdir -p /dev/hugepages
    mount -t hugetlbfs nodev /dev/hugepages || {
      echo "hugepages.sh: cannot mount hugetlbfs on /dev/hugepages" >&2
      return 1
    }
    HUGEPAGES_MOUNTED=/dev/hugepages
  fi
  free=$(hugepages_meminfo HugePages_Free)
  if [ "${free:-0}" -lt "$want" ]; then
    total=$(cat /proc/sys/vm/nr_hugepages)
    echo $((total + want - free)) > /proc/sys/vm/nr_hugepages
    HUGEPAGES_ADDED=$(($(cat /proc/sys/vm/nr_hugepages) - total))
    free=$(hugepages_meminfo HugePages_Free)
    if [ "$free" -lt "$want" ]; then
      echo "hugepages.sh: the kernel gave $free free hugepages of the $want needed (memory too fragmented?)" >&2
      hugepages_release
      return 1
    fi
  fi
  return 0
}

hugepages_release() {
  local total
  if [ "$HUGEPAGES_ADDED" -gt 0 ]; then
    total=$(cat /proc/sys/vm/nr_hugepages)
    echo $((total > HUGEPAGES_ADDED ? total - HUGEPAGES_ADDED : 0)) > /proc/sys/vm/nr_hugepages
    HUGEPAGES_ADDED=0
  fi
  if [ -n "$HUGEPAGES_MOUNTED" ]; then
    umount "$HUGEPAGES_MOUNTED" 2>/dev/null || echo "hugepages.sh: $HUGEPAGES_MOUNTED is still in use; left mounted" >&2
    HUGEPAGES_MOUNTED=
  fi
  return 0
}
