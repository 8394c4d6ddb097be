// UTF-8 well-formedness (RFC 3629), shared by every layer: the data model
// requires valid UTF-8 text, the syntax and lexicon layers check strings,
// and the conformance runner can only send valid UTF-8 in JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace atproto::utf8 {

// Length of the well-formed UTF-8 sequence that starts at s[i] (i < size),
// or 0 when the bytes there are not one: overlong forms, surrogates
// (U+D800-U+DFFF), code points above U+10FFFF, stray continuation bytes and
// truncated sequences are rejected.
inline std::size_t length_at(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 == 0xE0) {
    n = 3;
    lo = 0xA0;  // below is an overlong form
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    n = 3;
  } else if (b0 == 0xED) {
    n = 3;
    hi = 0x9F;  // U+D800..U+DFFF are surrogates, not characters
  } else if (b0 == 0xF0) {
    n = 4;
    lo = 0x90;  // below is an overlong form
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    n = 4;
  } else if (b0 == 0xF4) {
    n = 4;
    hi = 0x8F;  // above is past U+10FFFF
  } else {
    return 0;  // a continuation byte, 0xC0/0xC1, or 0xF5-0xFF
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// True when all of `s` is well-formed UTF-8.
inline bool is_valid(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    // Fast path: eight ASCII bytes at a time (most record text is ASCII).
    if (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const std::size_t len = length_at(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace atproto::utf8
