// Lowercase, unpadded RFC 4648 base32: the text of CID strings (after the
// multibase prefix 'b'). Shared by the syntax layer (CID string format) and
// the data layer (multibase, CIDs), which report failures in their own words.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace atproto::base32 {

// Why a text is not canonical base32.
enum class DecodeError {
  kNone,
  kCharacter,     // a character outside a-z and 2-7 (uppercase and '=' included)
  kLength,        // a length no encoder produces (5 or more spare bits)
  kTrailingBits,  // the spare bits at the end are not all zero
};

// The value of a base32 digit, or -1.
constexpr int digit_value(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

// Appends the bytes of `text` to `out`. Strict: each byte string has exactly
// one accepted text, so two different texts never name the same bytes.
inline DecodeError decode(std::string_view text, std::vector<std::uint8_t>& out) {
  out.reserve(out.size() + text.size() * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = digit_value(c);
    if (v < 0) return DecodeError::kCharacter;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(buffer >> bits));
      buffer &= (1u << bits) - 1;
    }
  }
  // A canonical text leaves fewer than 5 spare bits, all zero.
  if (bits >= 5) return DecodeError::kLength;
  if (buffer != 0) return DecodeError::kTrailingBits;
  return DecodeError::kNone;
}

}  // namespace atproto::base32
