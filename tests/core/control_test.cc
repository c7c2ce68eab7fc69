#include "core/control.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/responder.h"
#include "tests/support/pcap_file.h"

namespace tachyon::core {
namespace {

constexpr NtpTimestamp kNow{0xeeab'b75b'4ad5'59c6ull};

SystemVariables synced_vars() {
  ServerState s;
  s.synchronized = true;
  s.leap = Leap::kNone;
  s.stratum = 1;
  s.precision = -24;
  s.refid = refid_from_ascii("PHC\0");
  s.root_delay = NtpShort{0x0000'0083};       // 2.0 ms (131/65536 s = 1.998901 ms)
  s.root_dispersion = NtpShort{0x0000'0400};  // 15.625 ms
  s.reference_time = NtpTimestamp{0xeeab'b758'8000'0000ull};
  SystemVariables v;
  v.set_server(s);
  v.sync_source = SyncSource::kOther;
  v.poll = 4;
  v.offset_ns = -1'234;
  v.jitter_ns = 5'678;
  v.frequency_ppm = 12.5;
  v.tai_offset_s = 37;
  v.leap_file_expiry_unix = 1'782'777'600;
  v.uptime_s = 4242;
  v.reference_select = PeerSelect::kSysPeer;
  v.reach = 0xff;
  v.reference_address = 0x7f7f'0102;
  v.reference_delay_ns = 250;
  v.reference_dispersion_ns = 1'000'000;
  v.last_sample = NtpTimestamp{0xeeab'b759'0000'0000ull};
  set_text(v.version, "tachyond 0.1.0");
  set_text(v.source, "phc");
  set_text(v.state, "synchronized");
  return v;
}

// Every variable at its widest.
SystemVariables extreme_vars() {
  SystemVariables v = synced_vars();
  v.leap = Leap::kUnsync;
  v.stratum = 255;
  v.precision = -128;
  v.refid = 0xffff'ffff;
  v.root_delay = NtpShort{0xffff'ffff};
  v.root_dispersion = NtpShort{0xffff'ffff};
  v.reference_time = NtpTimestamp{~uint64_t{0}};
  v.poll = -128;
  v.offset_ns = std::numeric_limits<int64_t>::min();
  v.jitter_ns = std::numeric_limits<int64_t>::max();
  v.frequency_ppm = -1e300;
  v.tai_offset_s = std::numeric_limits<int32_t>::max();
  v.leap_file_expiry_unix = std::numeric_limits<int64_t>::max();
  v.uptime_s = std::numeric_limits<int64_t>::max();
  v.reference_address = 0xffff'ffff;
  v.reference_delay_ns = std::numeric_limits<int64_t>::max();
  v.reference_dispersion_ns = std::numeric_limits<int64_t>::max();
  v.last_sample = NtpTimestamp{~uint64_t{0}};
  set_text(v.version, std::string(100, 'v'));
  set_text(v.source, std::string(100, 's'));
  set_text(v.state, std::string(100, 't'));
  return v;
}

// A request as ntpq sends it: NTPv2, data padded to 32 bits (not counted).
std::vector<uint8_t> request(ControlOpcode op, uint16_t association = 0, std::string data = "",
                             uint16_t sequence = 7, uint8_t version = 2) {
  ControlHeader h;
  h.version = version;
  h.opcode = static_cast<uint8_t>(op);
  h.sequence = sequence;
  h.association = association;
  h.count = static_cast<uint16_t>(data.size());
  std::vector<uint8_t> p(kControlHeaderSize + ((data.size() + 3) & ~size_t{3}), 0);
  encode_control_header(h, p);
  std::memcpy(p.data() + kControlHeaderSize, data.data(), data.size());
  return p;
}

struct Answer {
  ControlResult result;
  std::vector<uint8_t> bytes;  // out[0, length)
  ControlHeader header;
  std::string data;            // the `count` data octets
};

Answer answer(const std::vector<uint8_t>& req, const SystemVariables& vars = synced_vars(),
              size_t out_size = 2048) {
  std::vector<uint8_t> out(out_size, 0xee);
  Answer a;
  a.result = respond_control(req, kNow, vars, out);
  if (!a.result.answer) return a;
  EXPECT_LE(a.result.length, out_size);
  a.bytes.assign(out.begin(), out.begin() + a.result.length);
  a.header = decode_control_header(a.bytes);
  EXPECT_LE(kControlHeaderSize + a.header.count, a.bytes.size());
  a.data.assign(a.bytes.begin() + kControlHeaderSize, a.bytes.begin() + kControlHeaderSize + a.header.count);
  return a;
}

// Splits "a=1, b="x, y", c" into pairs the way ntpq's __parse_varlist()
// does: commas outside quotes separate items, white space is trimmed, the
// first '=' separates name and value.
std::vector<std::pair<std::string, std::string>> parse_items(const std::string& text) {
  std::vector<std::string> items;
  std::string cur;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      items.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) items.push_back(cur);
  std::vector<std::pair<std::string, std::string>> out;
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    const auto e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  for (const auto& item : items) {
    const auto eq = item.find('=');
    out.emplace_back(trim(item.substr(0, eq)), eq == std::string::npos ? "" : trim(item.substr(eq + 1)));
  }
  return out;
}

std::map<std::string, std::string> parse(const std::string& text) {
  std::map<std::string, std::string> m;
  for (auto& [k, v] : parse_items(text)) {
    EXPECT_EQ(m.count(k), 0u) << "duplicate " << k;
    m[k] = v;
  }
  return m;
}

std::vector<std::string> names(const std::string& text) {
  std::vector<std::string> n;
  for (auto& [k, v] : parse_items(text)) n.push_back(k);
  return n;
}

void expect_well_formed(const Answer& a, const std::vector<uint8_t>& req) {
  ASSERT_TRUE(a.result.answer);
  const ControlHeader q = decode_control_header(req);
  EXPECT_EQ(a.bytes.size() % 4, 0u);
  EXPECT_EQ(a.bytes.size(), kControlHeaderSize + ((a.header.count + 3u) & ~3u));
  EXPECT_LE(a.header.count, kControlMaxData);
  EXPECT_EQ(a.header.mode, Mode::kControl);
  EXPECT_EQ(a.header.version, q.version);
  EXPECT_TRUE(a.header.response);
  EXPECT_FALSE(a.header.more);
  EXPECT_EQ(a.header.opcode, q.opcode);
  EXPECT_EQ(a.header.sequence, q.sequence);
  EXPECT_EQ(a.header.association, q.association);
  EXPECT_EQ(a.header.offset, 0);
  for (size_t i = kControlHeaderSize + a.header.count; i < a.bytes.size(); ++i) EXPECT_EQ(a.bytes[i], 0) << i;
}

void expect_error(const std::vector<uint8_t>& req, ControlError code, const SystemVariables& vars = synced_vars()) {
  const Answer a = answer(req, vars);
  expect_well_formed(a, req);
  EXPECT_TRUE(a.result.error);
  EXPECT_EQ(a.result.error_code, code);
  EXPECT_TRUE(a.header.error);
  EXPECT_EQ(a.header.status, static_cast<uint16_t>(static_cast<uint8_t>(code) << 8));
  EXPECT_EQ(a.header.count, 0);
  EXPECT_EQ(a.bytes.size(), kControlHeaderSize);
}

void expect_drop(const std::vector<uint8_t>& req, DropReason reason) {
  std::vector<uint8_t> out(2048, 0xee);
  const ControlResult r = respond_control(req, kNow, synced_vars(), out);
  EXPECT_FALSE(r.answer);
  EXPECT_EQ(r.reason, reason) << drop_reason_name(r.reason);
  EXPECT_EQ(out, std::vector<uint8_t>(2048, 0xee)) << "a drop writes nothing";
}

// ---------------------------------------------------------------------------
// Header codec

TEST(ControlHeader, DecodesEveryFieldAtItsRfc9327Offset) {
  const uint8_t b[] = {0xd6, 0xa2, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23};
  const ControlHeader h = decode_control_header(b);
  EXPECT_EQ(h.leap, Leap::kUnsync);
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.mode, Mode::kControl);
  EXPECT_TRUE(h.response);
  EXPECT_FALSE(h.error);
  EXPECT_TRUE(h.more);
  EXPECT_EQ(h.opcode, 2);
  EXPECT_EQ(h.sequence, 0x1234);
  EXPECT_EQ(h.status, 0x5678);
  EXPECT_EQ(h.association, 0x9abc);
  EXPECT_EQ(h.offset, 0xdef0);
  EXPECT_EQ(h.count, 0x0123);
}

TEST(ControlHeader, EncodeThenDecodeIsIdentity) {
  std::mt19937 rng(6);
  for (int i = 0; i < 1000; ++i) {
    ControlHeader h;
    h.leap = static_cast<Leap>(rng() & 3);
    h.version = static_cast<uint8_t>(rng() & 7);
    h.mode = static_cast<Mode>(rng() & 7);
    h.response = rng() & 1;
    h.error = rng() & 1;
    h.more = rng() & 1;
    h.opcode = static_cast<uint8_t>(rng() & 0x1f);
    h.sequence = static_cast<uint16_t>(rng());
    h.status = static_cast<uint16_t>(rng());
    h.association = static_cast<uint16_t>(rng());
    h.offset = static_cast<uint16_t>(rng());
    h.count = static_cast<uint16_t>(rng());
    uint8_t b[kControlHeaderSize];
    encode_control_header(h, b);
    EXPECT_EQ(decode_control_header(b), h);
  }
}

// ---------------------------------------------------------------------------
// READSTAT

TEST(ControlReadStatus, ListsTheReferenceAsSysPeer) {
  const auto req = request(ControlOpcode::kReadStatus, 0, "", 0xbeef);
  const Answer a = answer(req);
  expect_well_formed(a, req);
  EXPECT_FALSE(a.header.error);
  EXPECT_EQ(a.header.leap, Leap::kNone);
  EXPECT_EQ(a.header.status, system_status_word(synced_vars()));
  ASSERT_EQ(a.header.count, 4);
  EXPECT_EQ(load_be16(a.bytes.data() + 12), kReferenceAssociation);
  // configured (0x80) | reachable (0x10) | sys.peer (6): ntpq prints '*'.
  EXPECT_EQ(load_be16(a.bytes.data() + 14), 0x9600);
  EXPECT_EQ(a.bytes.size(), 16u);
}

TEST(ControlReadStatus, StatusWordsFollowTheReference) {
  SystemVariables v = synced_vars();
  // LI 0, source "other" (7), no events.
  EXPECT_EQ(system_status_word(v), 0x0700);
  EXPECT_EQ(reference_status_word(v), 0x9600);
  v.reference_select = PeerSelect::kReject;
  v.reach = 0;
  v.leap = Leap::kUnsync;
  EXPECT_EQ(system_status_word(v), 0xc000) << "no sys.peer: clock source unspecified";
  EXPECT_EQ(reference_status_word(v), 0x8000);
  v.reference_select = PeerSelect::kCandidate;
  v.reach = 0x01;
  v.leap = Leap::kInsert;
  EXPECT_EQ(system_status_word(v), 0x4000);
  EXPECT_EQ(reference_status_word(v), 0x9400);
}

TEST(ControlReadStatus, OfTheReferenceReturnsItsVariables) {
  const auto req = request(ControlOpcode::kReadStatus, kReferenceAssociation);
  const Answer a = answer(req);
  expect_well_formed(a, req);
  EXPECT_EQ(a.header.status, 0x9600);
  EXPECT_EQ(parse(a.data).at("srcadr"), "127.127.1.2");
}

TEST(ControlReadStatus, EchoesSequenceVersionAndLeap) {
  for (uint8_t version = 1; version <= 4; ++version) {
    for (uint16_t seq : {0, 1, 0x7fff, 0xffff}) {
      SystemVariables v = synced_vars();
      v.leap = static_cast<Leap>(seq & 3);
      const auto req = request(ControlOpcode::kReadStatus, 0, "", seq, version);
      const Answer a = answer(req, v);
      expect_well_formed(a, req);
      EXPECT_EQ(a.header.leap, v.leap);
    }
  }
}

TEST(ControlReadStatus, NtpqPeersCaptureGetsAnAnswerThroughRespond) {
  int seen = 0;
  for (const auto& frame : testing::read_capture(testing::captures_dir() + "/ntpq-peers.pcap")) {
    const auto udp = testing::udp_of(frame.bytes);
    if (!udp || udp->dst_port != kNtpPort) continue;
    ++seen;
    // As the dataplane does it: respond() hands mode 6 over, the answer is
    // written in place into the (2 KB) receive buffer.
    std::vector<uint8_t> buf(udp->payload);
    buf.resize(2048);
    const std::span<const uint8_t> req(buf.data(), udp->payload.size());
    ASSERT_EQ(respond(Request{req, kNow, udp->src_port}, AnswerTemplate(), buf).action, Action::kControl);
    const ControlResult r = respond_control(req, kNow, synced_vars(), buf);
    ASSERT_TRUE(r.answer) << drop_reason_name(r.reason);
    const ControlHeader q = decode_control_header(udp->payload);
    const ControlHeader h = decode_control_header(buf);
    EXPECT_EQ(q.opcode, static_cast<uint8_t>(ControlOpcode::kReadStatus));
    EXPECT_EQ(h.opcode, q.opcode);
    EXPECT_EQ(h.version, 2);
    EXPECT_EQ(h.sequence, q.sequence);
    EXPECT_TRUE(h.response);
    EXPECT_FALSE(h.error);
    EXPECT_EQ(h.count, 4);
    EXPECT_EQ(r.length, 16);
    EXPECT_EQ(load_be16(buf.data() + 14), 0x9600);
  }
  EXPECT_GT(seen, 0);
}

// ---------------------------------------------------------------------------
// READVAR, system variables

TEST(ControlReadVariables, SystemVariablesParseBackToWhatWasServed) {
  const auto req = request(ControlOpcode::kReadVariables);
  const Answer a = answer(req);
  expect_well_formed(a, req);
  EXPECT_EQ(a.header.status, 0x0700);
  ASSERT_GE(a.data.size(), 2u);
  EXPECT_EQ(a.data.substr(a.data.size() - 2), "\r\n") << "ntpd's trailer";
  const auto m = parse(a.data);
  EXPECT_EQ(m.at("version"), "\"tachyond 0.1.0\"");
  EXPECT_EQ(m.at("leap"), "0");
  EXPECT_EQ(m.at("stratum"), "1");
  EXPECT_EQ(m.at("precision"), "-24");
  EXPECT_EQ(m.at("rootdelay"), "1.999");
  EXPECT_EQ(m.at("rootdisp"), "15.625");
  EXPECT_EQ(m.at("refid"), "PHC");
  EXPECT_EQ(m.at("reftime"), "0xeeabb758.80000000");
  EXPECT_EQ(m.at("tc"), "4");
  EXPECT_EQ(m.at("peer"), "1");
  EXPECT_EQ(m.at("offset"), "-0.001234");
  EXPECT_EQ(m.at("frequency"), "12.500000");
  EXPECT_EQ(m.at("sys_jitter"), "0.005678");
  EXPECT_EQ(m.at("clock"), "0xeeabb75b.4ad559c6");
  EXPECT_EQ(m.at("tai"), "37");
  EXPECT_EQ(m.at("expire"), "2026-06-30T00:00Z");
  EXPECT_EQ(m.at("ss_uptime"), "4242");
  EXPECT_EQ(m.at("ref_source"), "\"phc\"");
  EXPECT_EQ(m.at("ref_state"), "\"synchronized\"");
  EXPECT_EQ(m.count("rootdist"), 0u) << "not in the default set";
  EXPECT_EQ(m.count("peermode"), 0u);
  EXPECT_EQ(m.size(), 19u);
}

TEST(ControlReadVariables, RequestedListIsAnsweredInTableOrder) {
  const auto req = request(ControlOpcode::kReadVariables, 0, "stratum,leap");  // ntpq -c "rv 0 stratum,leap"
  const Answer a = answer(req);
  expect_well_formed(a, req);
  EXPECT_EQ(a.data, "leap=0, stratum=1\r\n");
}

TEST(ControlReadVariables, ListToleratesSpacesValuesAndRepeats) {
  const auto req = request(ControlOpcode::kReadVariables, 0, " refid = x ,, stratum,\trefid,rootdist,peermode ,");
  const Answer a = answer(req);
  expect_well_formed(a, req);
  EXPECT_EQ(names(a.data), (std::vector<std::string>{"stratum", "rootdist", "refid", "peermode"}));
  const auto m = parse(a.data);
  EXPECT_EQ(m.at("rootdist"), "16.624") << "rootdelay / 2 + rootdisp";
  EXPECT_EQ(m.at("peermode"), "3");
}

TEST(ControlReadVariables, OnlySeparatorsSelectTheDefaultSet) {
  const Answer a = answer(request(ControlOpcode::kReadVariables, 0, " , ,"));
  EXPECT_EQ(parse(a.data).size(), 19u);
}

TEST(ControlReadVariables, UnknownVariableIsAnError) {
  expect_error(request(ControlOpcode::kReadVariables, 0, "stratum,nosuchvar"), ControlError::kUnknownVariable);
  expect_error(request(ControlOpcode::kReadVariables, 0, "Stratum"), ControlError::kUnknownVariable);
  expect_error(request(ControlOpcode::kReadVariables, 0, "strat"), ControlError::kUnknownVariable);
  expect_error(request(ControlOpcode::kReadVariables, 0, std::string("stratum\0", 8)),
               ControlError::kUnknownVariable);
  expect_error(request(ControlOpcode::kReadVariables, kReferenceAssociation, "version"),
               ControlError::kUnknownVariable);
}

TEST(ControlReadVariables, RefidIsAnAddressBetweenStrata2And15) {
  SystemVariables v = synced_vars();
  v.refid = 0xc000'0201;
  v.stratum = 2;
  EXPECT_EQ(parse(answer(request(ControlOpcode::kReadVariables, 0, "refid"), v).data).at("refid"), "192.0.2.1");
  v.stratum = 16;
  v.refid = refid_from_ascii("INIT");
  EXPECT_EQ(parse(answer(request(ControlOpcode::kReadVariables, 0, "refid"), v).data).at("refid"), "INIT");
  v.stratum = 1;
  v.refid = 0x41'2c'01'00;  // 'A' ',' '\1' then NUL: nothing that ends the value early
  EXPECT_EQ(answer(request(ControlOpcode::kReadVariables, 0, "refid"), v).data, "refid=A..\r\n");
}

TEST(ControlReadVariables, UnsynchronizedServerShowsNoPeer) {
  ServerState s;
  s.synchronized = false;
  s.stratum = 2;
  SystemVariables v = synced_vars();
  v.set_server(s);
  v.reference_select = PeerSelect::kReject;
  v.tai_offset_s = 0;
  v.leap_file_expiry_unix = 0;
  const Answer a = answer(request(ControlOpcode::kReadVariables), v);
  EXPECT_EQ(a.header.leap, Leap::kUnsync);
  EXPECT_EQ(a.header.status, 0xc000);
  const auto m = parse(a.data);
  EXPECT_EQ(m.at("leap"), "3");
  EXPECT_EQ(m.at("stratum"), "16");
  EXPECT_EQ(m.at("peer"), "0");
  EXPECT_EQ(m.count("tai"), 0u) << "unknown TAI offset is not shown (ntpd)";
  EXPECT_EQ(m.count("expire"), 0u);
}

TEST(ControlReadVariables, NumbersAreFormattedWithoutLocaleOrPrintf) {
  struct Case {
    int64_t offset_ns;
    const char* text;
  } cases[] = {
      {0, "0.000000"},
      {1, "0.000001"},
      {-1, "-0.000001"},
      {1'500'000'000, "1500.000000"},
      {-999'999'999'999, "-999999.999999"},
      {std::numeric_limits<int64_t>::max(), "999999.999999"},
      {std::numeric_limits<int64_t>::min(), "-999999.999999"},
  };
  for (const Case& c : cases) {
    SystemVariables v = synced_vars();
    v.offset_ns = c.offset_ns;
    EXPECT_EQ(parse(answer(request(ControlOpcode::kReadVariables, 0, "offset"), v).data).at("offset"), c.text);
  }
  struct Freq {
    double ppm;
    const char* text;
  } freqs[] = {{0, "0.000000"},          {-3.25, "-3.250000"},     {1e-6, "0.000001"},
               {-1e300, "-999999.999999"}, {std::nan(""), "0.000000"}, {1e300, "999999.999999"}};
  for (const Freq& f : freqs) {
    SystemVariables v = synced_vars();
    v.frequency_ppm = f.ppm;
    EXPECT_EQ(parse(answer(request(ControlOpcode::kReadVariables, 0, "frequency"), v).data).at("frequency"), f.text);
  }
}

TEST(ControlReadVariables, LeapFileExpiryIsAUtcDate) {
  struct Case {
    int64_t unix_s;
    const char* text;
  } cases[] = {
      {1, "1970-01-01T00:00Z"},
      {951'782'400, "2000-02-29T00:00Z"},
      {1'782'777'600 + 86'399, "2026-06-30T23:59Z"},
      {4'102'444'800, "2100-01-01T00:00Z"},
      {std::numeric_limits<int64_t>::max(), "9999-12-31T23:59Z"},
  };
  for (const Case& c : cases) {
    SystemVariables v = synced_vars();
    v.leap_file_expiry_unix = c.unix_s;
    EXPECT_EQ(parse(answer(request(ControlOpcode::kReadVariables, 0, "expire"), v).data).at("expire"), c.text);
  }
}

TEST(ControlReadVariables, TextFieldsAreTruncatedAndCannotBreakTheList) {
  SystemVariables v = synced_vars();
  set_text(v.version, "tachyond \"1,2\"");
  EXPECT_EQ(answer(request(ControlOpcode::kReadVariables, 0, "version"), v).data, "version=\"tachyond .1.2.\"\r\n");
  set_text(v.state, "an overly long state name");
  EXPECT_EQ(std::string(v.state), "an overly long ");
  // A field filled without set_text() is still read within its bounds.
  std::memset(v.source, 'x', sizeof v.source);
  EXPECT_EQ(parse(answer(request(ControlOpcode::kReadVariables, 0, "ref_source"), v).data).at("ref_source"),
            "\"" + std::string(sizeof v.source - 1, 'x') + "\"");
}

// ---------------------------------------------------------------------------
// READVAR, the reference's (peer) variables

TEST(ControlReadVariables, ReferenceLooksLikeARefclockToNtpq) {
  SystemVariables v = synced_vars();
  v.stratum = 2;
  v.refid = refid_from_ascii("SYS\0");
  const auto req = request(ControlOpcode::kReadVariables, kReferenceAssociation);
  const Answer a = answer(req, v);
  expect_well_formed(a, req);
  EXPECT_EQ(a.header.status, 0x9600) << "ntpq -p takes the tally from this status word";
  const auto m = parse(a.data);
  EXPECT_EQ(m.at("srcadr"), "127.127.1.2");
  EXPECT_EQ(m.at("srchost"), "\"phc(2)\"") << "'(' makes ntpq show type 'l'";
  EXPECT_EQ(m.at("refid"), "SYS") << "a refclock's refid is text at any stratum";
  EXPECT_EQ(m.at("stratum"), "1") << "one below the server";
  EXPECT_EQ(m.at("hmode"), "3");
  EXPECT_EQ(m.at("pmode"), "4");
  EXPECT_EQ(m.at("hpoll"), "4");
  EXPECT_EQ(m.at("ppoll"), "4");
  EXPECT_EQ(m.at("reach"), "0xff");
  EXPECT_EQ(m.at("rec"), "0xeeabb759.00000000");
  EXPECT_EQ(m.at("reftime"), "0xeeabb758.80000000");
  EXPECT_EQ(m.at("delay"), "0.000250");
  EXPECT_EQ(m.at("offset"), "-0.001234");
  EXPECT_EQ(m.at("jitter"), "0.005678");
  EXPECT_EQ(m.at("dispersion"), "1.000000");
  EXPECT_EQ(m.at("rootdisp"), "15.625");
  EXPECT_EQ(m.at("flash"), "0x0");
  EXPECT_EQ(m.size(), 20u);
}

TEST(ControlReadVariables, ReferenceWithoutSamplesOmitsItsTimes) {
  SystemVariables v = synced_vars();
  v.last_sample = NtpTimestamp{};
  v.reference_time = NtpTimestamp{};
  v.reach = 0;
  v.reference_select = PeerSelect::kReject;
  v.jitter_ns = -5;
  const Answer a = answer(request(ControlOpcode::kReadVariables, kReferenceAssociation), v);
  EXPECT_EQ(a.header.status, 0x8000);
  const auto m = parse(a.data);
  EXPECT_EQ(m.count("rec"), 0u) << "ntpq shows '-' under 'when'";
  EXPECT_EQ(m.count("reftime"), 0u);
  EXPECT_EQ(m.at("reach"), "0x0");
  EXPECT_EQ(m.at("jitter"), "0.000000") << "never negative";
}

TEST(ControlReadVariables, ReferenceVariableSelection) {
  const Answer a = answer(request(ControlOpcode::kReadVariables, kReferenceAssociation, "jitter,offset"));
  EXPECT_EQ(a.data, "offset=-0.001234, jitter=0.005678\r\n");
}

// ---------------------------------------------------------------------------
// Errors ntpq prints cleanly ("***Server error code ...")

TEST(ControlErrors, UnknownAssociation) {
  for (uint16_t assoc : {2, 3, 0x8000, 0xffff}) {
    expect_error(request(ControlOpcode::kReadVariables, assoc), ControlError::kBadAssociation);
    expect_error(request(ControlOpcode::kReadStatus, assoc), ControlError::kBadAssociation);
    expect_error(request(ControlOpcode::kUnspec, assoc), ControlError::kBadAssociation);
  }
}

TEST(ControlErrors, WritesAndConfigurationAreRefused) {
  expect_error(request(ControlOpcode::kWriteVariables, 0, "leap=1"), ControlError::kPermission);
  expect_error(request(ControlOpcode::kWriteClock, kReferenceAssociation, "x=1"), ControlError::kPermission);
  expect_error(request(ControlOpcode::kConfigure, 0, "server 192.0.2.1"), ControlError::kPermission);
  expect_error(request(ControlOpcode::kReadOrderedList, 0, "addr_restrictions"), ControlError::kPermission);
}

TEST(ControlErrors, UnservedReadsAndUnknownOpcodes) {
  expect_error(request(ControlOpcode::kReadClock), ControlError::kBadAssociation);
  expect_error(request(ControlOpcode::kReadMru, 0, "nonce=1234, frags=32"), ControlError::kBadOpcode);
  expect_error(request(ControlOpcode::kRequestNonce), ControlError::kBadOpcode);
  for (uint8_t op : {6, 7, 9, 13, 20, 30, 31}) {
    expect_error(request(static_cast<ControlOpcode>(op)), ControlError::kBadOpcode);
  }
}

TEST(ControlErrors, UnspecOpcodeReturnsOnlyTheStatus) {
  const auto req = request(ControlOpcode::kUnspec);
  const Answer a = answer(req);
  expect_well_formed(a, req);
  EXPECT_FALSE(a.header.error);
  EXPECT_EQ(a.header.status, 0x0700);
  EXPECT_EQ(a.header.count, 0);
  const Answer p = answer(request(ControlOpcode::kUnspec, kReferenceAssociation));
  EXPECT_EQ(p.header.status, 0x9600);
}

TEST(ControlErrors, AuthenticatedRequestIsRefusedNotAnsweredUnsigned) {
  // ntpq "authenticate yes": data padded to 8 bytes, then key ID + digest.
  for (size_t digest : {16u, 20u}) {
    for (const std::string& data : {std::string(), std::string("stratum"), std::string("stratum,leap,refid")}) {
      auto req = request(ControlOpcode::kReadVariables, 0, data);
      req.resize((kControlHeaderSize + data.size() + 7) & ~size_t{7}, 0);
      req.insert(req.end(), 4 + digest, 0x5a);
      expect_error(req, ControlError::kPermission);
    }
  }
}

// ---------------------------------------------------------------------------
// Drops: not a well-formed request

TEST(ControlDrops, TruncatedHeader) {
  for (size_t n = 0; n < kControlHeaderSize; ++n) {
    auto req = request(ControlOpcode::kReadStatus);
    req.resize(n);
    expect_drop(req, DropReason::kNtpControlMalformed);
  }
}

TEST(ControlDrops, ResponseErrorOrMoreBit) {
  for (uint8_t bit : {0x80, 0x40, 0x20, 0xe0}) {
    auto req = request(ControlOpcode::kReadStatus);
    req[1] |= bit;
    expect_drop(req, DropReason::kNtpControlNotRequest);
  }
}

TEST(ControlDrops, BadVersionOrMode) {
  for (uint8_t version : {0, 5, 6, 7}) expect_drop(request(ControlOpcode::kReadStatus, 0, "", 1, version),
                                                   DropReason::kNtpBadVersion);
  for (Mode mode : {Mode::kClient, Mode::kPrivate, Mode::kServer}) {
    auto req = request(ControlOpcode::kReadStatus);
    req[0] = pack_li_vn_mode(Leap::kNone, 2, mode);
    expect_drop(req, DropReason::kNtpControlMalformed);
  }
}

TEST(ControlDrops, CountOrOffsetOverflowingThePacket) {
  auto req = request(ControlOpcode::kReadVariables, 0, "stratum");
  store_be16(req.data() + 10, 9);  // 9 bytes claimed, 8 present after the header
  expect_drop(req, DropReason::kNtpControlMalformed);
  req = request(ControlOpcode::kReadVariables, 0, std::string(469, 'a'));
  expect_drop(req, DropReason::kNtpControlMalformed);  // above the 468-octet fragment
  req = request(ControlOpcode::kReadVariables, 0, "stratum");
  store_be16(req.data() + 8, 4);  // a second fragment: requests have one
  expect_drop(req, DropReason::kNtpControlMalformed);
  req = request(ControlOpcode::kReadVariables, 0, "stratum");
  store_be16(req.data() + 10, 0xffff);
  expect_drop(req, DropReason::kNtpControlMalformed);
}

TEST(ControlDrops, UnpaddedOrTrailingJunk) {
  auto req = request(ControlOpcode::kReadVariables, 0, "leap");
  req.push_back(0);  // not a multiple of 4
  expect_drop(req, DropReason::kNtpControlMalformed);
  for (size_t junk : {4u, 8u, 12u, 16u, 32u, 36u}) {  // 4 + 20 and 4 + 24 would be MACs
    req = request(ControlOpcode::kReadStatus);
    req.insert(req.end(), junk, 0);
    expect_drop(req, DropReason::kNtpControlMalformed);
  }
  // A MAC not on its 8-byte boundary is junk too.
  req = request(ControlOpcode::kReadStatus);
  req.insert(req.end(), 20, 0x5a);
  expect_drop(req, DropReason::kNtpControlMalformed);
}

TEST(ControlDrops, OutputBufferTooSmallForTheLargestAnswer) {
  std::vector<uint8_t> out(kControlMaxAnswer - 1, 0xee);
  const ControlResult r = respond_control(request(ControlOpcode::kReadStatus), kNow, synced_vars(), out);
  EXPECT_FALSE(r.answer);
  EXPECT_EQ(r.reason, DropReason::kNtpControlNoRoom);
  EXPECT_EQ(out, std::vector<uint8_t>(kControlMaxAnswer - 1, 0xee));
}

// ---------------------------------------------------------------------------
// Size: one fragment, never more than the buffer

std::string all_names(bool system) {
  return system ? "version,leap,stratum,precision,rootdelay,rootdisp,rootdist,refid,reftime,tc,peer,peermode,"
                  "offset,frequency,sys_jitter,clock,tai,expire,ss_uptime,ref_source,ref_state"
                : "srcadr,srchost,leap,stratum,precision,rootdelay,rootdisp,refid,reftime,rec,reach,hmode,pmode,"
                  "hpoll,ppoll,flash,offset,delay,dispersion,jitter";
}

TEST(ControlSize, LargestAnswersFitOneFragmentWithEveryVariable) {
  const SystemVariables v = extreme_vars();
  for (bool system : {true, false}) {
    const std::string list = all_names(system);
    const auto req = request(ControlOpcode::kReadVariables, system ? 0 : kReferenceAssociation, list);
    const Answer a = answer(req, v, kControlMaxAnswer);
    expect_well_formed(a, req);
    EXPECT_LE(a.header.count, kControlMaxData);
    EXPECT_LE(a.bytes.size(), kControlMaxAnswer);
    std::string expected_names = list;
    std::vector<std::string> got = names(a.data);
    std::string joined;
    for (const auto& n : got) joined += (joined.empty() ? "" : ",") + n;
    EXPECT_EQ(joined, expected_names) << "no variable left out at its widest";
    std::printf("largest %s answer: %u data octets (limit %zu)\n", system ? "system" : "peer", a.header.count,
                kControlMaxData);
  }
  const auto m = parse(answer(request(ControlOpcode::kReadVariables, 0, all_names(true)), v).data);
  EXPECT_EQ(m.at("rootdelay"), "65535999.985");
  EXPECT_EQ(m.at("rootdist"), "98303999.977");
  EXPECT_EQ(m.at("tc"), "0");
  EXPECT_EQ(m.at("tai"), "999");
  EXPECT_EQ(m.at("ss_uptime"), "4294967295");
  EXPECT_EQ(m.at("version"), "\"" + std::string(SystemVariables::kVersionSize - 1, 'v') + "\"");
  const auto p = parse(answer(request(ControlOpcode::kReadVariables, 1, all_names(false)), v).data);
  EXPECT_EQ(p.at("srchost"), "\"" + std::string(SystemVariables::kNameSize - 1, 's') + "(255)\"");
  EXPECT_EQ(p.at("srcadr"), "255.255.255.255");
}

TEST(ControlSize, AnsweringInPlaceEqualsAnsweringIntoAnotherBuffer) {
  for (const auto& req : {request(ControlOpcode::kReadVariables, 0, "stratum,refid,clock,leap,offset"),
                          request(ControlOpcode::kReadVariables, kReferenceAssociation, all_names(false)),
                          request(ControlOpcode::kReadVariables, 0, all_names(true)),
                          request(ControlOpcode::kReadStatus), request(ControlOpcode::kConfigure, 0, "x")}) {
    const Answer apart = answer(req);
    std::vector<uint8_t> buf(req);
    buf.resize(kControlMaxAnswer, 0xee);
    const ControlResult r =
        respond_control(std::span<const uint8_t>(buf.data(), req.size()), kNow, synced_vars(), buf);
    ASSERT_TRUE(r.answer);
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + r.length), apart.bytes);
  }
}

TEST(ControlSize, RandomRequestsNeverOverflowOrAnswerJunk) {
  std::mt19937 rng(9327);
  const SystemVariables vars[] = {synced_vars(), extreme_vars()};
  const std::vector<std::string> words = {"stratum", "leap", "refid", "version", "clock", "srcadr", "jitter",
                                          ",", "=", " ", "nosuch", "\r\n", "\""};
  for (int i = 0; i < 20'000; ++i) {
    std::vector<uint8_t> req;
    if (rng() % 2 == 0) {
      std::string data;
      const int n = static_cast<int>(rng() % 12);
      for (int k = 0; k < n; ++k) data += words[rng() % words.size()];
      req = request(static_cast<ControlOpcode>(rng() % 14), static_cast<uint16_t>(rng() % 3), data,
                    static_cast<uint16_t>(rng()), static_cast<uint8_t>(1 + rng() % 4));
    } else {
      req.resize(rng() % 64);
      for (auto& b : req) b = static_cast<uint8_t>(rng());
      if (req.size() >= 2 && rng() % 2 == 0) {
        req[0] = static_cast<uint8_t>((req[0] & 0xf8) | 6);
        req[1] &= 0x1f;
      }
    }
    const size_t out_size = kControlMaxAnswer + rng() % 64;
    std::vector<uint8_t> out(out_size + 16, 0xee);
    const ControlResult r =
        respond_control(req, kNow, vars[i & 1], std::span<uint8_t>(out.data(), out_size));
    for (size_t k = out_size; k < out.size(); ++k) ASSERT_EQ(out[k], 0xee);
    if (!r.answer) continue;
    ASSERT_LE(r.length, kControlMaxAnswer);
    ASSERT_EQ(r.length % 4, 0);
    ASSERT_GE(req.size(), kControlHeaderSize);
    const ControlHeader q = decode_control_header(req);
    const ControlHeader h = decode_control_header(out);
    ASSERT_EQ(q.mode, Mode::kControl);
    ASSERT_FALSE(q.response || q.error || q.more);
    ASSERT_TRUE(h.response);
    ASSERT_EQ(h.sequence, q.sequence);
    ASSERT_EQ(h.opcode, q.opcode);
    ASSERT_LE(kControlHeaderSize + h.count, r.length);
    if (h.opcode == static_cast<uint8_t>(ControlOpcode::kReadVariables) && !h.error) {
      for (size_t k = kControlHeaderSize; k < kControlHeaderSize + h.count; ++k) {
        const uint8_t c = out[k];
        ASSERT_TRUE((c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n') << int{c};
      }
    }
  }
}

}  // namespace
}  // namespace tachyon::core
