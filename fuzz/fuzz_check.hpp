// Shared helpers for the syntax fuzz targets.
//
// FUZZ_CHECK(cond) aborts when an internal-consistency property fails, after
// printing the condition and the input in hex, so a replay or a libFuzzer
// crash report names both the broken invariant and the reproducer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "atproto/common/result.hpp"

namespace fuzz {

// The input of the call in progress (targets run one input at a time).
inline std::string_view& current_input() {
  static std::string_view input;
  return input;
}

[[noreturn]] inline void fail(const char* file, int line, const char* condition) {
  std::string_view in = current_input();
  std::fprintf(stderr, "\n%s:%d: invariant failed: %s\ninput (%zu bytes, hex): ", file, line,
               condition, in.size());
  for (char c : in) std::fprintf(stderr, "%02x", static_cast<unsigned char>(c));
  std::fprintf(stderr, "\n");
  std::abort();
}

// Wraps the raw fuzzer bytes; remembers them for failure reports.
inline std::string_view begin_input(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  current_input() = in;
  return in;
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// An error must carry a non-empty code under the given family.
inline bool error_in_family(const atproto::Status& status, std::string_view prefix) {
  return status.ok() || (!status.error().code.empty() && starts_with(status.error().code, prefix));
}

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

inline bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ascii_lower(a) == ascii_lower(b);
}

// Known, reported divergences of the implementation can be let through with
// FUZZ_ALLOW_KNOWN=1 in the environment, so a fuzzing session can look for
// new problems past them. Replays (meson test) stay strict.
inline bool allow_known() {
  static const bool allowed = [] {
    const char* v = std::getenv("FUZZ_ALLOW_KNOWN");
    return v != nullptr && *v != '\0' && *v != '0';
  }();
  return allowed;
}

}  // namespace fuzz

// FUZZ_CHECK_KNOWN(cond, "what"): like FUZZ_CHECK, for an invariant the
// implementation is known to break (see docs/fuzzing.md, "Known issues").
#define FUZZ_CHECK_KNOWN(cond, what)                                \
  do {                                                              \
    if (!(cond) && !::fuzz::allow_known())                          \
      ::fuzz::fail(__FILE__, __LINE__, #cond " [known: " what "]"); \
  } while (false)

#define FUZZ_CHECK(cond)                                  \
  do {                                                    \
    if (!(cond)) ::fuzz::fail(__FILE__, __LINE__, #cond); \
  } while (false)
