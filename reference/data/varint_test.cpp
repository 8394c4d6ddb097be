// Unit tests for multiformats unsigned varints.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/data/varint.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "atproto/common/testing.hpp"

using atproto::data::append_varint;
using atproto::data::read_varint;

namespace {

std::vector<std::uint8_t> enc(std::uint64_t v) {
  std::vector<std::uint8_t> out;
  append_varint(out, v);
  return out;
}

std::string code_of(const std::vector<std::uint8_t>& bytes) {
  std::size_t pos = 0;
  return atproto::testing::code_of(read_varint(bytes, pos));
}

}  // namespace

TEST_CASE("varint: known encodings", "[data][varint]") {
  CHECK(enc(0) == std::vector<std::uint8_t>{0x00});
  CHECK(enc(1) == std::vector<std::uint8_t>{0x01});
  CHECK(enc(0x7f) == std::vector<std::uint8_t>{0x7f});
  CHECK(enc(0x80) == std::vector<std::uint8_t>{0x80, 0x01});
  CHECK(enc(300) == std::vector<std::uint8_t>{0xac, 0x02});
  CHECK(enc(16384) == std::vector<std::uint8_t>{0x80, 0x80, 0x01});
  CHECK(enc((std::uint64_t{1} << 63) - 1).size() == 9);
}

TEST_CASE("varint: round trip and position", "[data][varint]") {
  for (std::uint64_t v :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127}, std::uint64_t{128},
        std::uint64_t{0x71}, std::uint64_t{1} << 35, (std::uint64_t{1} << 63) - 1}) {
    auto bytes = enc(v);
    bytes.push_back(0xee);  // a following byte must be left alone
    std::size_t pos = 0;
    auto r = read_varint(bytes, pos);
    REQUIRE(r.ok());
    CHECK(*r == v);
    CHECK(pos == bytes.size() - 1);
  }
}

// [data.varint.minimal]
TEST_CASE("varint: non-minimal encodings are rejected [data.varint.minimal]", "[data][varint]") {
  CHECK(code_of({0x80, 0x00}) == "data.varint.minimal");
  CHECK(code_of({0x81, 0x00}) == "data.varint.minimal");
  CHECK(code_of({0xff, 0x80, 0x00}) == "data.varint.minimal");
  CHECK(code_of({0x00}) == "<ok>");
}

// [data.varint.truncated]
TEST_CASE("varint: input ending inside a varint [data.varint.truncated]", "[data][varint]") {
  CHECK(code_of({}) == "data.varint.truncated");
  CHECK(code_of({0x80}) == "data.varint.truncated");
  CHECK(code_of({0xff, 0xff}) == "data.varint.truncated");
}

// [data.varint.max-length]
TEST_CASE("varint: at most 9 bytes [data.varint.max-length]", "[data][varint]") {
  CHECK(code_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}) == "<ok>");
  CHECK(code_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}) ==
        "data.varint.max-length");
}
