// Property tests for the data layer (RapidCheck inside Catch2).
//
// Values come from a generator written from the data model's kinds (valid
// UTF-8 strings, any int64, bytes, blessed CIDs, nested arrays and maps). The
// properties: CBOR and JSON round trips, canonical CBOR (re-encoding decoded
// bytes gives the same bytes, and any input the strict decoder accepts is
// exactly the canonical encoding of what it decoded), and codec round trips.
//
// Run only these with: data_tests "[properties]". RC_PARAMS="max_success=N"
// changes the number of cases per property (default 100).
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "atproto/data/base64.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/json.hpp"
#include "atproto/data/multibase.hpp"
#include "atproto/data/test_generators.hpp"
#include "atproto/data/value.hpp"
#include "atproto/data/varint.hpp"

namespace atproto::data {
// RapidCheck prints counterexamples through showValue, found by ADL.
void showValue(const Value& v, std::ostream& os) {
  os << to_json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
void showValue(const Cid& c, std::ostream& os) { os << c.to_string(); }
}  // namespace atproto::data

namespace {

namespace gen = rc::gen;
using namespace atproto::data;
using namespace atproto::data::generators;

}  // namespace

// [data.cbor.map-key-order] [data.cbor.int-shortest] [data.cbor.length-shortest]
// [data.cbor.cid-link]
TEST_CASE("properties: CBOR round trip and canonical bytes", "[data][properties]") {
  rc::prop("decode(encode(v)) == v and re-encoding gives the same bytes", [] {
    Value v = *value(3);
    auto bytes = encode_cbor(v);
    RC_ASSERT(bytes.ok());
    auto back = decode_cbor(*bytes);
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == v);
    auto again = encode_cbor(*back);
    RC_ASSERT(again.ok());
    RC_ASSERT(*again == *bytes);
  });
}

// [data.cbor.trailing-bytes] [data.cbor.map-key-unique]
TEST_CASE("properties: whatever the strict decoder accepts is canonical", "[data][properties]") {
  rc::prop("mutating canonical bytes: rejected, or the canonical encoding of the result", [] {
    Value v = *value(2);
    auto bytes = encode_cbor(v);
    RC_ASSERT(bytes.ok());
    const std::vector<std::uint8_t> changed = mutated(*bytes);
    auto decoded = decode_cbor(changed);
    if (decoded.ok()) {
      auto canonical = encode_cbor(*decoded);
      RC_ASSERT(canonical.ok());
      RC_ASSERT(*canonical == changed);
    }
  });
  rc::prop("arbitrary bytes never crash the decoder", [](const std::vector<std::uint8_t>& in) {
    auto decoded = decode_cbor(in);
    if (decoded.ok()) RC_ASSERT(*encode_cbor(*decoded) == in);
  });
}

// [data.json.link] [data.json.bytes] [data.json.bytes-base64]
TEST_CASE("properties: JSON round trip", "[data][properties]") {
  rc::prop("from_json(to_json(v)) == v", [] {
    Value v = *value(3);
    auto back = from_json(to_json(v));
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == v);
    // Through text as well.
    auto text = to_json(v).dump();
    auto reparsed = from_json(nlohmann::json::parse(text));
    RC_ASSERT(reparsed.ok());
    RC_ASSERT(*reparsed == v);
  });
}

// [data.multibase.base32] [data.multibase.base58btc] [data.json.bytes-base64] [data.cid.string]
TEST_CASE("properties: codec round trips", "[data][properties]") {
  rc::prop("base32, base58btc and base64 round trip", [](const std::vector<std::uint8_t>& b) {
    RC_ASSERT(*base32_decode(base32_encode(b)) == b);
    RC_ASSERT(*base58btc_decode(base58btc_encode(b)) == b);
    RC_ASSERT(*base64_decode(base64_encode(b)) == b);
  });
  rc::prop("varints round trip", [] {
    const auto v = *gen::inRange<std::uint64_t>(0, kMaxVarintValue);
    std::vector<std::uint8_t> out;
    append_varint(out, v);
    std::size_t pos = 0;
    auto back = read_varint(out, pos);
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == v);
    RC_ASSERT(pos == out.size());
  });
  rc::prop("CID strings and bytes round trip", [] {
    Cid c = *cid();
    RC_ASSERT(*Cid::parse(c.to_string()) == c);
    RC_ASSERT(*Cid::from_bytes(c.to_bytes()) == c);
  });
}
