// Unit tests for multibase base32 and base58btc.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/data/multibase.hpp"
#include "atproto/common/testing.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace atproto::data;

namespace {

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

using atproto::testing::code_of;

}  // namespace

// [data.multibase.base32] RFC 4648 test vectors, lowercased and unpadded.
TEST_CASE("base32: RFC 4648 vectors [data.multibase.base32]", "[data][multibase]") {
  const std::vector<std::pair<std::string, std::string>> cases = {{"", ""},
                                                                  {"f", "my"},
                                                                  {"fo", "mzxq"},
                                                                  {"foo", "mzxw6"},
                                                                  {"foob", "mzxw6yq"},
                                                                  {"fooba", "mzxw6ytb"},
                                                                  {"foobar", "mzxw6ytboi"}};
  for (const auto& [plain, encoded] : cases) {
    CAPTURE(plain);
    CHECK(base32_encode(bytes_of(plain)) == encoded);
    auto back = base32_decode(encoded);
    REQUIRE(back.ok());
    CHECK(*back == bytes_of(plain));
  }
}

// [data.multibase.base32]
TEST_CASE("base32: strict decoding [data.multibase.base32]", "[data][multibase]") {
  CHECK(code_of(base32_decode("MZXW6")) == "data.multibase.base32");     // uppercase
  CHECK(code_of(base32_decode("mzxw6===")) == "data.multibase.base32");  // padding
  CHECK(code_of(base32_decode("mzxw1")) == "data.multibase.base32");     // '1' not in alphabet
  CHECK(code_of(base32_decode("m")) == "data.multibase.base32");         // impossible length
  CHECK(code_of(base32_decode("mzx")) == "data.multibase.base32");       // impossible length
  CHECK(code_of(base32_decode("mz")) == "data.multibase.base32");        // trailing bits set
  CHECK(code_of(base32_decode("my")) == "<ok>");
}

// [data.multibase.base58btc]
TEST_CASE("base58btc: known values [data.multibase.base58btc]", "[data][multibase]") {
  CHECK(base58btc_encode(bytes_of("hello world")) == "StV1DL6CwTryKyV");
  CHECK(base58btc_encode(std::vector<std::uint8_t>{0, 0, 1}) == "112");
  CHECK(base58btc_encode(std::vector<std::uint8_t>{}) == "");
  auto back = base58btc_decode("StV1DL6CwTryKyV");
  REQUIRE(back.ok());
  CHECK(*back == bytes_of("hello world"));
  auto zeros = base58btc_decode("112");
  REQUIRE(zeros.ok());
  CHECK(*zeros == std::vector<std::uint8_t>{0, 0, 1});
  for (const char* bad : {"0", "O", "I", "l", "ab+c"}) {
    CAPTURE(bad);
    CHECK(code_of(base58btc_decode(bad)) == "data.multibase.base58btc");
  }
}

// [data.multibase.prefix]
TEST_CASE("multibase: prefixes [data.multibase.prefix]", "[data][multibase]") {
  auto data = bytes_of("foobar");
  CHECK(multibase_encode(Multibase::kBase32, data) == "bmzxw6ytboi");
  CHECK(multibase_encode(Multibase::kBase58btc, data) == "zt1Zv2yaZ");
  for (const std::string& text : {std::string("bmzxw6ytboi"), std::string("zt1Zv2yaZ")}) {
    auto back = multibase_decode(text);
    REQUIRE(back.ok());
    CHECK(*back == data);
  }
  CHECK(code_of(multibase_decode("")) == "data.multibase.prefix");
  CHECK(code_of(multibase_decode("BMZXW6YTBOI")) == "data.multibase.prefix");
  CHECK(code_of(multibase_decode("mZm9vYmFy")) == "data.multibase.prefix");
  CHECK(code_of(multibase_decode("f666f6f626172")) == "data.multibase.prefix");
}
