// RapidCheck properties of Lexicon validation, over the example Lexicons of
// vectors/lexicon/record.json (every field type and constraint):
// - data generated from a schema validates against it;
// - breaking exactly one constraint of a valid record is rejected, with an
//   error naming that constraint's rule and the path of the broken field.
#include <rapidcheck.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/json.hpp"
#include "atproto/lexicon/test_generators.hpp"
#include "atproto/lexicon/validate.hpp"

using namespace atproto;
using namespace atproto::lexicon;
using nlohmann::json;

namespace {

const Catalog& example_catalog() {
  static const Catalog catalog = [] {
    std::ifstream in(std::filesystem::path(ATPROTO_VECTORS_DIR) / "lexicon" / "record.json");
    json file = json::parse(in);
    Catalog c;
    for (const auto& d : file.at("lexicons")) {
      if (!c.add_json(d)) throw std::runtime_error("bad example lexicon");
    }
    return c;
  }();
  return catalog;
}

const char* kCollections[] = {"com.example.kitchen", "com.example.other"};

}  // namespace

TEST_CASE("generated records validate [lex.validate.type] [lex.validate.required]",
          "[lexicon][properties]") {
  const Catalog& catalog = example_catalog();
  for (const char* nsid : kCollections) {
    CHECK(rc::check(std::string("valid records of ") + nsid, [&] {
      data::Value record = *generators::valid_record(catalog, nsid);
      auto s = validate_record(catalog, record);
      RC_ASSERT(s.ok() || (RC_LOG() << s.error().message << "\n"
                                    << data::to_json(record).dump(),
                           false));
      // The same record after a CBOR round trip (the path records take in
      // a repository) validates the same way.
      auto bytes = data::encode_cbor(record);
      RC_ASSERT(bytes.ok());
      auto decoded = data::decode_cbor(bytes.value());
      RC_ASSERT(decoded.ok());
      RC_ASSERT(validate_record(catalog, decoded.value()).ok());
      // And as a view of those bytes, without an owning Value.
      data::CborTape tape;
      RC_ASSERT(data::decode_cbor_view(bytes.value(), tape).ok());
      RC_ASSERT(validate_record(catalog, tape.root()).ok());
      RC_ASSERT(validate_record(catalog, nsid, tape.root()).ok());
    }));
  }
}

TEST_CASE(
    "breaking one constraint is rejected at its path [lex.validate.integer-range] "
    "[lex.validate.string-length] [lex.validate.union-closed]",
    "[lexicon][properties]") {
  const Catalog& catalog = example_catalog();
  const TypeDef& def = *catalog.def("com.example.kitchen#main");
  CHECK(rc::check("one violation, one error at its path", [&] {
    data::Value record = *generators::valid_record(catalog, "com.example.kitchen");
    auto violations = generators::violations_of(catalog, def, record);
    RC_ASSERT(violations.size() > 40u);
    const auto& v = *rc::gen::elementOf(violations);
    RC_LOG() << v.what << " at " << v.path << "\n" << data::to_json(v.record).dump() << "\n";
    auto s = validate_record(catalog, v.record);
    RC_ASSERT(!s.ok());
    RC_LOG() << s.error().code << " " << s.error().message << "\n";
    // The view of the record's CBOR fails with the same error.
    auto bytes = data::encode_cbor(v.record);
    RC_ASSERT(bytes.ok());
    data::CborTape tape;
    RC_ASSERT(data::decode_cbor_view(bytes.value(), tape).ok());
    auto viewed = validate_record(catalog, tape.root());
    RC_ASSERT(!viewed.ok());
    RC_ASSERT(viewed.error() == s.error());
    RC_ASSERT(std::find(v.codes.begin(), v.codes.end(), s.error().code) != v.codes.end());
    RC_ASSERT(s.error().message.rfind(v.path + ": ", 0) == 0u);
  }));
}

TEST_CASE("every violation of a fixed record is caught", "[lexicon][properties]") {
  // Deterministic sweep: each violation of one valid record, not a sample.
  const Catalog& catalog = example_catalog();
  const TypeDef& def = *catalog.def("com.example.kitchen#main");
  data::Value base = data::Value(data::Map{
      {"$type", "com.example.kitchen"}, {"text", "hi"}, {"createdAt", "2024-01-01T00:00:00Z"}});
  REQUIRE(validate_record(catalog, base).ok());
  auto violations = generators::violations_of(catalog, def, base);
  CHECK(violations.size() > 60);
  for (const auto& v : violations) {
    INFO(v.what << " at " << v.path);
    auto s = validate_record(catalog, v.record);
    REQUIRE_FALSE(s.ok());
    INFO(s.error().code << " " << s.error().message);
    // The same error on a view of the record's CBOR.
    const auto bytes = data::encode_cbor(v.record).value();  // outlives the view
    data::CborTape tape;
    REQUIRE(data::decode_cbor_view(bytes, tape).ok());
    auto viewed = validate_record(catalog, tape.root());
    REQUIRE_FALSE(viewed.ok());
    CHECK(viewed.error() == s.error());
    CHECK(std::find(v.codes.begin(), v.codes.end(), s.error().code) != v.codes.end());
    CHECK(s.error().message.rfind(v.path + ": ", 0) == 0);
  }
}
