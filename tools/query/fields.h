// Text forms of NTP header fields and of times and durations, shared by the
// query report and the status summary. Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ntp_packet.h"

namespace tachyon::query {

// The reference ID as RFC 5905 section 7.3 reads it for this stratum:
//   stratum 0 (kiss code) and 1 (reference clock): up to four ASCII
//     characters, "GPS", "RATE"; hex "7F7F0101" if they are not printable.
//   stratum 2 and above: the upstream's IPv4 address, or for an IPv6
//     upstream the first 32 bits of the MD5 hash of its address; the packet
//     cannot tell which, so both readings are given: "192.0.2.7 (C0000207)".
//     Servers that put a name at these strata (tachyond's "LOCL" under
//     local_stratum, ntpd's "INIT") read "LOCL (4C4F434C)".
std::string refid_text(uint32_t refid, uint8_t stratum);
std::string refid_hex(uint32_t refid);  // "C0000207"
// The four ASCII characters of a kiss code, NULs dropped, anything
// unprintable as '?'.
std::string kiss_code(uint32_t refid);
// What a kiss code asks of the client (RFC 5905 figure 13, RFC 8915);
// nullptr for codes not defined there.
const char* kiss_code_meaning(std::string_view code) noexcept;

const char* leap_name(core::Leap leap) noexcept;  // none, insert, delete, unsync
const char* mode_name(core::Mode mode) noexcept;  // "server", "symmetric passive", ...

// Seconds with nanosecond digits: "0.000012345"; signed: "+0.000012345".
std::string seconds_text(double s);
std::string signed_seconds_text(double s);
// A duration in the unit that suits it: "250 ns", "12.345 us", "1.500 ms",
// "2.000 s"; signed: "+12.345 us".
std::string duration_text(double s);
std::string signed_duration_text(double s);
// A power-of-two interval in seconds, as precision and poll are coded:
// "2^-26 (14.9 ns)", "2^6 (64 s)".
std::string log2_seconds_text(int log2);
// ISO 8601 UTC with `decimals` fraction digits (0 to 9):
// "2025-06-01T12:00:00.123456Z".
std::string utc_text(int64_t unix_ns, int decimals = 6);
// Wire timestamp resolved against a nearby Unix time (era chosen as in
// core::unix_nanos_from_ntp); "never" for the zero timestamp.
std::string ntp_time_text(core::NtpTimestamp ts, int64_t pivot_unix_ns, int decimals = 6);

}  // namespace tachyon::query
