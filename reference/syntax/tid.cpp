// TID syntax, encoding and generation.
// Spec: https://atproto.com/specs/tid
#include "atproto/syntax/tid.hpp"

#include <chrono>
#include <cstdlib>
#include <random>

#include "ascii.hpp"

namespace atproto::syntax {
namespace {

// [tid.structure.encoding] base32-sortable: digit values follow ASCII order.
constexpr std::string_view kAlphabet = "234567abcdefghijklmnopqrstuvwxyz";

// The digit's place in kAlphabet, or -1. Computed from the two ASCII runs
// rather than searched for: a relay parses several revs per event.
constexpr int digit_value(char c) {
  if (c >= '2' && c <= '7') return c - '2';
  if (c >= 'a' && c <= 'z') return c - 'a' + 6;
  return -1;
}
static_assert([] {
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    if (digit_value(kAlphabet[i]) != static_cast<int>(i)) return false;
  }
  return digit_value('1') < 0 && digit_value('8') < 0 && digit_value('A') < 0 &&
         digit_value('-') < 0;
}());

Error tid_error(std::string code, std::string_view input, std::string_view why) {
  return make_error(std::move(code),
                    "invalid TID " + ascii::quote(input) + ": " + std::string(why));
}

std::uint64_t now_microseconds() {
  using namespace std::chrono;
  // [tid.generator.millisecond-padding] system_clock gives at least
  // microsecond resolution here; a coarser clock would be scaled the same way.
  auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

}  // namespace

Status validate_tid(std::string_view input) {
  // [tid.syntax.length]
  if (input.size() != kTidLength) {
    return tid_error("tid.syntax.length", input, "a TID is exactly 13 characters");
  }
  // [tid.syntax.charset] Lowercase base32-sortable only; the legacy hyphens
  // and uppercase letters fall out here.
  for (char c : input) {
    if (digit_value(c) < 0) {
      return tid_error("tid.syntax.charset", input,
                       "only the characters 234567abcdefghijklmnopqrstuvwxyz are allowed");
    }
  }
  // [tid.syntax.first-char] 13 digits carry 65 bits; first-digit values
  // 0-15 keep the nonexistent bit 64 clear. (Bit 63 is checked by the layout
  // rule in tid_to_integer: the syntax rule alone allows it.)
  if (digit_value(input[0]) >= 16) {
    return tid_error("tid.syntax.first-char", input,
                     "the first character must be one of 234567abcdefghij");
  }
  return {};
}

Result<std::uint64_t> tid_to_integer(std::string_view input) {
  if (auto status = validate_tid(input); !status.ok()) return status.error();
  std::uint64_t value = 0;
  for (char c : input) value = (value << 5) | static_cast<std::uint64_t>(digit_value(c));
  // [tid.structure.layout] Bit 63 is reserved. The syntax rule lets first
  // characters c-j through (the spec's own regex), but those set bit 63, so
  // such a TID has no integer (or timestamp/clock-id) reading.
  if (value >> 63 != 0) {
    return tid_error("tid.structure.layout", input,
                     "valid syntax, but bit 63 is set, which the TID layout reserves");
  }
  return value;
}

Result<std::string> tid_from_integer(std::uint64_t value) {
  // [tid.structure.layout] The top bit is always zero.
  if (value >> 63 != 0) {
    return make_error("tid.structure.layout", "a TID's top bit must be zero");
  }
  std::string out(kTidLength, '2');
  for (std::size_t i = kTidLength; i-- > 0;) {
    out[i] = kAlphabet[value & 31];
    value >>= 5;
  }
  return out;
}

Result<TidParts> decode_tid(std::string_view input) {
  auto value = tid_to_integer(input);
  if (!value.ok()) return value.error();
  // [tid.structure.layout] 53 bits of microseconds, then 10 bits of clock id.
  return TidParts{*value >> 10, static_cast<std::uint32_t>(*value & kTidMaxClockId)};
}

Result<std::string> encode_tid(TidParts parts) {
  if (parts.timestamp_us > kTidMaxTimestamp) {
    return make_error("tid.structure.layout", "the timestamp does not fit in 53 bits");
  }
  if (parts.clock_id > kTidMaxClockId) {
    return make_error("tid.structure.layout", "the clock id does not fit in 10 bits");
  }
  return tid_from_integer((parts.timestamp_us << 10) | parts.clock_id);
}

namespace {
// [tid.generator.clock-id] A random clock id per generator.
std::uint32_t random_clock_id() {
  std::random_device device;
  return std::uniform_int_distribution<std::uint32_t>(0, kTidMaxClockId)(device);
}
}  // namespace

TidGenerator::TidGenerator() : clock_id_(random_clock_id()) {}

TidGenerator::TidGenerator(std::uint32_t clock_id) : clock_id_(clock_id & kTidMaxClockId) {}

std::string TidGenerator::next() {
  auto tid = next_at(now_microseconds());
  // Only reachable if the system clock reads past the year 2255.
  if (!tid.ok()) std::abort();
  return std::move(tid).value();
}

Result<std::string> TidGenerator::next_at(std::uint64_t now_us) {
  std::lock_guard lock(mutex_);
  // [tid.generator.monotonic] Never reuse or go below the last timestamp: if
  // the clock stalls or steps back, continue one microsecond after the last.
  std::uint64_t timestamp = now_us > kTidMaxTimestamp ? kTidMaxTimestamp : now_us;
  if (issued_ && timestamp <= last_timestamp_us_) timestamp = last_timestamp_us_ + 1;
  // Past the 53-bit range there is nothing larger to issue; wrapping would
  // break ordering, so the generator reports exhaustion instead.
  if (timestamp > kTidMaxTimestamp) {
    return make_error("tid.generator.monotonic",
                      "TID generator exhausted: the last TID used the largest timestamp");
  }
  last_timestamp_us_ = timestamp;
  issued_ = true;
  return encode_tid(TidParts{timestamp, clock_id_});
}

}  // namespace atproto::syntax
