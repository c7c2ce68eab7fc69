#!/usr/bin/env python3
"""NTP client requests over a plain UDP socket, printing every header field.

    clock_probe.py ADDRESS [--count N] [--interval S] [--timeout S] [--best F]

One line per answer:

    li=0 vn=4 mode=4 stratum=1 precision=-26 root_delay=0.000000000
    root_dispersion=0.000015259 refid=PHC refid_ip=80.72.67.0 reference=1782604800.123456789
    t1=... t2=... t3=... t4=... offset=+0.000012345 delay=0.000041000

t1 and t4 are the kernel's software transmit and receive timestamps of the
request and the answer (SO_TIMESTAMPING; t1 falls back to CLOCK_REALTIME
before sendto() if the kernel gives none), so the client adds no error of
its own; t2/t3 are the server's receive and transmit timestamps, as Unix
seconds. offset = ((t2 - t1) + (t3 - t4)) / 2 and
delay = (t4 - t1) - (t3 - t2), as RFC 5905 defines them. With --best F, a
last line "summary: n=... offset_median=... offset_mean=... delay_median=..."
describes the fraction F of answers with the lowest delay (the usual
minimum-delay filter). Exit status: 0 if at least one answer came back.
"""
import argparse
import socket
import statistics
import struct
import sys
import time

NTP_TO_UNIX = 2208988800
# Python's socket module does not name these (Linux asm-generic/socket.h,
# linux/net_tstamp.h).
SO_TIMESTAMPING = 37
SOF_TX_SOFTWARE, SOF_RX_SOFTWARE, SOF_SOFTWARE, SOF_OPT_TSONLY = 1 << 1, 1 << 3, 1 << 4, 1 << 11
MSG_ERRQUEUE = 0x2000


def kernel_timestamp(ancillary) -> int | None:
    """The software timestamp of SCM_TIMESTAMPING, in ns."""
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING and len(value) >= 16:
            s, n = struct.unpack("qq", value[:16])
            if s or n:
                return s * 1_000_000_000 + n
    return None


def ntp_to_unix(raw: int, pivot: float) -> float:
    """64-bit NTP timestamp -> Unix seconds, in the era closest to pivot."""
    sec = (raw >> 32) - NTP_TO_UNIX
    frac = (raw & 0xFFFFFFFF) / 2**32
    era = round((pivot - sec) / 2**32)
    return sec + era * 2**32 + frac


def refid_text(refid: bytes) -> str:
    """Four printable characters (a reference clock name) or a dotted quad."""
    text = refid.rstrip(b"\0")
    if text and all(32 < b < 127 for b in text):
        return text.decode("ascii")
    return ".".join(str(b) for b in refid)


def query(sock: socket.socket, address: str, timeout: float):
    request = bytearray(48)
    request[0] = (0 << 6) | (4 << 3) | 3
    t1 = time.time_ns()
    sec, ns = divmod(t1, 1_000_000_000)
    struct.pack_into("!II", request, 40, sec + NTP_TO_UNIX, (ns << 32) // 1_000_000_000)
    sock.sendto(bytes(request), (address, 123))
    # The kernel's transmit timestamp arrives on the error queue.
    until = time.monotonic() + 0.02
    while time.monotonic() < until:
        try:
            _, ancillary, _, _ = sock.recvmsg(64, 1024, MSG_ERRQUEUE | socket.MSG_DONTWAIT)
        except BlockingIOError:
            continue
        t = kernel_timestamp(ancillary)
        if t is not None:
            t1 = t
            break
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            data, ancillary, _, _ = sock.recvmsg(2048, 1024)
        except socket.timeout:
            return None
        t4 = kernel_timestamp(ancillary)
        if t4 is None:
            t4 = time.time_ns()
        if len(data) >= 48 and data[24:32] == bytes(request[40:48]):
            return data, t1, t4
        if time.monotonic() > deadline:
            return None


def describe(data: bytes, t1: int, t4: int) -> dict:
    li, vn, mode = data[0] >> 6, (data[0] >> 3) & 7, data[0] & 7
    stratum, poll, precision = data[1], data[2], struct.unpack("b", data[3:4])[0]
    root_delay, root_dispersion = struct.unpack("!II", data[4:12])
    refid = data[12:16]
    reference, _, receive, transmit = struct.unpack("!QQQQ", data[16:48])
    pivot = t1 / 1e9
    t2, t3 = ntp_to_unix(receive, pivot), ntp_to_unix(transmit, pivot)
    a, b = t1 / 1e9, t4 / 1e9
    return {
        "li": li, "vn": vn, "mode": mode, "stratum": stratum, "precision": precision,
        "root_delay": root_delay / 65536, "root_dispersion": root_dispersion / 65536,
        "refid": refid_text(refid), "refid_ip": ".".join(str(b) for b in refid), "reference": ntp_to_unix(reference, pivot) if reference else 0.0,
        "t1": a, "t2": t2, "t3": t3, "t4": b,
        "offset": ((t2 - a) + (t3 - b)) / 2, "delay": (b - a) - (t3 - t2),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("address")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--timeout", type=float, default=1.0)
    p.add_argument("--best", type=float, default=0.0)
    args = p.parse_args()
    family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
    answers = []
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING,
                     SOF_TX_SOFTWARE | SOF_RX_SOFTWARE | SOF_SOFTWARE | SOF_OPT_TSONLY)
        for i in range(args.count):
            if i:
                time.sleep(args.interval)
            r = query(s, args.address, args.timeout)
            if r is None:
                print(f"no answer within {args.timeout:g} s", flush=True)
                continue
            d = describe(*r)
            answers.append(d)
            print(f"li={d['li']} vn={d['vn']} mode={d['mode']} stratum={d['stratum']} precision={d['precision']} "
                  f"root_delay={d['root_delay']:.9f} root_dispersion={d['root_dispersion']:.9f} "
                  f"refid={d['refid']} refid_ip={d['refid_ip']} reference={d['reference']:.9f} t1={d['t1']:.9f} t2={d['t2']:.9f} "
                  f"t3={d['t3']:.9f} t4={d['t4']:.9f} offset={d['offset']:+.9f} delay={d['delay']:.9f}",
                  flush=True)
    if args.best > 0 and answers:
        kept = sorted(answers, key=lambda d: d["delay"])[:max(1, int(len(answers) * args.best))]
        offsets = [d["offset"] for d in kept]
        print(f"summary: n={len(kept)} of {len(answers)} offset_median={statistics.median(offsets):+.9f} "
              f"offset_mean={statistics.mean(offsets):+.9f} "
              f"offset_abs_median={statistics.median(abs(o) for o in offsets):.9f} "
              f"delay_median={statistics.median(d['delay'] for d in kept):.9f}")
    return 0 if answers else 1


if __name__ == "__main__":
    sys.exit(main())
