// Test support shared by every layer's unit tests (not used by the
// implementation itself).
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
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

// A fresh folder under the system temp dir, removed with everything in it
// when the test is done.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(std::string_view prefix = "atproto-test-") {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           (std::string(prefix) + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace atproto::testing
