// Unit tests for blessed CIDs.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/data/cid.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "atproto/common/testing.hpp"
#include "atproto/data/multibase.hpp"

using atproto::data::Cid;
using atproto::data::Codec;

namespace {

using atproto::testing::code_of;

std::vector<std::uint8_t> binary_of(std::vector<std::uint8_t> prefix, std::size_t digest_size) {
  prefix.insert(prefix.end(), digest_size, 0xab);
  return prefix;
}

}  // namespace

// [data.cid.version] [data.cid.codec] [data.cid.hash] [data.cid.string]
TEST_CASE("cid: known answers computed independently (python hashlib)", "[data][cid]") {
  // The empty map 0xa0 and {"hello": "world"} as DAG-CBOR, and the empty blob.
  const std::vector<std::uint8_t> empty_map = {0xa0};
  CHECK(Cid::compute(Codec::kDagCbor, empty_map).to_string() ==
        "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua");
  const std::vector<std::uint8_t> hello = {0xa1, 0x65, 'h', 'e', 'l', 'l', 'o',
                                           0x65, 'w',  'o', 'r', 'l', 'd'};
  CHECK(Cid::compute(Codec::kDagCbor, hello).to_string() ==
        "bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae");
  CHECK(Cid::compute(Codec::kRaw, std::vector<std::uint8_t>{}).to_string() ==
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
}

// [data.cid.string]
TEST_CASE("cid: string round trips, spec examples", "[data][cid]") {
  for (const char* text : {"bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a",
                           "bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4"}) {
    CAPTURE(text);
    auto cid = Cid::parse(text);
    REQUIRE(cid.ok());
    CHECK(cid->to_string() == text);
    CHECK(cid->to_bytes().size() == atproto::data::kCidBinarySize);
    auto again = Cid::from_bytes(cid->to_bytes());
    REQUIRE(again.ok());
    CHECK(*again == *cid);
  }
  CHECK(Cid::parse("bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4")->codec() ==
        Codec::kRaw);
}

// [data.cid.string]
TEST_CASE("cid: only 'b' + lowercase base32 strings [data.cid.string]", "[data][cid]") {
  CHECK(code_of(Cid::parse("")) == "data.cid.string");
  CHECK(code_of(Cid::parse("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR")) == "data.cid.string");
  CHECK(code_of(Cid::parse("BAFYREIDFAYVFUWQA7QLNOPDJIQRXZS6BLMOEU4RUJCJTNCI5BELUDIRZ2A")) ==
        "data.cid.string");
  CHECK(code_of(Cid::parse("zdj7WhuEjrB52m1BisYCtmjH1hSKa7yZ3jEZ9JcXaFRD51wVz")) ==
        "data.cid.string");
  CHECK(code_of(Cid::parse("bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a=")) ==
        "data.cid.string");
  CHECK(code_of(Cid::parse("bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2b")) ==
        "data.cid.string");  // unused trailing bits set
  CHECK(code_of(Cid::parse("b" + std::string(200, 'a'))) == "data.cid.string");
}

// [data.cid.version] [data.cid.codec] [data.cid.hash] [data.cid.binary]
TEST_CASE("cid: binary form checks", "[data][cid]") {
  CHECK(code_of(Cid::from_bytes(binary_of({0x01, 0x71, 0x12, 0x20}, 32))) == "<ok>");
  CHECK(code_of(Cid::from_bytes(binary_of({0x01, 0x55, 0x12, 0x20}, 32))) == "<ok>");
  // CIDv0 is a bare multihash 0x12 0x20 ...
  CHECK(code_of(Cid::from_bytes(binary_of({0x12, 0x20}, 32))) == "data.cid.version");
  CHECK(code_of(Cid::from_bytes(binary_of({0x02, 0x71, 0x12, 0x20}, 32))) == "data.cid.version");
  CHECK(code_of(Cid::from_bytes(binary_of({0x01, 0x70, 0x12, 0x20}, 32))) == "data.cid.codec");
  CHECK(code_of(Cid::from_bytes(binary_of({0x01, 0x29, 0x12, 0x20}, 32))) == "data.cid.codec");
  CHECK(code_of(Cid::from_bytes(binary_of({0x01, 0x71, 0x13, 0x40}, 64))) == "data.cid.hash");
  CHECK(code_of(Cid::from_bytes(binary_of({0x01, 0x71, 0x1e, 0x20}, 32))) == "data.cid.hash");
  CHECK(code_of(Cid::from_bytes(binary_of({0x01, 0x71, 0x12, 0x10}, 16))) == "data.cid.hash");
  CHECK(code_of(Cid::from_bytes(binary_of({0x01, 0x71, 0x12, 0x20}, 31))) == "data.cid.binary");
  CHECK(code_of(Cid::from_bytes(binary_of({0x01, 0x71, 0x12, 0x20}, 33))) == "data.cid.binary");
  CHECK(code_of(Cid::from_bytes(binary_of({0x81, 0x00, 0x71, 0x12, 0x20}, 32))) ==
        "data.cid.binary");  // non-minimal varint
  CHECK(code_of(Cid::from_bytes(std::vector<std::uint8_t>{})) == "data.cid.binary");
  CHECK(code_of(Cid::from_bytes(std::vector<std::uint8_t>{0x01, 0x71})) == "data.cid.binary");
}

TEST_CASE("cid: equality and ordering follow the binary form", "[data][cid]") {
  const std::vector<std::uint8_t> a = {1}, b = {2};
  Cid raw = Cid::compute(Codec::kRaw, a);
  Cid cbor = Cid::compute(Codec::kDagCbor, a);
  CHECK(raw != cbor);
  CHECK(raw < cbor);  // 0x55 < 0x71
  CHECK(Cid::compute(Codec::kRaw, a) == raw);
  Cid x = Cid::compute(Codec::kRaw, a), y = Cid::compute(Codec::kRaw, b);
  CHECK((x < y) == (x.to_bytes() < y.to_bytes()));
}
