// Test support shared by every layer's unit tests (not used by the
// implementation itself).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/hex.hpp"

namespace atproto::testing {

// The error code of a failed Status or Result, or "<ok>" when it succeeded:
// lets a test compare outcomes with one CHECK(code_of(...) == "...").
template <typename R>
std::string code_of(const R& result) {
  return result.ok() ? std::string("<ok>") : result.error().code;
}

// The bytes of fixed hex text (a test vector's field, a constant); throws
// std::bad_optional_access when the text is not lowercase hex.
inline std::vector<std::uint8_t> hex_bytes(std::string_view hex) {
  return atproto::hex_decode(hex).value();
}

}  // namespace atproto::testing
