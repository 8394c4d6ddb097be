// UTF-8 well-formedness for the suites (adapter requests are JSON, so only
// valid UTF-8 can be sent) and the reports (which escape the rest): the
// names the runner uses for the project's one UTF-8 checker.
#pragma once

#include <cstddef>
#include <string_view>

#include "atproto/common/utf8.hpp"

namespace atproto::conformance {

inline std::size_t utf8_length_at(std::string_view s, std::size_t i) {
  return utf8::length_at(s, i);
}
inline bool is_valid_utf8(std::string_view s) { return utf8::is_valid(s); }

}  // namespace atproto::conformance
