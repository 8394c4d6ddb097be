// RFC 3986 character classes shared by the URI and AT-URI parsers.
// Private to this layer.
#pragma once

#include <string_view>

#include "ascii.hpp"

namespace atproto::syntax::uri_chars {

// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
constexpr bool is_unreserved(char c) {
  return ascii::is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
// sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
constexpr bool is_sub_delim(char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}
// pchar without pct-encoded (checked separately).
constexpr bool is_pchar(char c) {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}

// True if every character of `s` is allowed by `allowed` or is part of a
// well-formed "%" HEXDIG HEXDIG sequence.
template <typename Pred>
bool all_chars_or_pct(std::string_view s, Pred allowed) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !ascii::is_hex(s[i + 1]) || !ascii::is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!allowed(s[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace atproto::syntax::uri_chars
