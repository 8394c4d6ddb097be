// Unit tests for the canonical DRISL-CBOR encoder and the strict decoder.
// Spec: https://atproto.com/specs/data-model#data-types
#include "atproto/data/cbor.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "atproto/common/hex.hpp"
#include "atproto/common/testing.hpp"

using namespace atproto::data;
using B = std::vector<std::uint8_t>;

namespace {

std::string code_of(const B& bytes, const DecodeLimits& limits = {}) {
  return atproto::testing::code_of(decode_cbor(bytes, limits));
}

B encoded(const Value& v) {
  auto r = encode_cbor(v);
  REQUIRE(r.ok());
  return *r;
}

B cat(B a, const B& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Tag 42 + byte string(37) + 0x00 + a dag-cbor CID of 0xa0.
B link_bytes() {
  B out = {0xd8, 0x2a, 0x58, 0x25, 0x00};
  auto cid = Cid::compute(Codec::kDagCbor, B{0xa0}).to_bytes();
  return cat(out, cid);
}

}  // namespace

// [data.cbor.int-shortest] [data.cbor.length-shortest] [data.cbor.cid-link]
TEST_CASE("cbor: canonical encodings of each kind", "[data][cbor]") {
  CHECK(encoded(nullptr) == B{0xf6});
  CHECK(encoded(false) == B{0xf4});
  CHECK(encoded(true) == B{0xf5});
  CHECK(encoded(0) == B{0x00});
  CHECK(encoded(23) == B{0x17});
  CHECK(encoded(24) == B{0x18, 0x18});
  CHECK(encoded(255) == B{0x18, 0xff});
  CHECK(encoded(256) == B{0x19, 0x01, 0x00});
  CHECK(encoded(65535) == B{0x19, 0xff, 0xff});
  CHECK(encoded(65536) == B{0x1a, 0x00, 0x01, 0x00, 0x00});
  CHECK(encoded(std::int64_t{4294967296}) == B{0x1b, 0, 0, 0, 1, 0, 0, 0, 0});
  CHECK(encoded(-1) == B{0x20});
  CHECK(encoded(-24) == B{0x37});
  CHECK(encoded(-25) == B{0x38, 0x18});
  CHECK(encoded(-256) == B{0x38, 0xff});
  CHECK(encoded(-257) == B{0x39, 0x01, 0x00});
  CHECK(encoded(std::numeric_limits<std::int64_t>::max()) ==
        B{0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  CHECK(encoded(std::numeric_limits<std::int64_t>::min()) ==
        B{0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  CHECK(encoded("") == B{0x60});
  CHECK(encoded("a") == B{0x61, 'a'});
  CHECK(encoded(std::string(24, 'x')) == cat(B{0x78, 24}, B(24, 'x')));
  CHECK(encoded(Bytes{}) == B{0x40});
  CHECK(encoded(Bytes{1, 2, 3}) == B{0x43, 1, 2, 3});
  CHECK(encoded(Array{}) == B{0x80});
  CHECK(encoded(Array{1, Array{2}}) == B{0x82, 0x01, 0x81, 0x02});
  CHECK(encoded(Map{}) == B{0xa0});
  CHECK(encoded(Map{{"hello", "world"}}) ==
        B{0xa1, 0x65, 'h', 'e', 'l', 'l', 'o', 0x65, 'w', 'o', 'r', 'l', 'd'});
  CHECK(encoded(Cid::compute(Codec::kDagCbor, B{0xa0})) == link_bytes());
}

// [data.cbor.map-key-order]
TEST_CASE("cbor: map keys are written by length, then bytewise [data.cbor.map-key-order]",
          "[data][cbor]") {
  Value v = Map{{"bb", 1}, {"a", 2}, {"ab", 3}, {"c", 4}, {"", 5}};
  // std::map order would be "", "a", "ab", "bb", "c"; canonical is "", "a", "c", "ab", "bb".
  CHECK(encoded(v) == B{0xa5, 0x60, 0x05, 0x61, 'a', 0x02, 0x61, 'c', 0x04, 0x62, 'a', 'b', 0x03,
                        0x62, 'b', 'b', 0x01});
}

TEST_CASE("cbor: cid_of gives the known CIDs", "[data][cbor]") {
  auto empty = cid_of(Map{});
  REQUIRE(empty.ok());
  CHECK(empty->to_string() == "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua");
  auto hello = cid_of(Map{{"hello", "world"}});
  REQUIRE(hello.ok());
  CHECK(hello->to_string() == "bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae");
}

TEST_CASE("cbor: decode of canonical bytes round trips", "[data][cbor]") {
  Value v = Map{{"$type", "app.example.record"},
                {"text", "héllo wörld ✓ 😀"},
                {"n", -1234567890123},
                {"list", Array{nullptr, true, false, 0, Bytes{0, 255}, Map{}}},
                {"link", Cid::compute(Codec::kRaw, B{1, 2, 3})}};
  B bytes = encoded(v);
  auto back = decode_cbor(bytes);
  REQUIRE(back.ok());
  CHECK(*back == v);
  CHECK(encoded(*back) == bytes);
}

// [data.model.utf8]
TEST_CASE("cbor: encoding refuses invalid UTF-8 [data.model.utf8]", "[data][cbor]") {
  CHECK(encode_cbor(std::string("\xff")).error().code == "data.model.utf8");
  CHECK(encode_cbor(Map{{std::string("\xc0\x80"), 1}}).error().code == "data.model.utf8");
}

// [data.cbor.truncated]
TEST_CASE("cbor: truncated input [data.cbor.truncated]", "[data][cbor]") {
  CHECK(code_of({}) == "data.cbor.truncated");
  CHECK(code_of({0x18}) == "data.cbor.truncated");
  CHECK(code_of({0x19, 0x01}) == "data.cbor.truncated");
  CHECK(code_of({0x62, 'a'}) == "data.cbor.truncated");
  CHECK(code_of({0x43, 1, 2}) == "data.cbor.truncated");
  CHECK(code_of({0x82, 0x01}) == "data.cbor.truncated");
  CHECK(code_of({0xa1, 0x61, 'a'}) == "data.cbor.truncated");
  CHECK(code_of({0xd8, 0x2a}) == "data.cbor.truncated");
  // Huge claimed lengths fail cleanly, without allocating.
  CHECK(code_of({0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) == "data.cbor.truncated");
  CHECK(code_of({0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) == "data.cbor.truncated");
  CHECK(code_of({0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) == "data.cbor.truncated");
  CHECK(code_of({0x7a, 0xff, 0xff, 0xff, 0xff}) == "data.cbor.truncated");
}

// [data.cbor.well-formed]
TEST_CASE("cbor: reserved additional information [data.cbor.well-formed]", "[data][cbor]") {
  for (int b : {0x1c, 0x1d, 0x1e, 0x3c, 0x5c, 0x7d, 0x9e, 0xbc, 0xdc}) {
    CAPTURE(b);
    CHECK(code_of({static_cast<std::uint8_t>(b), 0, 0, 0, 0, 0, 0, 0, 0}) ==
          "data.cbor.well-formed");
  }
  CHECK(code_of({0x1f}) == "data.cbor.well-formed");
  CHECK(code_of({0x3f}) == "data.cbor.well-formed");
  CHECK(code_of({0xdf, 0x40}) == "data.cbor.well-formed");
}

// [data.cbor.indefinite-length]
TEST_CASE("cbor: indefinite lengths are rejected [data.cbor.indefinite-length]", "[data][cbor]") {
  CHECK(code_of({0x5f, 0x41, 0x00, 0xff}) == "data.cbor.indefinite-length");
  CHECK(code_of({0x7f, 0x61, 'a', 0xff}) == "data.cbor.indefinite-length");
  CHECK(code_of({0x9f, 0x01, 0xff}) == "data.cbor.indefinite-length");
  CHECK(code_of({0xbf, 0x61, 'a', 0x01, 0xff}) == "data.cbor.indefinite-length");
  CHECK(code_of({0xff}) == "data.cbor.indefinite-length");
  CHECK(code_of({0x81, 0xff}) == "data.cbor.indefinite-length");
}

// [data.cbor.int-shortest]
TEST_CASE("cbor: integers in non-shortest form [data.cbor.int-shortest]", "[data][cbor]") {
  CHECK(code_of({0x18, 0x17}) == "data.cbor.int-shortest");
  CHECK(code_of({0x18, 0x00}) == "data.cbor.int-shortest");
  CHECK(code_of({0x19, 0x00, 0xff}) == "data.cbor.int-shortest");
  CHECK(code_of({0x1a, 0x00, 0x00, 0xff, 0xff}) == "data.cbor.int-shortest");
  CHECK(code_of({0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}) == "data.cbor.int-shortest");
  CHECK(code_of({0x38, 0x00}) == "data.cbor.int-shortest");
  CHECK(code_of({0x39, 0x00, 0x10}) == "data.cbor.int-shortest");
  CHECK(code_of({0x18, 0x18}) == "<ok>");
  CHECK(code_of({0x19, 0x01, 0x00}) == "<ok>");
  CHECK(code_of({0x1a, 0x00, 0x01, 0x00, 0x00}) == "<ok>");
  CHECK(code_of({0x1b, 0, 0, 0, 1, 0, 0, 0, 0}) == "<ok>");
}

// [data.cbor.length-shortest]
TEST_CASE("cbor: lengths and tags in non-shortest form [data.cbor.length-shortest]",
          "[data][cbor]") {
  CHECK(code_of({0x58, 0x01, 0x00}) == "data.cbor.length-shortest");
  CHECK(code_of({0x78, 0x01, 'a'}) == "data.cbor.length-shortest");
  CHECK(code_of({0x79, 0x00, 0x01, 'a'}) == "data.cbor.length-shortest");
  CHECK(code_of({0x98, 0x00}) == "data.cbor.length-shortest");
  CHECK(code_of({0xb8, 0x00}) == "data.cbor.length-shortest");
  const B link = link_bytes();
  CHECK(code_of(cat({0xd9, 0x00, 0x2a}, B(link.begin() + 2, link.end()))) ==
        "data.cbor.length-shortest");
  CHECK(code_of(cat({0xd8, 0x2a, 0x59, 0x00, 0x25}, B(link.begin() + 4, link.end()))) ==
        "data.cbor.length-shortest");
}

// [data.model.int64]
TEST_CASE("cbor: integers outside int64 [data.model.int64]", "[data][cbor]") {
  CHECK(code_of({0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) == "<ok>");
  CHECK(code_of({0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0}) == "data.model.int64");
  CHECK(code_of({0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) == "data.model.int64");
  CHECK(code_of({0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) == "<ok>");
  CHECK(code_of({0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0}) == "data.model.int64");
  CHECK(code_of({0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) == "data.model.int64");
  auto min = decode_cbor(B{0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  REQUIRE(min.ok());
  CHECK(min->as_integer() == std::numeric_limits<std::int64_t>::min());
}

// [data.model.no-floats]
TEST_CASE("cbor: floats of every width are rejected [data.model.no-floats]", "[data][cbor]") {
  CHECK(code_of({0xf9, 0x3c, 0x00}) == "data.model.no-floats");                    // half 1.0
  CHECK(code_of({0xfa, 0x3f, 0x80, 0x00, 0x00}) == "data.model.no-floats");        // single 1.0
  CHECK(code_of({0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}) == "data.model.no-floats");  // double 1.0
  CHECK(code_of({0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0}) == "data.model.no-floats");  // NaN
  CHECK(code_of({0xf9, 0x00, 0x00}) == "data.model.no-floats");                    // 0.0
  CHECK(code_of({0x81, 0xf9, 0x7c, 0x00}) == "data.model.no-floats");              // [inf]
}

// [data.cbor.simple-values]
TEST_CASE("cbor: only false, true and null simple values [data.cbor.simple-values]",
          "[data][cbor]") {
  CHECK(code_of({0xf7}) == "data.cbor.simple-values");  // undefined
  CHECK(code_of({0xe0}) == "data.cbor.simple-values");  // simple(0)
  CHECK(code_of({0xf3}) == "data.cbor.simple-values");  // simple(19)
  CHECK(code_of({0xf8, 0x20}) == "data.cbor.simple-values");
  CHECK(code_of({0xf8, 0xff}) == "data.cbor.simple-values");
  CHECK(code_of({0xf8, 0x14}) == "data.cbor.simple-values");  // two-byte "false"
  CHECK(code_of({0xf4}) == "<ok>");
  CHECK(code_of({0xf5}) == "<ok>");
  CHECK(code_of({0xf6}) == "<ok>");
}

// [data.model.utf8]
TEST_CASE("cbor: text strings must be valid UTF-8 [data.model.utf8]", "[data][cbor]") {
  CHECK(code_of({0x61, 0xff}) == "data.model.utf8");
  CHECK(code_of({0x61, 0x80}) == "data.model.utf8");                    // lone continuation
  CHECK(code_of({0x62, 0xc0, 0x80}) == "data.model.utf8");              // overlong NUL
  CHECK(code_of({0x63, 0xe0, 0x80, 0x80}) == "data.model.utf8");        // overlong
  CHECK(code_of({0x63, 0xed, 0xa0, 0x80}) == "data.model.utf8");        // surrogate D800
  CHECK(code_of({0x64, 0xf4, 0x90, 0x80, 0x80}) == "data.model.utf8");  // above U+10FFFF
  CHECK(code_of({0x62, 0xe2, 0x9c}) == "data.model.utf8");              // cut sequence
  CHECK(code_of({0xa1, 0x61, 0xff, 0x01}) == "data.model.utf8");        // in a key
  CHECK(code_of({0x64, 0xf0, 0x9f, 0x98, 0x80}) == "<ok>");             // U+1F600
  CHECK(code_of({0x63, 0xef, 0xbf, 0xbf}) == "<ok>");                   // U+FFFF
}

// [data.cbor.map-key-string]
TEST_CASE("cbor: map keys must be text strings [data.cbor.map-key-string]", "[data][cbor]") {
  CHECK(code_of({0xa1, 0x01, 0x01}) == "data.cbor.map-key-string");
  CHECK(code_of({0xa1, 0x41, 'a', 0x01}) == "data.cbor.map-key-string");
  CHECK(code_of({0xa1, 0xf6, 0x01}) == "data.cbor.map-key-string");
  CHECK(code_of({0xa1, 0x80, 0x01}) == "data.cbor.map-key-string");
  CHECK(code_of({0xa2, 0x61, 'a', 0x01, 0x20, 0x01}) == "data.cbor.map-key-string");
}

// [data.cbor.map-key-order]
TEST_CASE("cbor: unsorted map keys are rejected [data.cbor.map-key-order]", "[data][cbor]") {
  CHECK(code_of({0xa2, 0x61, 'b', 0x01, 0x61, 'a', 0x02}) == "data.cbor.map-key-order");
  // Bytewise order but not length-first: "aa" before "b".
  CHECK(code_of({0xa2, 0x62, 'a', 'a', 0x01, 0x61, 'b', 0x02}) == "data.cbor.map-key-order");
  CHECK(code_of({0xa2, 0x61, 'b', 0x01, 0x62, 'a', 'a', 0x02}) == "<ok>");
  CHECK(code_of({0xa2, 0x61, 'a', 0x01, 0x60, 0x02}) == "data.cbor.map-key-order");
}

// [data.cbor.map-key-unique]
TEST_CASE("cbor: duplicate map keys are rejected [data.cbor.map-key-unique]", "[data][cbor]") {
  CHECK(code_of({0xa2, 0x61, 'a', 0x01, 0x61, 'a', 0x02}) == "data.cbor.map-key-unique");
  CHECK(code_of({0xa2, 0x60, 0x01, 0x60, 0x01}) == "data.cbor.map-key-unique");
}

// [data.cbor.tag-42-only]
TEST_CASE("cbor: tags other than 42 are rejected [data.cbor.tag-42-only]", "[data][cbor]") {
  CHECK(code_of({0xc0, 0x60}) == "data.cbor.tag-42-only");              // date-time string
  CHECK(code_of({0xc1, 0x00}) == "data.cbor.tag-42-only");              // epoch time
  CHECK(code_of({0xc2, 0x41, 0x01}) == "data.cbor.tag-42-only");        // bignum
  CHECK(code_of({0xd8, 0x2b, 0x40}) == "data.cbor.tag-42-only");        // 43
  CHECK(code_of({0xd9, 0xd9, 0xf7, 0xf6}) == "data.cbor.tag-42-only");  // self-describe
}

// [data.cbor.cid-link]
TEST_CASE("cbor: tag 42 holds 0x00 + a binary CID [data.cbor.cid-link]", "[data][cbor]") {
  CHECK(code_of(link_bytes()) == "<ok>");
  CHECK(code_of({0xd8, 0x2a, 0x61, 'a'}) == "data.cbor.cid-link");  // text, not bytes
  CHECK(code_of({0xd8, 0x2a, 0x01}) == "data.cbor.cid-link");
  CHECK(code_of({0xd8, 0x2a, 0x40}) == "data.cbor.cid-link");  // empty byte string
  B no_prefix = link_bytes();
  no_prefix.erase(no_prefix.begin() + 4);  // drop the 0x00
  no_prefix[2] = 0x58;
  no_prefix[3] = 0x24;
  CHECK(code_of(no_prefix) == "data.cbor.cid-link");
  B wrong_prefix = link_bytes();
  wrong_prefix[4] = 0x01;
  CHECK(code_of(wrong_prefix) == "data.cbor.cid-link");
  // The CID inside is checked too, with the CID rule as the code.
  B bad_codec = link_bytes();
  bad_codec[6] = 0x70;  // dag-pb
  CHECK(code_of(bad_codec) == "data.cid.codec");
  B bad_version = link_bytes();
  bad_version[5] = 0x00;
  CHECK(code_of(bad_version) == "data.cid.version");
  B short_digest = link_bytes();
  short_digest.pop_back();
  short_digest[3] = 0x24;
  CHECK(code_of(short_digest) == "data.cid.binary");
  CHECK(code_of({0xd8, 0x2a, 0x5f, 0xff}) == "data.cbor.indefinite-length");
}

// [data.cbor.trailing-bytes]
TEST_CASE("cbor: exactly one item [data.cbor.trailing-bytes]", "[data][cbor]") {
  CHECK(code_of({0xa0, 0x00}) == "data.cbor.trailing-bytes");
  CHECK(code_of({0x01, 0x01}) == "data.cbor.trailing-bytes");
  CHECK(code_of({0xf6, 0xf6}) == "data.cbor.trailing-bytes");
}

TEST_CASE("cbor: decode_cbor_prefix reads the first item and says where it ends", "[data][cbor]") {
  const B first = encoded(Value(Map{{"op", Value(1)}, {"t", Value("#info")}}));
  const B second = encoded(Value(Map{{"name", Value("x")}}));
  std::size_t consumed = 0;
  auto v = decode_cbor_prefix(cat(first, second), consumed);
  REQUIRE(v.ok());
  CHECK(consumed == first.size());
  CHECK(*v == Value(Map{{"op", Value(1)}, {"t", Value("#info")}}));
  consumed = 7;
  REQUIRE(decode_cbor_prefix(first, consumed).ok());
  CHECK(consumed == first.size());
  // The first item is decoded as strictly as by decode_cbor; it may not be cut short.
  CHECK(atproto::testing::code_of(decode_cbor_prefix(B{0x18, 0x01, 0x00}, consumed)) ==
        "data.cbor.int-shortest");
  CHECK(atproto::testing::code_of(decode_cbor_prefix(B(first.begin(), first.end() - 1),
                                                     consumed)) == "data.cbor.truncated");
  CHECK(atproto::testing::code_of(decode_cbor_prefix(B{}, consumed)) == "data.cbor.truncated");
}

// [data.limits.depth]
TEST_CASE("cbor: nesting limit [data.limits.depth]", "[data][cbor]") {
  auto nested = [](std::size_t depth) {
    B out(depth, 0x81);
    out.push_back(0x00);
    return out;
  };
  CHECK(code_of(nested(128)) == "<ok>");
  CHECK(code_of(nested(129)) == "data.limits.depth");
  B maps;
  for (int i = 0; i < 129; ++i) maps.insert(maps.end(), {0xa1, 0x61, 'a'});
  maps.push_back(0x00);
  CHECK(code_of(maps) == "data.limits.depth");
  CHECK(code_of(nested(100000)) == "data.limits.depth");
  DecodeLimits shallow;
  shallow.max_depth = 2;
  CHECK(code_of(nested(2), shallow) == "<ok>");
  CHECK(code_of(nested(3), shallow) == "data.limits.depth");
}

// [data.limits.size]
TEST_CASE("cbor: size limits [data.limits.size]", "[data][cbor]") {
  DecodeLimits small;
  small.max_input_bytes = 4;
  CHECK(code_of({0x43, 1, 2, 3}, small) == "<ok>");
  CHECK(code_of({0x44, 1, 2, 3, 4}, small) == "data.limits.size");
  DecodeLimits few;
  few.max_items = 3;
  CHECK(code_of({0x82, 0x01, 0x02}, few) == "<ok>");
  CHECK(code_of({0x83, 0x01, 0x02, 0x03}, few) == "data.limits.size");
  CHECK(code_of(B(DecodeLimits{}.max_input_bytes + 1, 0x00)) == "data.limits.size");
}

TEST_CASE("cbor: arbitrary short inputs are decoded canonically or rejected by a named rule",
          "[data][cbor]") {
  // Every one- and two-byte input, plus each two-byte input with a tail of
  // 0xff bytes. A strict decoder accepts only canonical encodings, so an
  // accepted input re-encodes to exactly its own bytes; a rejected one names
  // a data-layer rule.
  std::size_t accepted = 0;
  auto check = [&](const B& in) {
    auto decoded = decode_cbor(in);
    if (decoded.ok()) {
      ++accepted;
      auto again = encode_cbor(decoded.value());
      INFO("input " << atproto::hex_encode(in));
      REQUIRE(again.ok());
      CHECK(again.value() == in);
    } else {
      INFO("input " << atproto::hex_encode(in) << ": " << decoded.error().message);
      CHECK(decoded.error().code.rfind("data.", 0) == 0);
    }
  };
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      B in = {static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b)};
      check(in);
      in.insert(in.end(), 8, 0xff);
      check(in);
    }
    check(B{static_cast<std::uint8_t>(a)});
  }
  // Some inputs are valid: the small integers 0..23 and -1..-24 in one byte,
  // false, true and null, and their two-byte forms (e.g. 0x18 0x18).
  CHECK(accepted > 50);
}
