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

std::vector<std::uint8_t> mutate(std::vector<std::uint8_t> bytes) {
  const auto edits = *gen::inRange(1, 4);
  for (int i = 0; i < edits; ++i) {
    const auto kind = *gen::inRange(0, 3);
    const auto at = *gen::inRange<std::size_t>(0, bytes.size() + 1);
    const auto byte = *gen::arbitrary<std::uint8_t>();
    if (kind == 0 && at < bytes.size()) bytes[at] = byte;
    if (kind == 1) bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), byte);
    if (kind == 2 && at < bytes.size())
      bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at));
  }
  return bytes;
}

std::vector<std::uint8_t> hex(const std::string& h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  }
  return out;
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
    agree(mutate(*bytes));
  });
  rc::prop("arbitrary bytes: same verdict, error and value",
           [](const std::vector<std::uint8_t>& in) { agree(in); });
  rc::prop("tight limits: same verdict, error and value", [] {
    Value v = *value(4);
    auto bytes = encode_cbor(v);
    RC_ASSERT(bytes.ok());
    DecodeLimits limits;
    limits.max_depth = *gen::inRange<std::size_t>(0, 5);
    limits.max_items = *gen::inRange<std::size_t>(0, 40);
    limits.max_input_bytes = *gen::inRange<std::size_t>(0, bytes->size() + 2);
    agree(*gen::element(*bytes, mutate(*bytes)), limits);
  });
}

TEST_CASE("cbor view: hand-made inputs fail alike", "[data][cbor-view]") {
  // One input per rule, so each error path is certainly reached.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "data.cbor.truncated"},
      {"1c", "data.cbor.well-formed"},
      {"fc", "data.cbor.well-formed"},
      {"1f", "data.cbor.well-formed"},
      {"5f", "data.cbor.indefinite-length"},
      {"ff", "data.cbor.indefinite-length"},
      {"1817", "data.cbor.int-shortest"},
      {"390000", "data.cbor.int-shortest"},
      {"7800", "data.cbor.length-shortest"},
      {"d8", "data.cbor.truncated"},
      {"1bffffffffffffffff", "data.model.int64"},
      {"3b8000000000000000", "data.model.int64"},
      {"62c328", "data.model.utf8"},
      {"a10101", "data.cbor.map-key-string"},
      {"a2616101616201", ""},  // keys "a" then "b": in order
      {"a2616201616101", "data.cbor.map-key-order"},
      {"a2616101616101", "data.cbor.map-key-unique"},
      {"a2626161016162", "data.cbor.map-key-order"},
      {"f97e00", "data.model.no-floats"},
      {"fb3ff0000000000000", "data.model.no-floats"},
      {"f7", "data.cbor.simple-values"},
      {"f0", "data.cbor.simple-values"},
      {"f820", "data.cbor.simple-values"},
      {"c11a514b67b0", "data.cbor.tag-42-only"},
      {"d82a01", "data.cbor.cid-link"},
      {"d82a40", "data.cbor.cid-link"},
      {"d82a4101", "data.cbor.cid-link"},
      {"d82a420002", "data.cid.version"},
      {"d82a420001", "data.cid.binary"},
      {"d82a", "data.cbor.truncated"},
      {"0000", "data.cbor.trailing-bytes"},
      {"8181818181818181818101", ""},
  };
  for (const auto& [h, code] : cases) {
    const auto in = hex(h);
    auto owning = decode_cbor(in);
    CborTape tape;
    auto viewed = decode_cbor_view(in, tape);
    INFO("input " << h);
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
  const auto nested = hex("8181818101");
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
