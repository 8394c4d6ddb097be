// The tape decoder (cbor_view.hpp) against the owning decoder (cbor.hpp):
// on every input both give the same verdict, the same error (code and
// message), and for accepted input the same value once the view is
// converted with to_value. Inputs: generated values, mutations of their
// canonical bytes, arbitrary bytes, and tight limits. The data vectors also
// run through both (vectors_test.cpp), and so does the CBOR fuzz target.
//
// Run only these with: data_tests "[cbor-view]".
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/test_generators.hpp"
#include "atproto/data/value.hpp"

namespace {

namespace gen = rc::gen;
using namespace atproto;
using namespace atproto::data;
using namespace atproto::data::generators;

// Both decoders on `in`; RC_ASSERTs that they agree.
void agree(const std::vector<std::uint8_t>& in, const DecodeLimits& limits = {}) {
  auto owning = decode_cbor(in, limits);
  CborTape tape;
  auto viewed = decode_cbor_view(in, tape, limits);
  RC_ASSERT(owning.ok() == viewed.ok());
  if (!owning.ok()) {
    RC_ASSERT(owning.error().code == viewed.error().code);
    RC_ASSERT(owning.error().message == viewed.error().message);
    return;
  }
  RC_ASSERT(to_value(tape.root()) == *owning);
}

// The prefix decoders on `in` and on `in` with `tail` after it; RC_ASSERTs
// that they agree, also on where the first item ends.
void agree_prefix(const std::vector<std::uint8_t>& in, const std::vector<std::uint8_t>& tail,
                  const DecodeLimits& limits = {}) {
  for (const auto* bytes : {&in, &tail}) {
    std::vector<std::uint8_t> input = in;
    if (bytes == &tail) input.insert(input.end(), tail.begin(), tail.end());
    std::size_t owning_consumed = 0;
    std::size_t view_consumed = 0;
    auto owning = decode_cbor_prefix(input, owning_consumed, limits);
    CborTape tape;
    auto viewed = decode_cbor_view_prefix(input, tape, view_consumed, limits);
    RC_ASSERT(owning.ok() == viewed.ok());
    if (!owning.ok()) {
      RC_ASSERT(owning.error().code == viewed.error().code);
      RC_ASSERT(owning.error().message == viewed.error().message);
      continue;
    }
    RC_ASSERT(view_consumed == owning_consumed);
    RC_ASSERT(to_value(tape.root()) == *owning);
  }
}

}  // namespace

// [data.cbor.map-key-order] [data.cbor.int-shortest] [data.cbor.length-shortest]
// [data.cbor.cid-link] [data.model.utf8] [data.limits.depth] [data.limits.size]
TEST_CASE("cbor view: agrees with decode_cbor", "[data][properties][cbor-view]") {
  rc::prop("generated values: to_value(view) == decode_cbor", [] {
    Value v = *value(4);
    auto bytes = encode_cbor(v);
    RC_ASSERT(bytes.ok());
    CborTape tape;
    RC_ASSERT(decode_cbor_view(*bytes, tape).ok());
    RC_ASSERT(to_value(tape.root()) == v);
    agree(*bytes);
  });
  rc::prop("mutated canonical bytes: same verdict, error and value", [] {
    Value v = *value(3);
    auto bytes = encode_cbor(v);
    RC_ASSERT(bytes.ok());
    agree(mutated(*bytes));
  });
  rc::prop("arbitrary bytes: same verdict, error and value",
           [](const std::vector<std::uint8_t>& in) { agree(in); });
  rc::prop("prefix decoding: same verdict, error, value and length", [] {
    Value v = *value(3);
    auto bytes = encode_cbor(v);
    RC_ASSERT(bytes.ok());
    const auto tail = *gen::arbitrary<std::vector<std::uint8_t>>();
    agree_prefix(*gen::element(*bytes, mutated(*bytes)), tail);
  });
  rc::prop("tight limits: same verdict, error and value", [] {
    Value v = *value(4);
    auto bytes = encode_cbor(v);
    RC_ASSERT(bytes.ok());
    DecodeLimits limits;
    limits.max_depth = *gen::inRange<std::size_t>(0, 5);
    limits.max_items = *gen::inRange<std::size_t>(0, 40);
    limits.max_input_bytes = *gen::inRange<std::size_t>(0, bytes->size() + 2);
    agree(*gen::element(*bytes, mutated(*bytes)), limits);
  });
}

TEST_CASE("cbor view: map lookups agree with the Value's map", "[data][properties][cbor-view]") {
  rc::prop("find(key) for present and absent keys", [] {
    Value v = *record(2);
    const auto bytes = encode_cbor(v).value();
    CborTape tape;
    RC_ASSERT(decode_cbor_view(bytes, tape).ok());
    const ValueView root = tape.root();
    for (const auto& [key, item] : v.as_map()) {
      const auto found = root.find(key);
      RC_ASSERT(found.has_value());
      RC_ASSERT(to_value(*found) == item);
    }
    // The scan stops early in canonical order; probes on both sides of
    // each key must still be answered right.
    const std::string probe = *map_key();
    RC_ASSERT(root.find(probe).has_value() == (v.as_map().count(probe) == 1));
  });
}

TEST_CASE("cbor view: hand-made inputs fail alike", "[data][cbor-view]") {
  // One input per rule, so each error path is certainly reached.
  const std::vector<std::pair<std::vector<std::uint8_t>, std::string>> cases = {
      {{}, "data.cbor.truncated"},
      {{0x1c}, "data.cbor.well-formed"},
      {{0xfc}, "data.cbor.well-formed"},
      {{0x1f}, "data.cbor.well-formed"},
      {{0x5f}, "data.cbor.indefinite-length"},
      {{0xff}, "data.cbor.indefinite-length"},
      {{0x18, 0x17}, "data.cbor.int-shortest"},
      {{0x39, 0x00, 0x00}, "data.cbor.int-shortest"},
      {{0x78, 0x00}, "data.cbor.length-shortest"},
      {{0xd8}, "data.cbor.truncated"},
      {{0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "data.model.int64"},
      {{0x3b, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, "data.model.int64"},
      {{0x62, 0xc3, 0x28}, "data.model.utf8"},
      {{0xa1, 0x01, 0x01}, "data.cbor.map-key-string"},
      {{0xa2, 0x61, 0x61, 0x01, 0x61, 0x62, 0x01}, ""},  // keys "a" then "b": in order
      {{0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x01}, "data.cbor.map-key-order"},
      {{0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x01}, "data.cbor.map-key-unique"},
      {{0xa2, 0x62, 0x61, 0x61, 0x01, 0x61, 0x62}, "data.cbor.map-key-order"},
      {{0xf9, 0x7e, 0x00}, "data.model.no-floats"},
      {{0xfb, 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, "data.model.no-floats"},
      {{0xf7}, "data.cbor.simple-values"},
      {{0xf0}, "data.cbor.simple-values"},
      {{0xf8, 0x20}, "data.cbor.simple-values"},
      {{0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0}, "data.cbor.tag-42-only"},
      {{0xd8, 0x2a, 0x01}, "data.cbor.cid-link"},
      {{0xd8, 0x2a, 0x40}, "data.cbor.cid-link"},
      {{0xd8, 0x2a, 0x41, 0x01}, "data.cbor.cid-link"},
      {{0xd8, 0x2a, 0x42, 0x00, 0x02}, "data.cid.version"},
      {{0xd8, 0x2a, 0x42, 0x00, 0x01}, "data.cid.binary"},
      {{0xd8, 0x2a}, "data.cbor.truncated"},
      {{0x00, 0x00}, "data.cbor.trailing-bytes"},
      {{0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01}, ""},
  };
  for (const auto& [in, code] : cases) {
    auto owning = decode_cbor(in);
    CborTape tape;
    auto viewed = decode_cbor_view(in, tape);
    INFO("input of " << in.size() << " bytes, expecting " << (code.empty() ? "valid" : code));
    REQUIRE(owning.ok() == viewed.ok());
    REQUIRE(viewed.ok() == code.empty());
    if (!owning.ok()) {
      CHECK(viewed.error().code == code);
      CHECK(viewed.error() == owning.error());
    } else {
      CHECK(to_value(tape.root()) == *owning);
    }
  }
  // Depth and item limits.
  const std::vector<std::uint8_t> nested = {0x81, 0x81, 0x81, 0x81, 0x01};
  CborTape tape;
  DecodeLimits shallow;
  shallow.max_depth = 3;
  auto deep = decode_cbor_view(nested, tape, shallow);
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().code == "data.limits.depth");
  CHECK(deep.error() == decode_cbor(nested, shallow).error());
  DecodeLimits few;
  few.max_items = 4;
  auto many = decode_cbor_view(nested, tape, few);
  REQUIRE_FALSE(many.ok());
  CHECK(many.error().code == "data.limits.size");
  CHECK(many.error() == decode_cbor(nested, few).error());
}

TEST_CASE("cbor view: accessors read the input in place", "[data][cbor-view]") {
  const Cid link = Cid::compute(Codec::kDagCbor, std::vector<std::uint8_t>{1, 2, 3});
  Value v = Map{{"text", "hello"},
                {"n", -42},
                {"flag", true},
                {"none", nullptr},
                {"raw", Bytes{9, 8, 7}},
                {"link", link},
                {"list", Array{1, Map{{"a", 2}}, 3}}};
  const auto bytes = encode_cbor(v).value();
  CborTape tape;
  REQUIRE(decode_cbor_view(bytes, tape).ok());
  const ValueView root = tape.root();
  REQUIRE(root.is_map());
  CHECK(root.as_map().size() == 7);
  // Canonical order: shorter keys first.
  std::vector<std::string> keys;
  for (auto [key, item] : root.as_map()) keys.emplace_back(key);
  CHECK(keys == std::vector<std::string>{"n", "raw", "flag", "link", "list", "none", "text"});
  const auto text = root.find("text");
  REQUIRE(text);
  CHECK(text->as_string() == "hello");
  // A view, not a copy: the characters live in the input buffer.
  CHECK(reinterpret_cast<const std::uint8_t*>(text->as_string().data()) >= bytes.data());
  CHECK(reinterpret_cast<const std::uint8_t*>(text->as_string().data()) <
        bytes.data() + bytes.size());
  CHECK(root.find("n")->as_integer() == -42);
  CHECK(root.find("flag")->as_bool());
  CHECK(root.find("none")->is_null());
  const auto raw = root.find("raw")->as_bytes();
  CHECK(std::vector<std::uint8_t>(raw.begin(), raw.end()) == Bytes{9, 8, 7});
  CHECK(root.find("link")->as_link() == link);
  CHECK(root.find("missing") == std::nullopt);
  CHECK(root.find("zz") == std::nullopt);    // sorts between "n" and "raw"
  CHECK(root.find("lisa") == std::nullopt);  // between "link" and "list"
  CHECK(root.find("") == std::nullopt);
  const auto list = root.find("list")->as_array();
  REQUIRE(list.size() == 3);
  std::vector<Kind> kinds;
  for (ValueView item : list) kinds.push_back(item.kind());
  CHECK(kinds == std::vector<Kind>{Kind::kInteger, Kind::kMap, Kind::kInteger});
  CHECK((*++list.begin()).find("a")->as_integer() == 2);
  CHECK(to_value(root) == v);
  // A reused tape keeps its memory: the second decode does not grow it.
  const auto* before = tape.entries().data();
  const auto capacity = tape.entries().capacity();
  REQUIRE(decode_cbor_view(bytes, tape).ok());
  CHECK(tape.entries().data() == before);
  CHECK(tape.entries().capacity() == capacity);
}
