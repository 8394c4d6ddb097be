// TIDs: 13-character sortable timestamp identifiers.
// Spec: https://atproto.com/specs/tid
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

inline constexpr std::size_t kTidLength = 13;
inline constexpr std::uint64_t kTidMaxTimestamp = (std::uint64_t{1} << 53) - 1;
inline constexpr std::uint32_t kTidMaxClockId = (1u << 10) - 1;

struct TidParts {
  std::uint64_t timestamp_us = 0;  // microseconds since the UNIX epoch
  std::uint32_t clock_id = 0;      // 0..1023
  friend bool operator==(const TidParts&, const TidParts&) = default;
};

// Error codes: tid.syntax.*.
Status validate_tid(std::string_view input);

// The 64-bit value a valid TID encodes. First characters c-j pass the
// syntax but set bit 63, which the layout reserves: error tid.structure.layout.
Result<std::uint64_t> tid_to_integer(std::string_view input);
// Encodes a value with the top bit clear; error tid.structure.layout otherwise.
Result<std::string> tid_from_integer(std::uint64_t value);

// The timestamp and clock id; the same bit-63 rule as tid_to_integer.
Result<TidParts> decode_tid(std::string_view input);
// Error tid.structure.layout if a field is out of range.
Result<std::string> encode_tid(TidParts parts);

// Issues TIDs from the system clock. Thread-safe. Output strictly increases
// and never repeats within the process, even when the clock stalls or steps
// backwards. [tid.generator.monotonic]
class TidGenerator {
 public:
  TidGenerator();  // random clock id [tid.generator.clock-id]
  explicit TidGenerator(std::uint32_t clock_id);

  std::string next();
  // Like next(), with the caller supplying the clock reading (microseconds);
  // used by tests to simulate stalled and backwards clocks. Readings past
  // the 53-bit range are clamped to it; once the largest timestamp has been
  // issued, further calls fail with tid.generator.monotonic.
  Result<std::string> next_at(std::uint64_t now_us);

  std::uint32_t clock_id() const { return clock_id_; }

 private:
  std::mutex mutex_;
  std::uint32_t clock_id_;
  std::uint64_t last_timestamp_us_ = 0;
  bool issued_ = false;
};

}  // namespace atproto::syntax
