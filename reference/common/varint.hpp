// Reading multiformats unsigned varints (LEB128: 7 bits a byte, low group
// first, at most 9 bytes, minimal), as CIDs and multihashes write them.
// Shared by the syntax layer (CID string format) and the data layer, which
// report failures in their own words.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace atproto::varint {

// The multiformats unsigned varint is capped at 9 bytes (63 bits of payload).
inline constexpr std::size_t kMaxBytes = 9;

enum class ReadError {
  kNone,
  kTruncated,   // the input ends inside the varint
  kTooLong,     // more than kMaxBytes bytes
  kNotMinimal,  // a last group of zero: a shorter encoding exists
};

// Reads one varint at `pos` into `out` and advances `pos` past the bytes read.
inline ReadError read(std::span<const std::uint8_t> in, std::size_t& pos, std::uint64_t& out) {
  out = 0;
  for (std::size_t n = 0; n < kMaxBytes; ++n) {
    if (pos >= in.size()) return ReadError::kTruncated;
    const std::uint8_t byte = in[pos++];
    out |= std::uint64_t{byte & 0x7fu} << (7 * n);
    if ((byte & 0x80) == 0) return byte == 0 && n > 0 ? ReadError::kNotMinimal : ReadError::kNone;
  }
  return ReadError::kTooLong;
}

}  // namespace atproto::varint
