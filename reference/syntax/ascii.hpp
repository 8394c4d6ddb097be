// Character classes used by the syntax layer. Private to this layer.
// Deliberately locale-free: <cctype> depends on the C locale and takes int.
#pragma once

#include <string>
#include <string_view>

namespace atproto::syntax::ascii {

constexpr bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_alpha(char c) { return is_lower(c) || is_upper(c); }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// Any byte outside 0x00-0x7F (so also every byte of multi-byte UTF-8).
constexpr bool is_non_ascii(char c) { return static_cast<unsigned char>(c) > 0x7f; }

constexpr char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

inline bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

inline bool all_ascii(std::string_view s) {
  for (char c : s) {
    if (is_non_ascii(c)) return false;
  }
  return true;
}

// A printable rendering of arbitrary input for error messages: non-printable
// bytes become \xHH, and long inputs are cut, so messages stay short and safe.
inline std::string quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : s) {
    if (++shown > 64) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  out += "\"";
  return out;
}

// Splits on a separator; keeps empty pieces.
inline void split(std::string_view s, char sep, auto&& on_piece) {
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      on_piece(s.substr(start));
      return;
    }
    on_piece(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace atproto::syntax::ascii
