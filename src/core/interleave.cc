#include "core/interleave.h"

namespace tachyon::core {

InterleaveTable::InterleaveTable(size_t entries, std::pmr::memory_resource* memory) {
  size_t n = kWays;
  while (n < entries) n <<= 1;
  bucket_mask_ = n / kWays - 1;
  buckets_ = TableArray<Bucket>(n / kWays, memory);  // value-initialised: all free
}

void InterleaveTable::remember(NtpTimestamp rx_key, NtpTimestamp tx) noexcept {
  Bucket& b = bucket_of(rx_key.raw);
  // The record with the same key (the clock came back over it: only the
  // newest answer counts), else a free record, else the oldest (smallest
  // receive timestamp, wrapping).
  Record* victim = nullptr;
  Record* oldest = &b.way[0];
  for (Record& r : b.way) {
    if (r.rx == rx_key.raw) {
      victim = &r;
      break;
    }
    if (r.rx == 0) {
      if (victim == nullptr) victim = &r;
    } else if (oldest->rx != 0 && static_cast<int64_t>(r.rx - oldest->rx) < 0) {
      oldest = &r;
    }
  }
  if (victim == nullptr) victim = oldest;
  *victim = Record{rx_key.raw, tx.raw};
}

void InterleaveTable::clear() noexcept {
  for (size_t i = 0; i <= bucket_mask_; ++i) buckets_[i] = Bucket{};
  ++clears_;
}

std::optional<NtpTimestamp> InterleaveTable::take(NtpTimestamp origin) noexcept {
  if (!was_remembered(origin)) return std::nullopt;
  Bucket& b = bucket_of(origin.raw);
  for (Record& r : b.way) {
    if (r.rx == origin.raw) {
      const NtpTimestamp tx{r.tx};
      r = Record{0, 0};  // handed out once
      return tx;
    }
  }
  return std::nullopt;
}

}  // namespace tachyon::core
