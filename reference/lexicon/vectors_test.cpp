// Runs the shared Lexicon test vectors (vectors/lexicon/*.json, written by
// tools/gen-lexicon-vectors.py) against the reference implementation. The
// file format is described in vectors/README.md.
//
// validate-schema: parse_lexicon on the case's document; an invalid case
// must fail with its error code and a message starting with its path.
// validate-record: the file's Lexicons form a catalog; the record goes
// through data::from_json and validate_record (collection from $type).
// validate-params: validate_params on the query text for the case's NSID.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/json.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/schema.hpp"
#include "atproto/lexicon/validate.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace atproto;
using namespace atproto::lexicon;

const fs::path kVectorDir = fs::path(ATPROTO_VECTORS_DIR) / "lexicon";

json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return json::parse(in);
}

Catalog catalog_of(const json& file) {
  Catalog catalog;
  for (const auto& d : file.at("lexicons")) {
    auto s = catalog.add_json(d);
    INFO((s ? std::string() : s.error().message));
    REQUIRE(s.ok());
  }
  REQUIRE(catalog.check_references().ok());
  return catalog;
}

// Compares a verdict with the case; returns whether it matched.
void check_case(const json& c, const Status& result) {
  INFO(c.at("id").get<std::string>() << ": " << c.at("comment").get<std::string>());
  if (c.at("valid").get<bool>()) {
    INFO((result ? std::string() : result.error().code + " " + result.error().message));
    CHECK(result.ok());
    return;
  }
  REQUIRE_FALSE(result.ok());
  INFO(result.error().message);
  CHECK(result.error().code == c.at("error").get<std::string>());
  std::string prefix = c.at("path").get<std::string>() + ": ";
  CHECK(result.error().message.rfind(prefix, 0) == 0);
}

std::size_t count_cases(const json& file, bool valid) {
  std::size_t n = 0;
  for (const auto& c : file.at("cases")) n += c.at("valid").get<bool>() == valid;
  return n;
}

}  // namespace

TEST_CASE("schema vectors [lex.schema.document]", "[lexicon][vectors]") {
  json file = read_json(kVectorDir / "schema.json");
  CHECK(count_cases(file, true) >= 10);
  CHECK(count_cases(file, false) >= 60);
  for (const auto& c : file.at("cases")) {
    auto doc = parse_lexicon(c.at("lexicon"));
    check_case(c, doc ? Status() : Status(doc.error()));
  }
}

TEST_CASE("record vectors [lex.validate.type]", "[lexicon][vectors]") {
  for (const char* name : {"record.json", "graphemes.json"}) {
    json file = read_json(kVectorDir / name);
    CHECK(count_cases(file, true) >= 10);
    CHECK(count_cases(file, false) >= 10);
    Catalog catalog = catalog_of(file);
    for (const auto& c : file.at("cases")) {
      auto value = data::from_json(c.at("record"));
      INFO(c.at("id").get<std::string>());
      REQUIRE(value.ok());
      check_case(c, validate_record(catalog, value.value()));
      // The record's CBOR as a view (data/cbor_view.hpp): the same result.
      auto bytes = data::encode_cbor(value.value());
      REQUIRE(bytes.ok());
      data::CborTape tape;
      REQUIRE(data::decode_cbor_view(bytes.value(), tape).ok());
      check_case(c, validate_record(catalog, tape.root()));
    }
  }
}

TEST_CASE("params vectors [lex.validate.params-syntax]", "[lexicon][vectors]") {
  json file = read_json(kVectorDir / "params.json");
  Catalog catalog = catalog_of(file);
  for (const auto& c : file.at("cases")) {
    auto r =
        validate_params(catalog, c.at("nsid").get<std::string>(), c.at("query").get<std::string>());
    check_case(c, r ? Status() : Status(r.error()));
  }
}

TEST_CASE("vector case ids are unique across the lexicon files", "[lexicon][vectors]") {
  std::set<std::string> ids;
  for (const char* name : {"schema.json", "record.json", "graphemes.json", "params.json"}) {
    json file = read_json(kVectorDir / name);
    for (const auto& c : file.at("cases")) {
      CHECK(ids.insert(c.at("id").get<std::string>()).second);
    }
  }
}
