#!/usr/bin/env python3
"""Sends one hand-made NTP request over a plain UDP socket and describes the answer.

    ntp_probe.py ADDRESS FIRST_BYTE [TIMEOUT_SECONDS]

FIRST_BYTE is the request's LI/VN/mode byte, e.g. 0x19 (NTPv3 mode 1,
symmetric active), 0x08 (NTPv1 mode 0) or 0x17 (NTPv2 mode 7, private). The
48-byte request carries a random transmit timestamp and is sent from an
ephemeral (non-123) port to port 123. Prints one line:

    answer from ADDRESS port 123 to port P: li=0 vn=3 mode=2 stratum=10 origin_matches=yes length=48

or `no answer within T s (from port P)`. Exit status: 0 answered, 1 no answer.
"""
import os
import socket
import sys


def main() -> int:
    address, first_byte = sys.argv[1], int(sys.argv[2], 0)
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind(("", 0))
        port = s.getsockname()[1]
        transmit = os.urandom(8)
        s.sendto(bytes([first_byte]) + bytes(39) + transmit, (address, 123))
        s.settimeout(timeout)
        try:
            data, source = s.recvfrom(2048)
        except socket.timeout:
            print(f"no answer within {timeout:g} s (from port {port})")
            return 1
    if len(data) < 48:
        print(f"answer from {source[0]} port {source[1]} to port {port}: short, length={len(data)}")
        return 0
    print(f"answer from {source[0]} port {source[1]} to port {port}: li={data[0] >> 6} "
          f"vn={(data[0] >> 3) & 7} mode={data[0] & 7} stratum={data[1]} "
          f"origin_matches={'yes' if data[24:32] == transmit else 'no'} length={len(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
