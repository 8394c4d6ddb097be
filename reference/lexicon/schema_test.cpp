// Unit tests for Lexicon document parsing and schema checks.
// Spec: https://atproto.com/specs/lexicon
#include "atproto/lexicon/schema.hpp"

#include <catch2/catch.hpp>

#include <string>

#include "atproto/common/testing.hpp"

using namespace atproto::lexicon;
using nlohmann::json;

namespace {

// A document with one def `main` (or `name`) holding `def`.
json doc_with(json def, const std::string& name = "main") {
  return json{{"lexicon", 1}, {"id", "com.example.test"}, {"defs", {{name, std::move(def)}}}};
}

// A record def whose object has one property `field`.
json record_with(json field) {
  return json{{"type", "record"},
              {"key", "tid"},
              {"record", {{"type", "object"}, {"properties", {{"field", std::move(field)}}}}}};
}

std::string code_of(const json& document) {
  return atproto::testing::code_of(parse_lexicon(document));
}

std::string message_of(const json& document) {
  auto r = parse_lexicon(document);
  return r.ok() ? std::string("<ok>") : r.error().message;
}

}  // namespace

TEST_CASE("a minimal record document parses", "[lexicon][schema]") {
  auto r = parse_lexicon(doc_with(record_with({{"type", "string"}, {"maxLength", 10}})));
  REQUIRE(r.ok());
  CHECK(r->id == "com.example.test");
  auto main = r->def("main");
  REQUIRE(main);
  CHECK(main->type == Type::kRecord);
  CHECK(main->key == "tid");
  REQUIRE(main->record);
  const TypeDef* field = main->record->property("field");
  REQUIRE(field);
  CHECK(field->type == Type::kString);
  CHECK(field->max_length == 10);
}

TEST_CASE("document top-level fields [lex.schema.version] [lex.schema.id] [lex.schema.defs]",
          "[lexicon][schema]") {
  json good = doc_with({{"type", "token"}});
  CHECK(code_of(good) == "<ok>");
  json v = good;
  v["lexicon"] = 2;
  CHECK(code_of(v) == "lex.schema.version");
  v.erase("lexicon");
  CHECK(code_of(v) == "lex.schema.version");
  json id = good;
  id["id"] = "not an nsid";
  CHECK(code_of(id) == "lex.schema.id");
  id["id"] = 5;
  CHECK(code_of(id) == "lex.schema.id");
  json defs = good;
  defs["defs"] = json::object();
  CHECK(code_of(defs) == "lex.schema.defs");
  defs["defs"] = json::array();
  CHECK(code_of(defs) == "lex.schema.defs");
  CHECK(code_of(json::array()) == "lex.schema.document");
  CHECK(parse_lexicon_text("{").error().code == "lex.schema.document");
}

TEST_CASE("type names [lex.schema.type-known]", "[lexicon][schema]") {
  CHECK(code_of(doc_with({{"type", "float"}})) == "lex.schema.type-known");
  CHECK(code_of(doc_with({{"description", "no type"}})) == "lex.schema.type-known");
  for (auto name : {"null", "boolean", "integer", "string", "bytes", "cid-link", "blob", "token"}) {
    CHECK(code_of(doc_with({{"type", name}}, "thing")) == "<ok>");
  }
  CHECK(type_from_name("permission-set") == Type::kPermissionSet);
  CHECK(type_name(Type::kCidLink) == "cid-link");
  CHECK(!type_from_name("Record"));
}

TEST_CASE("primary types are only main [lex.schema.primary-main]", "[lexicon][schema]") {
  json rec = record_with({{"type", "string"}});
  CHECK(code_of(doc_with(rec, "main")) == "<ok>");
  CHECK(code_of(doc_with(rec, "other")) == "lex.schema.primary-main");
  CHECK(code_of(doc_with({{"type", "query"}}, "q")) == "lex.schema.primary-main");
  // A non-primary type may be named main.
  CHECK(code_of(doc_with({{"type", "object"}, {"properties", json::object()}}, "main")) == "<ok>");
}

TEST_CASE("types that can not be named defs [lex.schema.def-type]", "[lexicon][schema]") {
  CHECK(code_of(doc_with({{"type", "ref"}, {"ref", "#x"}}, "x")) == "lex.schema.def-type");
  CHECK(code_of(doc_with({{"type", "union"}, {"refs", json::array()}}, "u")) ==
        "lex.schema.def-type");
  CHECK(code_of(doc_with({{"type", "unknown"}}, "u")) == "lex.schema.def-type");
  CHECK(code_of(doc_with({{"type", "params"}, {"properties", json::object()}}, "p")) ==
        "lex.schema.def-type");
}

TEST_CASE("def names [lex.schema.def-name]", "[lexicon][schema]") {
  CHECK(code_of(doc_with({{"type", "token"}}, "has#hash")) == "lex.schema.def-name");
  CHECK(code_of(doc_with({{"type", "token"}}, "")) == "lex.schema.def-name");
  CHECK(code_of(doc_with({{"type", "token"}}, "9lives")) == "lex.schema.def-name");
  CHECK(code_of(doc_with({{"type", "token"}}, "with-hyphen")) == "<ok>");
}

TEST_CASE("field types [lex.schema.field-type]", "[lexicon][schema]") {
  CHECK(code_of(doc_with(record_with({{"type", "token"}}))) == "lex.schema.field-type");
  CHECK(code_of(doc_with(record_with({{"type", "query"}}))) == "lex.schema.field-type");
  CHECK(code_of(doc_with(record_with({{"type", "params"}, {"properties", json::object()}}))) ==
        "lex.schema.field-type");
  CHECK(code_of(doc_with(record_with({{"type", "array"}, {"items", {{"type", "token"}}}}))) ==
        "lex.schema.field-type");
  CHECK(code_of(doc_with(record_with({{"type", "unknown"}}))) == "<ok>");
}

TEST_CASE("error messages carry the JSON path [lex.schema.field]", "[lexicon][schema]") {
  json d = doc_with(record_with({{"type", "string"}, {"maxLength", "ten"}}));
  CHECK(code_of(d) == "lex.schema.field");
  CHECK(message_of(d).rfind("defs.main.record.properties.field.maxLength: ", 0) == 0);
  json arr = doc_with(record_with({{"type", "array"}, {"items", {{"type", "nope"}}}}));
  CHECK(message_of(arr).rfind("defs.main.record.properties.field.items.type: ", 0) == 0);
}

TEST_CASE("const and default exclude each other [lex.schema.const-default]", "[lexicon][schema]") {
  CHECK(code_of(doc_with(record_with({{"type", "string"}, {"const", "a"}, {"default", "a"}}))) ==
        "lex.schema.const-default");
  CHECK(code_of(doc_with(record_with({{"type", "integer"}, {"const", 1}, {"default", 2}}))) ==
        "lex.schema.const-default");
  CHECK(code_of(doc_with(record_with({{"type", "boolean"}, {"const", true}, {"default", true}}))) ==
        "lex.schema.const-default");
  CHECK(code_of(doc_with(record_with({{"type", "boolean"}, {"default", "yes"}}))) ==
        "lex.schema.field");
}

TEST_CASE("length ranges [lex.schema.length-range]", "[lexicon][schema]") {
  CHECK(code_of(doc_with(record_with({{"type", "string"}, {"minLength", 5}, {"maxLength", 4}}))) ==
        "lex.schema.length-range");
  CHECK(code_of(doc_with(record_with({{"type", "string"}, {"maxGraphemes", -1}}))) ==
        "lex.schema.length-range");
  CHECK(code_of(doc_with(record_with({{"type", "integer"}, {"minimum", 3}, {"maximum", 2}}))) ==
        "lex.schema.length-range");
  CHECK(code_of(doc_with(record_with({{"type", "blob"}, {"maxSize", -5}}))) ==
        "lex.schema.length-range");
  CHECK(code_of(doc_with(record_with({{"type", "string"}, {"minLength", 4}, {"maxLength", 4}}))) ==
        "<ok>");
}

TEST_CASE("string formats [lex.schema.string-format]", "[lexicon][schema]") {
  CHECK(code_of(doc_with(record_with({{"type", "string"}, {"format", "email"}}))) ==
        "lex.schema.string-format");
  CHECK(code_of(doc_with(record_with({{"type", "string"}, {"format", "at-uri"}}))) == "<ok>");
}

TEST_CASE("blob accept patterns [lex.schema.blob-accept]", "[lexicon][schema]") {
  auto blob = [](json accept) {
    return doc_with(record_with({{"type", "blob"}, {"accept", std::move(accept)}}));
  };
  CHECK(code_of(blob({"image/*", "video/mp4", "*/*"})) == "<ok>");
  CHECK(code_of(blob({"*"})) == "lex.schema.blob-accept");
  CHECK(code_of(blob({"text/ht*"})) == "lex.schema.blob-accept");
  CHECK(code_of(blob({"*/html"})) == "lex.schema.blob-accept");
  CHECK(code_of(blob({"image"})) == "lex.schema.blob-accept");
}

TEST_CASE("object required names properties [lex.schema.object-required]", "[lexicon][schema]") {
  json rec = record_with({{"type", "string"}});
  rec["record"]["required"] = {"field"};
  CHECK(code_of(doc_with(rec)) == "<ok>");
  rec["record"]["required"] = {"missing"};
  CHECK(code_of(doc_with(rec)) == "lex.schema.object-required");
  rec["record"]["required"] = json::array();
  rec["record"]["nullable"] = {"other"};
  CHECK(code_of(doc_with(rec)) == "lex.schema.object-required");
}

TEST_CASE("params properties [lex.schema.params-property] [lex.schema.parameters]",
          "[lexicon][schema]") {
  auto query = [](json props) {
    return doc_with({{"type", "query"},
                     {"parameters", {{"type", "params"}, {"properties", std::move(props)}}}});
  };
  CHECK(code_of(query({{"limit", {{"type", "integer"}}},
                       {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}}})) == "<ok>");
  CHECK(code_of(query({{"o", {{"type", "object"}, {"properties", json::object()}}}})) ==
        "lex.schema.params-property");
  CHECK(code_of(query({{"u", {{"type", "unknown"}}}})) == "lex.schema.params-property");
  CHECK(code_of(query({{"a", {{"type", "array"}, {"items", {{"type", "bytes"}}}}}})) ==
        "lex.schema.params-property");
  CHECK(code_of(doc_with({{"type", "query"},
                          {"parameters", {{"type", "object"}, {"properties", json::object()}}}})) ==
        "lex.schema.parameters");
}

TEST_CASE("refs and unions [lex.schema.ref-syntax] [lex.schema.union-closed-empty]",
          "[lexicon][schema]") {
  CHECK(code_of(doc_with(record_with({{"type", "ref"}, {"ref", "#other"}}))) == "<ok>");
  CHECK(code_of(doc_with(record_with({{"type", "ref"}, {"ref", "com.example.x#y"}}))) == "<ok>");
  CHECK(code_of(doc_with(record_with({{"type", "ref"}, {"ref", "not an nsid"}}))) ==
        "lex.schema.ref-syntax");
  CHECK(code_of(doc_with(record_with({{"type", "ref"}, {"ref", "#"}}))) == "lex.schema.ref-syntax");
  CHECK(code_of(doc_with(record_with({{"type", "union"}, {"refs", json::array()}}))) == "<ok>");
  CHECK(code_of(doc_with(
            record_with({{"type", "union"}, {"refs", json::array()}, {"closed", true}}))) ==
        "lex.schema.union-closed-empty");
  CHECK(qualify_ref("#a", "com.example.b").value() == "com.example.b#a");
  CHECK(qualify_ref("com.example.c", "com.example.b").value() == "com.example.c#main");
}

TEST_CASE("record defs [lex.schema.record-key] [lex.schema.record-object]", "[lexicon][schema]") {
  json rec = record_with({{"type", "string"}});
  for (auto key : {"tid", "nsid", "any", "literal:self"}) {
    rec["key"] = key;
    CHECK(code_of(doc_with(rec)) == "<ok>");
  }
  for (auto key : {"uuid", "literal:", "literal:a/b", ""}) {
    rec["key"] = key;
    CHECK(code_of(doc_with(rec)) == "lex.schema.record-key");
  }
  rec.erase("key");
  CHECK(code_of(doc_with(rec)) == "lex.schema.record-key");
  json not_object = {{"type", "record"}, {"key", "tid"}, {"record", {{"type", "string"}}}};
  CHECK(code_of(doc_with(not_object)) == "lex.schema.record-object");
}

TEST_CASE(
    "XRPC bodies [lex.schema.body-encoding] [lex.schema.body-schema] "
    "[lex.schema.procedure-input] [lex.schema.error-name]",
    "[lexicon][schema]") {
  json proc = {{"type", "procedure"},
               {"input",
                {{"encoding", "application/json"},
                 {"schema", {{"type", "object"}, {"properties", json::object()}}}}},
               {"output", {{"encoding", "application/json"}}},
               {"errors", {{{"name", "NotFound"}}}}};
  CHECK(code_of(doc_with(proc)) == "<ok>");
  json no_encoding = proc;
  no_encoding["input"].erase("encoding");
  CHECK(code_of(doc_with(no_encoding)) == "lex.schema.body-encoding");
  json string_schema = proc;
  string_schema["output"]["schema"] = {{"type", "string"}};
  CHECK(code_of(doc_with(string_schema)) == "lex.schema.body-schema");
  json query = proc;
  query["type"] = "query";
  CHECK(code_of(doc_with(query)) == "lex.schema.procedure-input");
  json bad_error = proc;
  bad_error["errors"][0]["name"] = "Not Found";
  CHECK(code_of(doc_with(bad_error)) == "lex.schema.error-name");
}

TEST_CASE("subscriptions [lex.schema.subscription-message]", "[lexicon][schema]") {
  json sub = {{"type", "subscription"},
              {"message", {{"schema", {{"type", "union"}, {"refs", {"#commit"}}}}}}};
  CHECK(code_of(doc_with(sub)) == "<ok>");
  json obj = sub;
  obj["message"]["schema"] = {{"type", "object"}, {"properties", json::object()}};
  CHECK(code_of(doc_with(obj)) == "lex.schema.subscription-message");
  json none = sub;
  none.erase("message");
  CHECK(code_of(doc_with(none)) == "lex.schema.subscription-message");
}

TEST_CASE("permission sets [lex.schema.permission] [lex.schema.permission-lang]",
          "[lexicon][schema]") {
  json set = {{"type", "permission-set"},
              {"title", "Example"},
              {"title:lang", {{"de", "Beispiel"}}},
              {"permissions",
               {{{"type", "permission"},
                 {"resource", "repo"},
                 {"collection", {"com.example.post"}},
                 {"action", {"create", "delete"}}},
                {{"type", "permission"},
                 {"resource", "rpc"},
                 {"lxm", {"com.example.getThing"}},
                 {"inheritAud", true}},
                {{"type", "permission"}, {"resource", "blob"}, {"accept", {"*/*"}}}}}};
  CHECK(code_of(doc_with(set)) == "<ok>");
  json v = set;
  v["permissions"][0]["collection"] = json::array();
  CHECK(code_of(doc_with(v)) == "lex.schema.permission");
  v = set;
  v["permissions"][0]["collection"] = {"com.example.*"};
  CHECK(code_of(doc_with(v)) == "lex.schema.permission");
  v = set;
  v["permissions"][0]["action"] = {"create", "create"};
  CHECK(code_of(doc_with(v)) == "lex.schema.permission");
  v = set;
  v["permissions"][0]["action"] = {"read"};
  CHECK(code_of(doc_with(v)) == "lex.schema.permission");
  v = set;
  v["permissions"][1].erase("inheritAud");
  CHECK(code_of(doc_with(v)) == "lex.schema.permission");
  v["permissions"][1]["aud"] = "*";
  CHECK(code_of(doc_with(v)) == "<ok>");
  v["permissions"][1]["aud"] = "did:web:api.example.com#svc";
  CHECK(code_of(doc_with(v)) == "lex.schema.permission");
  v = set;
  v["title:lang"] = {{"not a language!", "x"}};
  CHECK(code_of(doc_with(v)) == "lex.schema.permission-lang");
}

TEST_CASE("schema nesting is bounded [data.limits.depth]", "[lexicon][schema]") {
  json field = {{"type", "string"}};
  for (int i = 0; i < 100; ++i) field = {{"type", "array"}, {"items", field}};
  CHECK(code_of(doc_with(record_with(field))) == "data.limits.depth");
  json shallow = {{"type", "string"}};
  for (int i = 0; i < 20; ++i) shallow = {{"type", "array"}, {"items", shallow}};
  CHECK(code_of(doc_with(record_with(shallow))) == "<ok>");
}
