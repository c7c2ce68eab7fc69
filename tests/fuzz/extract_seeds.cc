// Writes fuzz seeds from captures: one file per NTP request, either the UDP
// payload ("payload") or the whole Ethernet frame ("frame").
//   extract_seeds payload|frame OUTDIR CAPTURE...
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "tests/support/pcap_file.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: extract_seeds payload|frame OUTDIR CAPTURE...\n";
    return 2;
  }
  const std::string kind = argv[1];
  const std::string dir = argv[2];
  int n = 0;
  for (int i = 3; i < argc; ++i) {
    for (const auto& frame : tachyon::testing::read_capture(argv[i])) {
      const auto udp = tachyon::testing::udp_of(frame.bytes);
      const auto& bytes = kind == "frame" ? frame.bytes : (udp ? udp->payload : frame.bytes);
      if (kind != "frame" && !udp) continue;
      std::ofstream(dir + "/seed-" + std::to_string(n++), std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
  }
  std::cout << "extract_seeds: wrote " << n << " seeds to " << dir << "\n";
  return n > 0 ? 0 : 1;
}
