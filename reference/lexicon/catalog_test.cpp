// Unit tests for the Lexicon catalog: loading documents and resolving refs.
// Spec: https://atproto.com/specs/lexicon#ref and #union
#include "atproto/lexicon/catalog.hpp"

#include <catch2/catch.hpp>

using namespace atproto::lexicon;
using nlohmann::json;

namespace {

json defs_doc() {
  return json{{"lexicon", 1},
              {"id", "com.example.defs"},
              {"defs",
               {{"view", {{"type", "object"}, {"properties", {{"a", {{"type", "string"}}}}}}},
                {"label", {{"type", "string"}, {"maxLength", 5}}},
                {"flag", {{"type", "token"}}}}}};
}

json user_doc(json field) {
  return json{{"lexicon", 1},
              {"id", "com.example.user"},
              {"defs",
               {{"main",
                 {{"type", "record"},
                  {"key", "tid"},
                  {"record", {{"type", "object"}, {"properties", {{"f", std::move(field)}}}}}}},
                {"local", {{"type", "object"}, {"properties", json::object()}}}}}};
}

}  // namespace

TEST_CASE("refs resolve across documents in any load order [lex.schema.ref-resolves]",
          "[lexicon][catalog]") {
  json ref = {{"type", "ref"}, {"ref", "com.example.defs#view"}};
  Catalog c;
  REQUIRE(c.add_json(user_doc(ref)).ok());
  CHECK(c.check_references().error().code == "lex.schema.ref-resolves");
  REQUIRE(c.add_json(defs_doc()).ok());
  CHECK(c.check_references().ok());
  const TypeDef* rec = c.def("com.example.user#main");
  REQUIRE(rec);
  const TypeDef* f = rec->record->property("f");
  REQUIRE(f);
  CHECK(c.ref_target(*f) == c.def("com.example.defs#view"));
  CHECK(c.find("#local", "com.example.user") == c.def("com.example.user#local"));
  CHECK(c.find("com.example.user", "") == rec);
  CHECK(c.size() == 2);
}

TEST_CASE("a second document with the same id is refused [lex.catalog.duplicate-id]",
          "[lexicon][catalog]") {
  Catalog c;
  REQUIRE(c.add_json(defs_doc()).ok());
  CHECK(c.add_json(defs_doc()).error().code == "lex.catalog.duplicate-id");
}

TEST_CASE("refs may not point at tokens [lex.schema.ref-target]", "[lexicon][catalog]") {
  Catalog c;
  REQUIRE(c.add_json(defs_doc()).ok());
  REQUIRE(c.add_json(user_doc({{"type", "ref"}, {"ref", "com.example.defs#flag"}})).ok());
  auto s = c.check_references();
  REQUIRE(!s.ok());
  CHECK(s.error().code == "lex.schema.ref-target");
  CHECK(s.error().message.rfind("com.example.user#defs.main.record.properties.f: ", 0) == 0);
}

TEST_CASE("union variants are objects or records [lex.schema.union-variant]",
          "[lexicon][catalog]") {
  Catalog c;
  REQUIRE(c.add_json(defs_doc()).ok());
  REQUIRE(c.add_json(user_doc({{"type", "union"},
                               {"refs", {"com.example.defs#view", "com.example.defs#label"}}}))
              .ok());
  CHECK(c.check_references().error().code == "lex.schema.union-variant");
}

TEST_CASE("union variants carry their $type names", "[lexicon][catalog]") {
  Catalog c;
  REQUIRE(c.add_json(defs_doc()).ok());
  REQUIRE(c.add_json(user_doc({{"type", "union"},
                               {"refs", {"com.example.defs#view", "#local", "com.example.user"}}}))
              .ok());
  const TypeDef* f = c.def("com.example.user#main")->record->property("f");
  const auto& variants = c.union_variants(*f);
  REQUIRE(variants.size() == 3);
  CHECK(variants[0].type == "com.example.defs#view");
  CHECK(variants[1].type == "com.example.user#local");
  CHECK(variants[2].type == "com.example.user");  // main: no #main suffix
  CHECK(variants[2].def == c.def("com.example.user#main"));
  CHECK(c.check_references().ok());
}
