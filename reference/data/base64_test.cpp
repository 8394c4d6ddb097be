// Unit tests for the base64 of `$bytes`.
// Spec: https://atproto.com/specs/data-model#bytes
#include "atproto/data/base64.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using atproto::data::base64_decode;
using atproto::data::base64_encode;

namespace {

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

std::string code_of(std::string_view text) {
  auto r = base64_decode(text);
  return r.ok() ? std::string("<ok>") : r.error().code;
}

}  // namespace

// [data.json.bytes-base64] RFC 4648 vectors; we write without padding.
TEST_CASE("base64: RFC 4648 vectors, written unpadded [data.json.bytes-base64]", "[data][base64]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    CAPTURE(plain);
    CHECK(base64_encode(bytes_of(plain)) == encoded);
    auto back = base64_decode(encoded);
    REQUIRE(back.ok());
    CHECK(*back == bytes_of(plain));
  }
  CHECK(base64_encode(std::vector<std::uint8_t>{0xfb, 0xff}) == "+/8");
}

// [data.json.bytes-base64] Padding is optional but must be right when present.
TEST_CASE("base64: optional padding [data.json.bytes-base64]", "[data][base64]") {
  auto padded = base64_decode("Zm9vYg==");
  REQUIRE(padded.ok());
  CHECK(*padded == bytes_of("foob"));
  auto one = base64_decode("Zm9vYmE=");
  REQUIRE(one.ok());
  CHECK(*one == bytes_of("fooba"));
  CHECK(code_of("Zm9vYg=") == "data.json.bytes-base64");
  CHECK(code_of("Zm9vYmE==") == "data.json.bytes-base64");
  CHECK(code_of("Zm9v====") == "data.json.bytes-base64");
  CHECK(code_of("Zm9v=") == "data.json.bytes-base64");
  CHECK(code_of("Zg=a") == "data.json.bytes-base64");
  CHECK(code_of("=") == "data.json.bytes-base64");
}

// [data.json.bytes-base64]
TEST_CASE("base64: only the standard alphabet, canonical ends [data.json.bytes-base64]",
          "[data][base64]") {
  CHECK(code_of("-_8") == "data.json.bytes-base64");  // URL-safe alphabet
  CHECK(code_of("Zm9v Zg") == "data.json.bytes-base64");
  CHECK(code_of("Zm9v\nZg") == "data.json.bytes-base64");
  CHECK(code_of("Z") == "data.json.bytes-base64");   // impossible length
  CHECK(code_of("Zh") == "data.json.bytes-base64");  // unused bits not zero
  CHECK(code_of("Zm9") == "data.json.bytes-base64");
  CHECK(code_of("+/8") == "<ok>");
  // The example from the spec's `bytes` section decodes to 32 bytes.
  auto example = base64_decode("nFERjvLLiw9qm45JrqH9QTzyC2Lu1Xb4ne6+sBrCzI0");
  REQUIRE(example.ok());
  CHECK(example->size() == 32);
}

TEST_CASE("base64url: URL-safe alphabet, unpadded, strict", "[base64]") {
  using atproto::data::base64url_decode;
  using atproto::data::base64url_encode;
  const std::vector<std::uint8_t> bytes = {0xfb, 0xff, 0xbf, 0x01};
  CHECK(base64url_encode(bytes) == "-_-_AQ");
  auto back = base64url_decode("-_-_AQ");
  REQUIRE(back.ok());
  CHECK(*back == bytes);
  // Padding, the standard alphabet's characters, impossible lengths and
  // non-zero unused bits are refused: each byte string has one text.
  for (const char* bad : {"-_-_AQ==", "+/+/AQ", "-_-_A", "-_-_AR"}) {
    auto r = base64url_decode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "data.base64url");
  }
}
