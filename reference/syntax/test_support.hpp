// Test support, not implementation: small helpers shared by the syntax unit
// tests (*_test.cpp). A test file brings them in with
//   using namespace atproto::syntax::testing;
// which also makes the Catch matchers Equals and StartsWith visible.
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "atproto/common/testing.hpp"

namespace atproto::syntax::testing {

using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

// The error code of a failed Status or Result, or "<ok>" when it succeeded.
using atproto::testing::code_of;

// A dotted name of exactly `length` characters: `head` (may be empty), then
// 62-letter labels "aaa...a", "bbb...b", ... and a final label of 'z's, all
// joined by dots. The final label has 1 to 63 letters when `length` leaves
// room for it (length >= 1 without a head, length >= head.size() + 2 with one).
inline std::string dotted_name_of_length(std::size_t length, std::string_view head = {}) {
  std::string out(head);
  std::size_t label = 0;
  while (out.size() + (out.empty() ? 0 : 1) + 63 < length) {
    if (!out.empty()) out += '.';
    out += std::string(62, static_cast<char>('a' + label % 25));
    ++label;
  }
  if (!out.empty()) out += '.';
  out += std::string(length - out.size(), 'z');
  return out;
}

// A syntactically valid handle of exactly `length` (>= 3) characters:
// 62-letter labels and a final label of 1 to 63 letters, e.g. "aaa...a.bbb...b.zz".
inline std::string handle_of_length(std::size_t length) { return dotted_name_of_length(length); }

// A valid NSID authority (in NSID order, "com" first) of exactly `length`
// characters.
inline std::string authority_of_length(std::size_t length) {
  return dotted_name_of_length(length, "com");
}

}  // namespace atproto::syntax::testing
