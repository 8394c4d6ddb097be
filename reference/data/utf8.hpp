// UTF-8 well-formedness (RFC 3629). Private to the data layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace atproto::data::utf8 {

// True when `s` is well-formed UTF-8: no overlong forms, no surrogates
// (U+D800-U+DFFF), nothing above U+10FFFF, no stray continuation bytes.
inline bool is_valid(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](std::size_t k) { return k < n && (byte(k) & 0xc0) == 0x80; };
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
    unsigned char b = byte(i);
    if (b < 0x80) {
      i += 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
      if (!cont(i + 1)) return false;
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      if (!cont(i + 1) || !cont(i + 2)) return false;
      unsigned char b1 = byte(i + 1);
      if (b == 0xe0 && b1 < 0xa0) return false;  // overlong
      if (b == 0xed && b1 > 0x9f) return false;  // surrogate
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return false;
      unsigned char b1 = byte(i + 1);
      if (b == 0xf0 && b1 < 0x90) return false;  // overlong
      if (b == 0xf4 && b1 > 0x8f) return false;  // above U+10FFFF
      i += 4;
    } else {
      return false;  // continuation byte, 0xc0/0xc1, or 0xf5-0xff
    }
  }
  return true;
}

}  // namespace atproto::data::utf8
