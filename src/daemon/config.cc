#include "daemon/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

// The Debian build of toml++ is a shared library compiled with exceptions,
// so parse errors arrive as toml::parse_error and are caught in
// parse_config(); defining TOML_EXCEPTIONS=0 here would not link.
#include <toml++/toml.h>

namespace tachyon {
namespace {

// ---------------------------------------------------------------------------
// Values as the operator wrote them, for messages.

// Double-quoted and escaped so that what the operator sees can be pasted
// back into the file; long values are cut, the start is what identifies them.
std::string quoted(std::string_view s) {
  constexpr size_t kMaxShown = 64;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

// What follows "found" in a message: the value and its TOML type.
std::string describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return quoted(node.as_string()->get()) + " (string)";
    case toml::node_type::integer:
      return std::to_string(node.as_integer()->get()) + " (integer)";
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "true (boolean)" : "false (boolean)";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::floating_point:
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
    case toml::node_type::none:
      break;
  }
  // toml++ prints these in TOML syntax, which is how the operator wrote them.
  std::ostringstream text;
  text << toml::node_view<const toml::node>(node);
  switch (node.type()) {
    case toml::node_type::floating_point: return text.str() + " (float)";
    case toml::node_type::date: return text.str() + " (date)";
    case toml::node_type::time: return text.str() + " (time)";
    default: return text.str() + " (date-time)";
  }
}

std::string integer_range(int64_t min, int64_t max) {
  return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

// `"a"`, `"a" or "b"`, `one of "a", "b", "c"`.
std::string choice_list(std::initializer_list<std::string_view> choices) {
  std::string out = choices.size() > 2 ? "one of " : "";
  size_t i = 0;
  for (const std::string_view c : choices) {
    if (i > 0) out += (choices.size() == 2) ? " or " : ", ";
    out += quoted(c);
    ++i;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Text formats inside string values.

// Digits only (no sign, no spaces), at most `max`.
std::optional<uint32_t> parse_decimal(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  uint64_t value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  if (value > max) return std::nullopt;
  return static_cast<uint32_t>(value);
}

// inet_pton() reads up to a NUL, so a TOML string with an embedded \u0000
// would otherwise be judged by its prefix alone.
bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// Dotted quad, in host byte order. inet_pton() (unlike inet_aton()) takes
// exactly four decimal parts: no "10.1", no hex, no octal.
std::optional<uint32_t> parse_ipv4(std::string_view s) {
  if (has_nul(s)) return std::nullopt;
  in_addr a{};
  if (inet_pton(AF_INET, std::string(s).c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::optional<std::array<uint8_t, 16>> parse_ipv6(std::string_view s) {
  if (has_nul(s)) return std::nullopt;
  std::array<uint8_t, 16> bytes{};
  if (inet_pton(AF_INET6, std::string(s).c_str(), bytes.data()) != 1) return std::nullopt;
  return bytes;
}

// "ADDRESS" or "ADDRESS/LEN": the address and the text after the slash, if any.
std::pair<std::string_view, std::optional<std::string_view>> split_prefix(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return {s, std::nullopt};
  return {s.substr(0, slash), s.substr(slash + 1)};
}

std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view s) {
  const auto [address_text, length_text] = split_prefix(s);
  const auto address = parse_ipv4(address_text);
  if (!address) return std::nullopt;
  Ipv4Prefix p;
  p.address = *address;
  if (length_text) {
    const auto length = parse_decimal(*length_text, 32);
    if (!length) return std::nullopt;
    p.length = static_cast<uint8_t>(*length);
  }
  return p;
}

std::optional<Ipv6Prefix> parse_ipv6_prefix(std::string_view s) {
  const auto [address_text, length_text] = split_prefix(s);
  const auto address = parse_ipv6(address_text);
  if (!address) return std::nullopt;
  Ipv6Prefix p;
  p.address = *address;
  if (length_text) {
    const auto length = parse_decimal(*length_text, 128);
    if (!length) return std::nullopt;
    p.length = static_cast<uint8_t>(*length);
  }
  return p;
}

// Why clients could never reach a server at this address; nullptr if they can.
const char* unusable_ipv4(uint32_t a) {
  if (a == 0) return "the unspecified address";
  if (a == 0xffff'ffff) return "the broadcast address";
  if ((a >> 24) == 127) return "a loopback address";
  if ((a >> 28) == 0xe) return "a multicast address";  // 224.0.0.0/4
  return nullptr;
}

const char* unusable_ipv6(const std::array<uint8_t, 16>& a) {
  const bool upper_zero = std::all_of(a.begin(), a.end() - 1, [](uint8_t b) { return b == 0; });
  if (upper_zero && a[15] == 0) return "the unspecified address";
  if (upper_zero && a[15] == 1) return "the loopback address";
  if (a[0] == 0xff) return "a multicast address";  // ff00::/8
  return nullptr;
}

// "HOST:PORT" with an IPv4 HOST or a bracketed IPv6 one, as in a URL.
bool is_listen_address(std::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view host = s.substr(0, colon);
  const auto port = parse_decimal(s.substr(colon + 1), 65535);
  if (!port || *port == 0) return false;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return parse_ipv6(host.substr(1, host.size() - 2)).has_value();
  }
  return parse_ipv4(host).has_value();
}

// RFC 5905 section 7.3: a refid is four ASCII characters (a kiss code or a
// reference clock type such as "GPS") or, from stratum 2 on, the upstream
// server's IPv4 address.
bool is_refid(std::string_view s) {
  if (s.size() <= 4) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  }
  return parse_ipv4(s).has_value();
}

// DPDK names its runtime files and shared memory after the prefix, so it
// must be a plain file name component; 32 is well under its own limits.
bool is_file_prefix(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

// ---------------------------------------------------------------------------
// Errors and the value being decoded.

using Errors = std::vector<ConfigError>;

class Sink {
 public:
  Sink(const std::string& file, Errors& errors) : file_(file), errors_(errors) {}

  void add(const toml::source_position& at, std::string message) {
    errors_.push_back(ConfigError{file_, at.line, at.column, std::move(message)});
  }
  // A value from the command line carries its option as its path: the
  // error names the option instead of a line of the file.
  void add(const toml::source_region& where, std::string message) {
    if (where.path != nullptr && *where.path != file_) {
      errors_.push_back(ConfigError{*where.path, 0, 0, std::move(message)});
    } else {
      add(where.begin, std::move(message));
    }
  }
  size_t count() const { return errors_.size(); }

 private:
  const std::string& file_;
  Errors& errors_;
};

// One value of the document (a key's value or an array element) under its
// dotted name, with typed readers that report a mismatch at the value and
// return nullopt. Nothing stops at the first error: the caller keeps going.
class Field {
 public:
  Field(const toml::node& node, std::string name, Sink& sink) : node_(node), name_(std::move(name)), sink_(sink) {}

  // "NAME: MESSAGE" at this value.
  void error(std::string_view message) const { sink_.add(node_.source(), name_ + ": " + std::string(message)); }

  // "NAME: expected EXPECTATION, found VALUE (TYPE)" at this value.
  void expected(std::string_view expectation) const {
    error("expected " + std::string(expectation) + ", found " + describe(node_));
  }

  // An integer (never a boolean or a float) for which valid() holds.
  // REQUIRES: every valid value fits in T.
  template <typename T, typename Valid>
  std::optional<T> integer_where(std::string_view expectation, Valid valid) const {
    const auto* v = node_.as_integer();
    if (v == nullptr || !valid(v->get())) {
      expected(expectation);
      return std::nullopt;
    }
    return static_cast<T>(v->get());
  }

  template <typename T>
  std::optional<T> integer(int64_t min, int64_t max) const {
    return integer_where<T>(integer_range(min, max), [=](int64_t v) { return v >= min && v <= max; });
  }

  template <typename Valid>
  std::optional<std::string> string_where(std::string_view expectation, Valid valid) const {
    const auto* v = node_.as_string();
    if (v == nullptr || !valid(std::string_view(v->get()))) {
      expected(expectation);
      return std::nullopt;
    }
    return v->get();
  }

  std::optional<bool> boolean() const {
    const auto* v = node_.as_boolean();
    if (v == nullptr) {
      expected("true or false");
      return std::nullopt;
    }
    return v->get();
  }

  std::optional<std::string> string() const {
    return string_where("a string", [](std::string_view) { return true; });
  }

  std::optional<std::string> one_of(std::initializer_list<std::string_view> choices) const {
    return string_where(choice_list(choices), [&](std::string_view s) {
      return std::find(choices.begin(), choices.end(), s) != choices.end();
    });
  }

  // Calls each(element_field) for every element, named "NAME[INDEX]".
  template <typename Each>
  void for_each(std::string_view expectation, Each each) const {
    const auto* array = node_.as_array();
    if (array == nullptr) {
      expected(expectation);
      return;
    }
    for (size_t i = 0; i < array->size(); ++i) {
      each(Field((*array)[i], name_ + "[" + std::to_string(i) + "]", sink_));
    }
  }

 private:
  const toml::node& node_;
  std::string name_;
  Sink& sink_;
};

// ---------------------------------------------------------------------------
// Decoders of the keys that need more than one typed read.

// An array of "ADDRESS/LEN" or "ADDRESS" prefixes, IPv4 or IPv6.
void decode_prefixes(const Field& f, std::vector<core::Prefix>& out) {
  f.for_each("an array of IPv4/IPv6 prefixes", [&](const Field& e) {
    const auto text = e.string_where(R"("ADDRESS/LEN" or "ADDRESS", IPv4 or IPv6)",
                                     [](std::string_view s) { return core::parse_prefix(std::string(s)).ok(); });
    if (text) out.push_back(*core::parse_prefix(*text));
  });
}

void decode_worker_cpus(const Field& f, Config& c) {
  auto& cpus = c.eal.worker_cpus;
  f.for_each("an array of integers from 0 to 1023", [&](const Field& e) {
    const auto cpu = e.integer<uint32_t>(0, 1023);
    if (!cpu) return;
    // Two workers polling on one CPU halve each other's throughput and
    // add jitter to both queues' timestamps.
    if (std::find(cpus.begin(), cpus.end(), *cpu) != cpus.end()) {
      e.error("expected a CPU not already listed, found CPU " + std::to_string(*cpu) + " a second time");
      return;
    }
    cpus.push_back(*cpu);
  });
}

void decode_server_ipv4(const Field& f, Config& c) {
  f.for_each("an array of IPv4 addresses", [&](const Field& e) {
    const auto text = e.string_where(R"("A.B.C.D" or "A.B.C.D/LEN" with LEN from 0 to 32)",
                                     [](std::string_view s) { return parse_ipv4_prefix(s).has_value(); });
    if (!text) return;
    const Ipv4Prefix prefix = *parse_ipv4_prefix(*text);
    if (const char* why = unusable_ipv4(prefix.address)) {
      e.error("expected a unicast address clients can reach, found " + quoted(*text) + " (" + why + ")");
      return;
    }
    const auto same_address = [&](const Ipv4Prefix& p) { return p.address == prefix.address; };
    if (std::any_of(c.server.ipv4.begin(), c.server.ipv4.end(), same_address)) {
      e.error("expected each address once, found " + quoted(*text) + " again");
      return;
    }
    c.server.ipv4.push_back(prefix);
  });
}

void decode_server_ipv6(const Field& f, Config& c) {
  f.for_each("an array of IPv6 addresses", [&](const Field& e) {
    const auto text = e.string_where(R"("ADDRESS" or "ADDRESS/LEN" (IPv6) with LEN from 0 to 128)",
                                     [](std::string_view s) { return parse_ipv6_prefix(s).has_value(); });
    if (!text) return;
    const Ipv6Prefix prefix = *parse_ipv6_prefix(*text);
    if (const char* why = unusable_ipv6(prefix.address)) {
      e.error("expected a unicast address clients can reach, found " + quoted(*text) + " (" + why + ")");
      return;
    }
    // Compared as bytes: "2001:db8::1" and "2001:0db8:0:0::1" are one address.
    const auto same_address = [&](const Ipv6Prefix& p) { return p.address == prefix.address; };
    if (std::any_of(c.server.ipv6.begin(), c.server.ipv6.end(), same_address)) {
      e.error("expected each address once, found " + quoted(*text) + " again");
      return;
    }
    c.server.ipv6.push_back(prefix);
  });
}

// ---------------------------------------------------------------------------
// The schema: one entry per key, in the order docs/configuration.md lists
// them. `meaning` is what the documentation says about the key; keep the two
// in step. Rules that relate two keys are in check_cross_key_rules().

using DecodeFn = void (*)(const Field& field, Config& config);

enum class Presence { kOptional, kRequired };

struct KeySpec {
  std::string_view table;
  std::string_view key;
  std::string_view meaning;
  DecodeFn decode;
  Presence presence = Presence::kOptional;
};

constexpr std::string_view kMemoryMbExpectation =
    R"(an integer from 64 to 1048576, or 0 with eal.memory = "hugepages")";
constexpr int64_t kMaxMemoryMb = 1048576;

constexpr KeySpec kSchema[] = {
    {"eal", "memory",
     R"("no-huge": DPDK takes memory_mb of ordinary memory, no set-up needed. "hugepages": it uses /dev/hugepages.)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"no-huge", "hugepages"})) c.eal.memory = *v;
     }},
    {"eal", "memory_mb",
     "Memory DPDK reserves, in MiB (-m); 64 to 1048576. With hugepages, 0 lets DPDK decide.",
     [](const Field& f, Config& c) {
       // Whether 0 is allowed depends on eal.memory: see check_cross_key_rules().
       const auto valid = [](int64_t v) { return v == 0 || (v >= 64 && v <= kMaxMemoryMb); };
       if (auto v = f.integer_where<uint32_t>(kMemoryMbExpectation, valid)) c.eal.memory_mb = *v;
     }},
    {"eal", "file_prefix",
     "DPDK --file-prefix: names this instance's runtime files; one per instance on a host.",
     [](const Field& f, Config& c) {
       if (auto v = f.string_where(R"(1 to 32 letters, digits, "_" or "-")", is_file_prefix)) c.eal.file_prefix = *v;
     }},
    {"eal", "control_cpu", "CPU of DPDK's main lcore, which runs the control thread.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint32_t>(0, 1023)) c.eal.control_cpu = *v;
     }},
    {"eal", "worker_cpus", "One distinct CPU per port queue for its poll-mode worker; default CPUs 1 to queues.",
     decode_worker_cpus},
    {"eal", "args", "Extra EAL arguments, appended as is.",
     [](const Field& f, Config& c) {
       f.for_each("an array of strings", [&](const Field& e) {
         if (auto v = e.string()) c.eal.args.push_back(*v);
       });
     }},
    {"eal", "log_level", "DPDK's own log level.",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"})) {
         c.eal.log_level = *v;
       }
     }},

    {"port", "device", "The NIC: a PCI address (0000:3b:00.0) or a DPDK vdev string (net_af_xdp0,iface=eth1).",
     [](const Field& f, Config& c) {
       if (auto v = f.string_where("a non-empty string", [](std::string_view s) { return !s.empty(); })) {
         c.port.device = *v;
       }
     },
     Presence::kRequired},
    {"port", "queues", "RX/TX queue pairs, each polled by one worker; 1 to 64.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint16_t>(1, 64)) c.port.queues = *v;
     }},
    {"port", "rx_descriptors",
     "Descriptors per RX queue: a power of two from 64 to 16384. Default: 4096 on AF_XDP ports (the kernel "
     "fills that ring while the worker yields), 1024 on others.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer_where<uint16_t>("a power of two from 64 to 16384",
                                              [](int64_t n) { return n >= 64 && n <= 16384 && is_power_of_two(n); })) {
         c.port.rx_descriptors = *v;
       }
     }},
    {"port", "tx_descriptors", "Descriptors per TX queue: a power of two from 64 to 16384.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer_where<uint16_t>("a power of two from 64 to 16384",
                                              [](int64_t n) { return n >= 64 && n <= 16384 && is_power_of_two(n); })) {
         c.port.tx_descriptors = *v;
       }
     }},
    {"port", "hw_timestamps", R"("auto": use the NIC's RX timestamps if it has them. "off": software timestamps.)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"auto", "off"})) c.port.hw_timestamps = *v;
     }},
    {"port", "checksum_offload", R"("auto": let the NIC compute checksums if it can. "off": compute them in software.)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"auto", "off"})) c.port.checksum_offload = *v;
     }},

    {"port", "yield_us",
     "Workers yield their CPU every N us (1-1000000); 0: never; -1: auto (1000 for AF_XDP, AF_PACKET and TAP "
     "ports, whose frames need the kernel on that CPU; never for other ports).",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<int32_t>(-1, 1'000'000)) c.port.yield_us = *v;
     }},
    {"server", "ipv4", R"(IPv4 addresses the server answers on, "A.B.C.D" or "A.B.C.D/LEN" (on-link prefix).)",
     decode_server_ipv4},
    {"server", "ipv6", R"(IPv6 addresses the server answers on, "ADDRESS" or "ADDRESS/LEN" (on-link prefix).)",
     decode_server_ipv6},
    {"server", "port", "UDP port NTP requests arrive on.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint16_t>(1, 65535)) c.server.ntp_port = *v;
     }},
    {"server", "vlan", "802.1Q VLAN ID of the server's traffic; 0 for untagged.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint16_t>(0, 4094)) c.server.vlan = *v;
     }},

    {"reference", "source",
     R"(Where the time comes from: "system" (the host's clock), "phc" (a PTP hardware clock) or "nic" (the port's clock).)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"system", "phc", "nic"})) c.reference.source = *v;
     }},
    {"reference", "stratum", "Stratum announced while the reference is synchronized; 1 to 15.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint8_t>(1, 15)) c.reference.stratum = *v;
     }},
    {"reference", "refid", R"(Reference ID: 1 to 4 ASCII characters or an IPv4 address; "" for the source's default.)",
     [](const Field& f, Config& c) {
       if (auto v = f.string_where(R"(1 to 4 printable ASCII characters or an IPv4 address ("" for the default))",
                                   is_refid)) {
         c.reference.refid = *v;
       }
     }},
    {"reference", "local_stratum", "1 to 15: serve at this stratum even when the clock is unsynchronized. 0: off.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint8_t>(0, 15)) c.reference.local_stratum = *v;
     }},
    {"reference", "phc_device", R"(The PTP hardware clock of source = "phc", e.g. "/dev/ptp0".)",
     [](const Field& f, Config& c) {
       const auto valid = [](std::string_view s) { return s.size() > 1 && s.front() == '/' && !has_nul(s); };
       if (auto v = f.string_where("an absolute path such as \"/dev/ptp0\"", valid)) c.reference.phc_device = *v;
     }},
    {"reference", "timescale", R"(What a "phc" or "nic" clock counts: "tai" (PTP's timescale) or "utc".)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"tai", "utc"})) c.reference.timescale = *v;
     }},
    {"reference", "leap_file", R"(IERS leap-seconds.list file (hash and expiry checked); "" for none.)",
     [](const Field& f, Config& c) {
       const auto valid = [](std::string_view s) { return s.empty() || (s.front() == '/' && !has_nul(s)); };
       if (auto v = f.string_where(R"(an absolute path or "")", valid)) c.reference.leap_file = *v;
     }},
    {"reference", "tai_offset", "TAI - UTC in seconds when no leap file is usable; 0: unknown.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<int32_t>(0, 1000)) c.reference.tai_offset = *v;
     }},
    {"reference", "leap_mode",
     R"("step": insert (or delete) the leap second at 23:59:60, announced with LI. "smear": 24-hour linear smear.)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"step", "smear"})) c.reference.leap_mode = *v;
     }},
    {"reference", "holdover_dispersion_ppm",
     "Rate at which root dispersion grows while no good sample arrives, in ppm; 1 to 100000.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint32_t>(1, 100000)) c.reference.holdover_dispersion_ppm = *v;
     }},
    {"reference", "holdover_limit", "Seconds without a good sample before answers say LI=3, stratum 16; 1 to 604800.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint32_t>(1, 604800)) c.reference.holdover_limit = *v;
     }},
    {"reference", "step_threshold_us", "A jump of the reference larger than this (us) is logged as a step; 1 to 10000000.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint32_t>(1, 10'000'000)) c.reference.step_threshold_us = *v;
     }},

    {"access", "default", R"(Whether a client no prefix matches is answered: "allow" or "deny".)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"allow", "deny"})) c.access.default_allow = *v == "allow";
     }},
    {"access", "allow", "Prefixes answered (the longest matching prefix of allow and deny decides).",
     [](const Field& f, Config& c) { decode_prefixes(f, c.access.allow); }},
    {"access", "deny", "Prefixes not answered.",
     [](const Field& f, Config& c) { decode_prefixes(f, c.access.deny); }},
    {"access", "refusal", R"(What a denied client gets: "drop" (nothing) or "kod" (a Kiss-o'-Death DENY).)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"drop", "kod"})) c.access.refuse_with_kod = *v == "kod";
     }},

    {"ratelimit", "enabled", "Limit the request rate of each client (IPv4 address, IPv6 prefix).",
     [](const Field& f, Config& c) {
       if (auto v = f.boolean()) c.ratelimit.enabled = *v;
     }},
    {"ratelimit", "interval", "A client earns one request per 2^interval seconds (-4 to 12).",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<int8_t>(-4, 12)) c.ratelimit.interval = *v;
     }},
    {"ratelimit", "burst", "Requests a client may save up (1 to 255).",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint16_t>(1, 255)) c.ratelimit.burst = *v;
     }},
    {"ratelimit", "leak", "1 in 2^leak requests over the limit is answered anyway, at random; 0: none (0 to 16).",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint8_t>(0, 16)) c.ratelimit.leak = *v;
     }},
    {"ratelimit", "table_entries", "Clients remembered per worker (16 bytes each), 256 to 67108864.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint32_t>(256, 67'108'864)) c.ratelimit.table_entries = *v;
     }},
    {"ratelimit", "ipv6_prefix", "Length of the IPv6 prefix that counts as one client (32 to 128).",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint8_t>(32, 128)) c.ratelimit.ipv6_prefix = *v;
     }},
    {"ratelimit", "refusal", R"(What a client over the limit gets: "kod" (a Kiss-o'-Death RATE) or "drop".)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"kod", "drop"})) c.ratelimit.refuse_with_kod = *v == "kod";
     }},
    {"ratelimit", "kod_poll", "The poll interval (log2 s) a KoD RATE tells the client to back off to (0 to 17).",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<int8_t>(0, 17)) c.ratelimit.kod_poll = *v;
     }},

    {"control", "allow", "Prefixes whose mode 6 (ntpq) requests are answered; empty: none.",
     [](const Field& f, Config& c) { decode_prefixes(f, c.control.allow); }},

    {"auth", "keys", R"(Keys file in ntpd's or chrony's format (absolute path); "" for none.)",
     [](const Field& f, Config& c) {
       const auto valid = [](std::string_view s) { return s.empty() || (s.front() == '/' && !has_nul(s)); };
       if (auto v = f.string_where(R"(an absolute path or "")", valid)) c.auth.keys = *v;
     }},
    {"auth", "format", R"(How the keys file is read: "auto", "ntpd" or "chrony".)",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"auto", "ntpd", "chrony"})) c.auth.format = *v;
     }},
    {"auth", "require", "Answer only requests with a valid MAC.",
     [](const Field& f, Config& c) {
       if (auto v = f.boolean()) c.auth.require = *v;
     }},

    {"interleaved", "enabled", "Answer interleaved requests (chrony's xleave) with the previous answer's transmit time.",
     [](const Field& f, Config& c) {
       if (auto v = f.boolean()) c.interleaved.enabled = *v;
     }},
    {"interleaved", "table_entries", "Transmit timestamps remembered per worker (16 bytes each), 256 to 67108864.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint32_t>(256, 67'108'864)) c.interleaved.table_entries = *v;
     }},

    {"stats", "listen", R"(Address of the HTTP metrics endpoint, "HOST:PORT" ("[::1]:9123" for IPv6); "" for none.)",
     [](const Field& f, Config& c) {
       const auto valid = [](std::string_view s) { return s.empty() || is_listen_address(s); };
       if (auto v = f.string_where(R"("" or "HOST:PORT" with an IPv4 or a bracketed IPv6 HOST and PORT from 1 to 65535)",
                                   valid)) {
         c.stats.listen = *v;
       }
     }},

    {"log", "level", "Least severe messages tachyond logs.",
     [](const Field& f, Config& c) {
       if (auto v = f.one_of({"trace", "debug", "info", "warn", "error", "critical", "off"})) c.log.level = *v;
     }},
    {"log", "file", R"(Absolute path of the log file; "" for stderr (the journal under systemd).)",
     [](const Field& f, Config& c) {
       const auto valid = [](std::string_view s) { return s.empty() || (s.front() == '/' && !has_nul(s)); };
       if (auto v = f.string_where(R"(an absolute path or "")", valid)) c.log.file = *v;
     }},
    {"log", "max_size_mb", "Size in MiB at which the log file is rotated.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint32_t>(1, 10240)) c.log.max_size_mb = *v;
     }},
    {"log", "max_files", "Rotated log files kept.",
     [](const Field& f, Config& c) {
       if (auto v = f.integer<uint32_t>(1, 100)) c.log.max_files = *v;
     }},
};

std::vector<std::string_view> table_names() {
  std::vector<std::string_view> names;
  for (const KeySpec& spec : kSchema) {
    if (std::find(names.begin(), names.end(), spec.table) == names.end()) names.push_back(spec.table);
  }
  return names;
}

// ---------------------------------------------------------------------------
// "Did you mean": Levenshtein distance, small enough to be a typo.

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string_view> closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  constexpr size_t kMaxTypo = 2;
  std::optional<std::string_view> best;
  size_t best_distance = kMaxTypo + 1;
  for (const std::string_view c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------

class Decoder {
 public:
  Decoder(Config& config, Sink& sink) : config_(config), sink_(sink) {}

  void decode(const toml::table& doc) {
    const auto tables = table_names();
    for (auto&& [name, node] : doc) {
      if (std::find(tables.begin(), tables.end(), name.str()) == tables.end()) {
        unknown_top_level(name, node, tables);
      } else if (const toml::table* table = node.as_table()) {
        decode_table(name.str(), *table);
      } else {
        sink_.add(node.source().begin, std::string(name.str()) + ": expected a table, found " + describe(node));
      }
    }
    check_required(doc);
    check_cross_key_rules(doc);
  }

 private:
  // Where a key's value is and whether it decoded without error.
  struct Seen {
    toml::source_position at;
    bool ok;
  };

  void decode_table(std::string_view table_name, const toml::table& table) {
    for (auto&& [key, node] : table) {
      const KeySpec* spec = find(table_name, key.str());
      if (spec == nullptr) {
        unknown_key(table_name, key);
        continue;
      }
      const std::string qualified = std::string(table_name) + "." + std::string(key.str());
      const size_t errors_before = sink_.count();
      spec->decode(Field(node, qualified, sink_), config_);
      seen_[qualified] = Seen{node.source().begin, sink_.count() == errors_before};
    }
  }

  static const KeySpec* find(std::string_view table, std::string_view key) {
    for (const KeySpec& spec : kSchema) {
      if (spec.table == table && spec.key == key) return &spec;
    }
    return nullptr;
  }

  void unknown_top_level(const toml::key& name, const toml::node& node, const std::vector<std::string_view>& tables) {
    const auto hint = closest(name.str(), tables);
    std::string message;
    if (node.is_table()) {
      message = "unknown table [" + std::string(name.str()) + "]";
      if (hint) message += "; did you mean [" + std::string(*hint) + "]?";
    } else {
      message = "unknown key " + quoted(name.str()) + " at the top level";
      message += hint ? "; did you mean [" + std::string(*hint) + "]?" : "; settings belong in a table such as [port]";
    }
    sink_.add(name.source().begin, std::move(message));
  }

  void unknown_key(std::string_view table, const toml::key& key) {
    std::vector<std::string_view> keys;
    for (const KeySpec& spec : kSchema) {
      if (spec.table == table) keys.push_back(spec.key);
    }
    std::string message = "unknown key " + quoted(key.str()) + " in [" + std::string(table) + "]";
    if (const auto hint = closest(key.str(), keys)) message += "; did you mean " + quoted(*hint) + "?";
    sink_.add(key.source(), std::move(message));
  }

  // Reported where the key belongs: at its table if the file has one.
  void check_required(const toml::table& doc) {
    for (const KeySpec& spec : kSchema) {
      const std::string qualified = std::string(spec.table) + "." + std::string(spec.key);
      if (spec.presence != Presence::kRequired || seen_.count(qualified) != 0) continue;
      sink_.add(position_of(doc, spec.table), "missing required key " + qualified);
    }
  }

  void check_cross_key_rules(const toml::table& doc) {
    const Config& c = config_;
    // Each rule is checked only when the keys it relates decoded cleanly:
    // a rule about a value already reported as wrong would only add noise.
    if (ok("eal.memory_mb") && ok("eal.memory") && c.eal.memory_mb == 0 && c.eal.memory != "hugepages") {
      sink_.add(seen_.at("eal.memory_mb").at,
                "eal.memory_mb: expected " + std::string(kMemoryMbExpectation) + ", found 0 with eal.memory = " +
                    quoted(c.eal.memory) + " (only hugepages let DPDK size its memory itself)");
    }
    if (ok("eal.worker_cpus") && ok("port.queues") && seen_.count("eal.worker_cpus") != 0 &&
        c.eal.worker_cpus.size() != c.port.queues) {
      const size_t n = c.eal.worker_cpus.size();
      sink_.add(seen_.at("eal.worker_cpus").at,
                "eal.worker_cpus: expected one CPU per queue (port.queues = " + std::to_string(c.port.queues) +
                    "), found " + std::to_string(n) + (n == 1 ? " CPU" : " CPUs"));
    }
    if (ok("server.ipv4") && ok("server.ipv6") && c.server.ipv4.empty() && c.server.ipv6.empty()) {
      sink_.add(position_of(doc, "server"), "server needs at least one address in server.ipv4 or server.ipv6");
    }
    if (ok("auth.require") && ok("auth.keys") && c.auth.require && c.auth.keys.empty()) {
      sink_.add(seen_.at("auth.require").at,
                "auth.require: expected auth.keys to name a keys file, found require = true and no keys "
                "(no request could ever be answered)");
    }
  }

  // True if the key is absent (its default is valid) or decoded cleanly.
  bool ok(const std::string& qualified) const {
    const auto it = seen_.find(qualified);
    return it == seen_.end() || it->second.ok;
  }

  // The position of a top-level table, or line 0 if the file has none.
  static toml::source_position position_of(const toml::table& doc, std::string_view table) {
    const toml::node* node = doc.get(table);
    return node != nullptr ? node->source().begin : toml::source_position{};
  }

  Config& config_;
  Sink& sink_;
  std::map<std::string, Seen> seen_;
};

Result<std::string> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Result<std::string>::error(std::system_category().message(errno));
  std::string text;
  char buffer[64 * 1024];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) text.append(buffer, n);
  // fopen() succeeds on a directory; the read is what fails (EISDIR).
  const int read_errno = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (read_errno != 0) return Result<std::string>::error(std::system_category().message(read_errno));
  return text;
}

// Inserts each override into the document, where the decoder validates it
// like any other value. A value that is not TOML is taken as a string, so
// `--set port.device=net_tap0` needs no quotes.
void apply_overrides(toml::table& doc, const std::vector<ConfigOverride>& overrides, Errors& errors) {
  for (const ConfigOverride& o : overrides) {
    const auto dot = o.key.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == o.key.size()) {
      errors.push_back(ConfigError{o.origin, 0, 0, "expected TABLE.KEY=VALUE, found " + quoted(o.key)});
      continue;
    }
    toml::table parsed;
    try {
      parsed = toml::parse(std::string_view("v = " + o.value), std::string_view(o.origin));
    } catch (const toml::parse_error&) {
      try {
        parsed = toml::parse(std::string_view("v = " + quoted(o.value)), std::string_view(o.origin));
      } catch (const toml::parse_error& e) {
        errors.push_back(ConfigError{o.origin, 0, 0, "cannot read the value: " + std::string(e.description())});
        continue;
      }
    }
    const std::string table = o.key.substr(0, dot);
    if (!doc.contains(table)) doc.insert_or_assign(table, toml::table{});
    toml::table* t = doc[table].as_table();
    if (t == nullptr) {
      errors.push_back(ConfigError{o.origin, 0, 0, "[" + table + "] is not a table in the file"});
      continue;
    }
    toml::node* value = parsed.get("v");
    // The key carries the option as its source too, for "unknown key" errors.
    t->insert_or_assign(toml::key(o.key.substr(dot + 1), value->source()), std::move(*value));
  }
}

}  // namespace

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line != 0) {
    out += ":" + std::to_string(line);
    if (column != 0) out += ":" + std::to_string(column);
  }
  return out + ": " + message;
}

ConfigResult load_config(const std::string& path, const std::vector<ConfigOverride>& overrides) {
  auto text = read_file(path);
  if (!text.ok()) {
    ConfigResult result;
    result.config.path = path;
    result.errors.push_back(ConfigError{path, 0, 0, "cannot read the configuration file: " + text.message()});
    return result;
  }
  return parse_config(*text, path, overrides);
}

ConfigResult parse_config(const std::string& text, const std::string& path,
                          const std::vector<ConfigOverride>& overrides) {
  ConfigResult result;
  result.config.path = path;
  Sink sink(path, result.errors);

  toml::table doc;
  try {
    doc = toml::parse(std::string_view(text), std::string_view(path));
  } catch (const toml::parse_error& e) {
    sink.add(e.source().begin, "invalid TOML: " + std::string(e.description()));
    return result;
  }

  apply_overrides(doc, overrides, result.errors);
  Decoder(result.config, sink).decode(doc);
  // Tables come out of toml++ sorted by name and cross-key rules run last;
  // the operator reads the errors against the file, top to bottom.
  std::stable_sort(result.errors.begin(), result.errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return result;
}

}  // namespace tachyon
