# Shared by the loopback interop tests (tests/core/ntpq_control.sh,
# tests/auth/real_clients.sh): a test UDP server on an ephemeral port, and
# a real Python client (ntpq, ntpdig) pointed at that port. Source it after
# setting `server` (the test server binary), `work` (a temporary
# directory), `pids` (an array the caller's cleanup kills) and `python`.
# shellcheck shell=bash

# start_server LIFETIME NAME [ARGS...]: its port in $work/NAME.port, its log
# in $work/NAME.log; the server exits by itself after LIFETIME seconds.
start_server() {
  local lifetime=$1 name=$2
  shift 2
  "$server" --lifetime "$lifetime" "$@" >"$work/$name.port" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 100); do
    if [ -s "$work/$name.port" ]; then return 0; fi
    sleep 0.05
  done
  echo "FAIL: $name server did not start"
  cat "$work/$name.log"
  exit 1
}

# run_on_port PORT SCRIPT ARGS...: runs a Python client script (ntpq and
# ntpdig have no port option and always ask for the "ntp" service) with
# that lookup mapped to PORT, for at most 30 s.
run_on_port() {
  local port=$1
  shift
  NTP_TEST_PORT=$port PYTHONPATH= timeout 30 "$python" -c 'import os, runpy, socket, sys
port = int(os.environ["NTP_TEST_PORT"])
lookup = socket.getaddrinfo
def getaddrinfo(host, service, *args, **kwargs):
    return lookup(host, port if service in ("ntp", 123, "123") else service, *args, **kwargs)
socket.getaddrinfo = getaddrinfo
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")' "$@"
}
