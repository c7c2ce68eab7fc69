// tachyond's configuration: the TOML file (docs/configuration.md documents
// every key) decoded into plain structs with their defaults.
//
// load_config() reads and validates a file and returns either a Config or
// every error found, each with file, line, column and what was expected, so
// an operator fixes a file in one pass. Unknown keys are errors. Nothing here
// is used on the per-packet path.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/prefix_set.h"
#include "core/result.h"

namespace tachyon {

struct Ipv4Prefix {
  uint32_t address = 0;  // host byte order
  uint8_t length = 32;
  friend bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

struct Ipv6Prefix {
  std::array<uint8_t, 16> address{};  // network byte order
  uint8_t length = 128;
  friend bool operator==(const Ipv6Prefix&, const Ipv6Prefix&) = default;
};

struct Config {
  std::string path;  // the file it was read from ("" for defaults)

  struct Eal {
    // Memory mode: "no-huge" (--no-huge -m memory_mb; needs no set-up) or
    // "hugepages" (uses /dev/hugepages; memory_mb is then -m if non-zero).
    std::string memory = "no-huge";
    uint32_t memory_mb = 256;
    std::string file_prefix = "tachyond";  // --file-prefix, one per instance
    uint32_t control_cpu = 0;               // CPU of the main lcore (control thread)
    std::vector<uint32_t> worker_cpus;      // one per queue; default 1..queues
    std::vector<std::string> args;          // extra EAL arguments, appended as is
    std::string log_level = "error";        // DPDK's own log level

    friend bool operator==(const Eal&, const Eal&) = default;
  } eal;

  struct Port {
    // A PCI address (0000:3b:00.0) or a DPDK vdev string
    // (net_af_xdp0,iface=veth0). Required.
    std::string device;
    uint16_t queues = 1;
    uint16_t rx_descriptors = 0;  // 0: auto (dp::auto_rx_descriptors(): 4096 on AF_XDP, else 1024)
    uint16_t tx_descriptors = 1024;
    std::string hw_timestamps = "auto";     // "auto" | "off"
    std::string checksum_offload = "auto";  // "auto" | "off"
    // Workers yield their CPU every N microseconds; 0: never; -1: auto
    // (1000 for kernel-backed ports: AF_XDP, AF_PACKET, TAP; never otherwise).
    int32_t yield_us = -1;

    friend bool operator==(const Port&, const Port&) = default;
  } port;

  struct Server {
    std::vector<Ipv4Prefix> ipv4;  // at least one address of either family
    std::vector<Ipv6Prefix> ipv6;
    uint16_t ntp_port = 123;
    uint16_t vlan = 0;  // 0: untagged; 1-4094: one 802.1Q tag

    friend bool operator==(const Server&, const Server&) = default;
  } server;

  struct Reference {
    std::string source = "system";  // "system", "phc" or "nic" (docs/clock.md)
    // Stratum announced while synchronized (1-15); 0: the source's default
    // (2 for "system", 1 for "phc" and "nic"): see default_stratum().
    uint8_t stratum = 0;
    std::string refid;  // 1-4 ASCII characters or an IPv4 address; "" = default per source
    // 0: off. 1-15: serve at this stratum even when the kernel says the
    // system clock is unsynchronized (chrony's `local stratum`). Logged.
    uint8_t local_stratum = 0;
    std::string phc_device = "/dev/ptp0";  // source = "phc"
    std::string timescale = "tai";         // what a "phc" or "nic" clock counts: "tai" or "utc"
    std::string leap_file = "/usr/share/zoneinfo/leap-seconds.list";  // "" for none
    int32_t tai_offset = 0;                // TAI - UTC without a usable leap file; 0: unknown
    std::string leap_mode = "step";        // "step" (23:59:60 inserted) or "smear" (24 h linear)
    uint32_t holdover_dispersion_ppm = 15; // root dispersion growth without samples (RFC 5905 PHI)
    uint32_t holdover_limit = 3600;        // seconds of holdover before LI=3, stratum 16
    uint32_t step_threshold_us = 1000;     // a reference jump larger than this is logged as a step

    uint8_t effective_stratum() const noexcept { return stratum != 0 ? stratum : source == "system" ? 2 : 1; }

    friend bool operator==(const Reference&, const Reference&) = default;
  } reference;

  // Who is answered (docs/configuration.md, [access]): the longest matching
  // prefix of `allow` and `deny` decides; no match: `default`.
  struct Access {
    bool default_allow = true;
    std::vector<core::Prefix> allow;
    std::vector<core::Prefix> deny;
    bool refuse_with_kod = false;  // KoD DENY instead of silence
    friend bool operator==(const Access&, const Access&) = default;
  } access;

  // Per-client rate limiting (chrony's ratelimit), per worker.
  struct RateLimit {
    bool enabled = false;
    int8_t interval = 3;           // one request per 2^N s on average
    uint16_t burst = 8;
    uint8_t leak = 2;              // 1 in 2^N over the limit answered anyway; 0: none
    uint32_t table_entries = 65536;  // per worker, 16 bytes each
    uint8_t ipv6_prefix = 64;
    bool refuse_with_kod = true;   // KoD RATE (false: drop)
    int8_t kod_poll = 10;          // the poll a KoD RATE asks clients to back off to
    friend bool operator==(const RateLimit&, const RateLimit&) = default;
  } ratelimit;

  // Mode 6 (ntpq) is answered only to these prefixes.
  struct Control {
    std::vector<core::Prefix> allow;
    friend bool operator==(const Control&, const Control&) = default;
  } control;

  // Symmetric-key authentication (docs/authentication.md).
  struct Auth {
    std::string keys;             // keys file (ntpd or chrony format); "" for none
    std::string format = "auto";  // "auto", "ntpd" or "chrony"
    bool require = false;         // drop requests without a valid MAC
    friend bool operator==(const Auth&, const Auth&) = default;
  } auth;
  // Interleaved client/server mode (docs/interleaved.md).
  struct Interleaved {
    bool enabled = true;
    uint32_t table_entries = 65536;  // per worker, 16 bytes each
    friend bool operator==(const Interleaved&, const Interleaved&) = default;
  } interleaved;
  struct Stats {
    std::string listen = "127.0.0.1:9123";  // "" disables the HTTP endpoint

    friend bool operator==(const Stats&, const Stats&) = default;
  } stats;

  struct Log {
    std::string level = "info";  // trace, debug, info, warn, error, critical, off
    std::string file;            // "" = stderr (the journal under systemd)
    uint32_t max_size_mb = 10;   // rotation of `file`
    uint32_t max_files = 5;

    friend bool operator==(const Log&, const Log&) = default;
  } log;
};

struct ConfigError {
  std::string file;
  uint32_t line = 0;    // 1-based; 0 when the error is not tied to a line
  uint32_t column = 0;  // 1-based; 0 when unknown
  std::string message;  // what was found and what was expected

  // "FILE:LINE:COLUMN: MESSAGE" (line/column omitted when 0).
  std::string to_string() const;
};

struct ConfigResult {
  Config config;                    // valid only if errors is empty
  std::vector<ConfigError> errors;  // every problem found, in file order
  bool ok() const noexcept { return errors.empty(); }
};

// A value given on the command line, replacing (or adding) one key of the
// file before validation: `key` is "table.key", `value` TOML syntax or a
// bare string, `origin` names it in errors (e.g. "--queues").
struct ConfigOverride {
  std::string key;
  std::string value;
  std::string origin;
};

// Reads, parses and validates a configuration file, with overrides applied.
ConfigResult load_config(const std::string& path, const std::vector<ConfigOverride>& overrides = {});
// Same, from text (tests, fuzzing); `path` is used in error messages only.
ConfigResult parse_config(const std::string& text, const std::string& path,
                          const std::vector<ConfigOverride>& overrides = {});

}  // namespace tachyon
