#include "tests/support/pcap_file.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <stdexcept>

namespace tachyon::testing {

std::vector<CapturedFrame> read_capture(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) throw std::runtime_error("cannot read " + path + ": " + err);
  std::vector<CapturedFrame> frames;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &hdr, &data) == 1) {
    CapturedFrame f;
    f.unix_ns = int64_t{hdr->ts.tv_sec} * 1'000'000'000 + hdr->ts.tv_usec;  // nano precision
    f.bytes.assign(data, data + hdr->caplen);
    frames.push_back(std::move(f));
  }
  pcap_close(p);
  return frames;
}

std::optional<UdpDatagram> udp_of(const std::vector<uint8_t>& frame) {
  size_t pos = 12;
  if (frame.size() < 14) return std::nullopt;
  uint16_t ethertype = static_cast<uint16_t>(frame[pos] << 8 | frame[pos + 1]);
  pos += 2;
  if (ethertype == 0x8100) {
    if (frame.size() < 18) return std::nullopt;
    ethertype = static_cast<uint16_t>(frame[pos + 2] << 8 | frame[pos + 3]);
    pos += 4;
  }
  UdpDatagram d;
  char text[INET6_ADDRSTRLEN] = {};
  size_t udp = 0;
  if (ethertype == 0x0800) {
    if (frame.size() < pos + 20 || frame[pos + 9] != 17) return std::nullopt;
    const size_t ihl = (frame[pos] & 0xfu) * 4u;
    inet_ntop(AF_INET, &frame[pos + 12], text, sizeof text);
    d.src = text;
    inet_ntop(AF_INET, &frame[pos + 16], text, sizeof text);
    d.dst = text;
    udp = pos + ihl;
  } else if (ethertype == 0x86dd) {
    if (frame.size() < pos + 40 || frame[pos + 6] != 17) return std::nullopt;
    inet_ntop(AF_INET6, &frame[pos + 8], text, sizeof text);
    d.src = text;
    inet_ntop(AF_INET6, &frame[pos + 24], text, sizeof text);
    d.dst = text;
    udp = pos + 40;
  } else {
    return std::nullopt;
  }
  if (frame.size() < udp + 8) return std::nullopt;
  d.src_port = static_cast<uint16_t>(frame[udp] << 8 | frame[udp + 1]);
  d.dst_port = static_cast<uint16_t>(frame[udp + 2] << 8 | frame[udp + 3]);
  const size_t len = static_cast<size_t>(frame[udp + 4] << 8 | frame[udp + 5]);
  if (len < 8 || udp + len > frame.size()) return std::nullopt;
  d.payload.assign(frame.begin() + static_cast<long>(udp + 8), frame.begin() + static_cast<long>(udp + len));
  return d;
}

std::string captures_dir() { return TACHYON_SOURCE_DIR "/tests/data/captures"; }

}  // namespace tachyon::testing
