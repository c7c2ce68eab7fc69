#include "tools/gen/request_mix.h"

#include <algorithm>
#include <cstdio>

namespace tachyon::gen {
namespace {

Result<MixEntry> parse_entry(std::string_view text) {
  const std::string whole(text);
  auto bad = [&](const std::string& why) {
    return Result<MixEntry>::error("--mix entry \"" + whole + "\": " + why +
                                   " (expected vN[+sym][+ef][+mac][=WEIGHT], e.g. v4=90 or v3+sym)");
  };
  MixEntry e;
  const size_t eq = text.find('=');
  if (eq != std::string_view::npos) {
    const std::string w(text.substr(eq + 1));
    unsigned long v = 0;
    int used = 0;
    if (w.empty() || std::sscanf(w.c_str(), "%lu%n", &v, &used) != 1 || static_cast<size_t>(used) != w.size() ||
        v == 0 || v > 1'000'000 || w[0] == '-' || w[0] == '+') {
      return bad("weight must be an integer from 1 to 1000000");
    }
    e.weight = static_cast<uint32_t>(v);
    text = text.substr(0, eq);
  }
  if (text.size() < 2 || text[0] != 'v' || text[1] < '1' || text[1] > '4') return bad("must start with v1 to v4");
  e.version = static_cast<uint8_t>(text[1] - '0');
  text.remove_prefix(2);
  while (!text.empty()) {
    if (text[0] != '+') return bad("unexpected \"" + std::string(text) + "\"");
    text.remove_prefix(1);
    const size_t next = std::min(text.find('+'), text.size());
    const std::string_view flag = text.substr(0, next);
    bool* target = flag == "sym" ? &e.symmetric : flag == "ef" ? &e.extension : flag == "mac" ? &e.mac : nullptr;
    if (target == nullptr) return bad("unknown flag \"+" + std::string(flag) + "\" (+sym, +ef or +mac)");
    if (*target) return bad("\"+" + std::string(flag) + "\" given twice");
    *target = true;
    text.remove_prefix(next);
  }
  if (e.extension && e.version != 4) return bad("extension fields exist only in NTPv4 (RFC 7822)");
  return e;
}

}  // namespace

std::string MixEntry::name() const {
  std::string s = "v" + std::to_string(version);
  if (symmetric) s += "+sym";
  if (extension) s += "+ef";
  if (mac) s += "+mac";
  return s;
}

Result<std::vector<MixEntry>> parse_mix(std::string_view spec) {
  std::vector<MixEntry> out;
  if (spec.empty()) return Result<std::vector<MixEntry>>::error("--mix is empty (e.g. --mix v4 or --mix v4=9,v3=1)");
  while (true) {
    const size_t comma = std::min(spec.find(','), spec.size());
    auto e = parse_entry(spec.substr(0, comma));
    if (!e) return Result<std::vector<MixEntry>>::error(e.message());
    for (const MixEntry& seen : out) {
      if (seen.name() == e->name()) {
        return Result<std::vector<MixEntry>>::error("--mix lists \"" + e->name() + "\" twice");
      }
    }
    out.push_back(*e);
    if (out.size() > kMaxMixEntries) {
      return Result<std::vector<MixEntry>>::error("--mix has more than " + std::to_string(kMaxMixEntries) +
                                                  " entries");
    }
    if (comma == spec.size()) break;
    spec.remove_prefix(comma + 1);
  }
  return out;
}

std::string mix_string(const std::vector<MixEntry>& mix) {
  std::string s;
  for (const MixEntry& e : mix) {
    if (!s.empty()) s += ",";
    s += e.name() + "=" + std::to_string(e.weight);
  }
  return s;
}

std::vector<uint8_t> mix_schedule(const std::vector<MixEntry>& mix) {
  // Slots per entry: largest remainder, at least one each.
  uint64_t total = 0;
  for (const MixEntry& e : mix) total += e.weight;
  std::vector<uint64_t> slots(mix.size());
  std::vector<std::pair<uint64_t, size_t>> remainders;
  uint64_t given = 0;
  for (size_t i = 0; i < mix.size(); ++i) {
    const uint64_t exact = uint64_t{mix[i].weight} * kScheduleSize;
    slots[i] = std::max<uint64_t>(1, exact / total);
    given += slots[i];
    remainders.emplace_back(exact % total, i);
  }
  std::sort(remainders.begin(), remainders.end(), [](auto a, auto b) { return a.first > b.first; });
  for (size_t k = 0; given < kScheduleSize; k = (k + 1) % remainders.size(), ++given) ++slots[remainders[k].second];
  // Entries forced up to one slot may overshoot: take back from the largest.
  while (given > kScheduleSize) {
    auto largest = std::max_element(slots.begin(), slots.end());
    --*largest;
    --given;
  }

  // Smooth weighted round robin (as nginx's upstream balancer): every
  // round each entry gains its slots, the richest is picked and pays the
  // total. Picks are spread evenly and each entry gets exactly its slots.
  std::vector<int64_t> current(mix.size(), 0);
  std::vector<uint8_t> schedule;
  schedule.reserve(kScheduleSize);
  for (size_t n = 0; n < kScheduleSize; ++n) {
    size_t best = 0;
    for (size_t i = 0; i < mix.size(); ++i) {
      current[i] += static_cast<int64_t>(slots[i]);
      if (current[i] > current[best]) best = i;
    }
    current[best] -= static_cast<int64_t>(kScheduleSize);
    schedule.push_back(static_cast<uint8_t>(best));
  }
  return schedule;
}

}  // namespace tachyon::gen
