// Unit tests for the atproto JSON mapping.
// Spec: https://atproto.com/specs/data-model#json-representation
#include "atproto/data/json.hpp"
#include "atproto/common/testing.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

using namespace atproto::data;
using nlohmann::json;

namespace {

using atproto::testing::code_of;

std::string code_of_text(const std::string& text) { return code_of(from_json(json::parse(text))); }

const char* kLinkText = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";
const char* kBlobText = "bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4";

}  // namespace

TEST_CASE("json: plain values", "[data][json]") {
  auto v = from_json(json::parse(R"({"a": null, "b": true, "c": -5, "d": "x", "e": [1, [2]],
                                     "f": {}, "g": 9223372036854775807})"));
  REQUIRE(v.ok());
  CHECK(*v == Value(Map{{"a", nullptr},
                        {"b", true},
                        {"c", -5},
                        {"d", "x"},
                        {"e", Array{1, Array{2}}},
                        {"f", Map{}},
                        {"g", std::numeric_limits<std::int64_t>::max()}}));
  CHECK(to_json(*v) == json::parse(R"({"a": null, "b": true, "c": -5, "d": "x", "e": [1, [2]],
                                       "f": {}, "g": 9223372036854775807})"));
}

// [data.json.link]
TEST_CASE("json: $link objects [data.json.link]", "[data][json]") {
  auto v =
      from_json(json::parse(std::string(R"({"exampleLink": {"$link": ")") + kLinkText + "\"}}"));
  REQUIRE(v.ok());
  const Value* link = v->find("exampleLink");
  REQUIRE(link != nullptr);
  REQUIRE(link->is_link());
  CHECK(link->as_link().to_string() == kLinkText);
  CHECK(to_json(*link) == json{{"$link", kLinkText}});
  CHECK(code_of_text(R"({"$link": 5})") == "data.json.link");
  CHECK(code_of_text(R"({"$link": null})") == "data.json.link");
  CHECK(code_of_text(std::string(R"({"$link": ")") + kLinkText + R"(", "x": 1})") ==
        "data.json.link");
  CHECK(code_of_text(R"({"$link": "bafy"})") == "data.cid.string");
  CHECK(code_of_text(R"({"$link": "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR"})") ==
        "data.cid.string");
}

// [data.json.bytes] [data.json.bytes-base64]
TEST_CASE("json: $bytes objects [data.json.bytes]", "[data][json]") {
  auto v = from_json(json::parse(
      R"({"exampleBytes": {"$bytes": "nFERjvLLiw9qm45JrqH9QTzyC2Lu1Xb4ne6+sBrCzI0"}})"));
  REQUIRE(v.ok());
  const Value* bytes = v->find("exampleBytes");
  REQUIRE(bytes != nullptr);
  REQUIRE(bytes->is_bytes());
  CHECK(bytes->as_bytes().size() == 32);
  CHECK(to_json(*v) ==
        json::parse(
            R"({"exampleBytes": {"$bytes": "nFERjvLLiw9qm45JrqH9QTzyC2Lu1Xb4ne6+sBrCzI0"}})"));
  CHECK(to_json(Value(Bytes{'f'})) == json{{"$bytes", "Zg"}});
  auto padded = from_json(json::parse(R"({"$bytes": "Zg=="})"));
  REQUIRE(padded.ok());
  CHECK(*padded == Value(Bytes{'f'}));
  CHECK(code_of_text(R"({"$bytes": true})") == "data.json.bytes");
  CHECK(code_of_text(R"({"$bytes": "Zg", "x": 1})") == "data.json.bytes");
  CHECK(code_of_text(R"({"$bytes": "Zg", "$link": "x"})") == "data.json.link");
  CHECK(code_of_text(R"({"$bytes": "Z-8"})") == "data.json.bytes-base64");
}

// [data.model.no-floats] [data.model.int64]
TEST_CASE("json: numbers are integers [data.model.no-floats]", "[data][json]") {
  auto whole = from_json(json::parse("123.0"));
  REQUIRE(whole.ok());
  CHECK(*whole == Value(123));
  auto neg = from_json(json::parse("-4e2"));
  REQUIRE(neg.ok());
  CHECK(*neg == Value(-400));
  CHECK(code_of_text("1.5") == "data.model.no-floats");
  CHECK(code_of_text("[0.1]") == "data.model.no-floats");
  CHECK(code_of_text("-1e-3") == "data.model.no-floats");
  CHECK(code_of(from_json(json(std::nan("")))) == "data.model.no-floats");
  CHECK(code_of(from_json(json(HUGE_VAL))) == "data.model.no-floats");
  CHECK(code_of_text("9223372036854775808") == "data.model.int64");
  CHECK(code_of_text("18446744073709551615") == "data.model.int64");
  CHECK(code_of_text("1e19") == "data.model.int64");
  CHECK(code_of_text("-1e19") == "data.model.int64");
  CHECK(code_of_text("1e300") == "data.model.int64");
  CHECK(code_of_text("-9223372036854775808") == "<ok>");
}

// [data.model.type-field] [data.blob.shape] [data.blob.ref-raw]
TEST_CASE("json: $type and blobs are checked", "[data][json]") {
  std::string blob = std::string(R"({"$type": "blob", "ref": {"$link": ")") + kBlobText +
                     R"("}, "mimeType": "image/png", "size": 10})";
  auto v = from_json(json::parse(blob));
  REQUIRE(v.ok());
  CHECK(v->find("ref")->is_link());
  CHECK(to_json(*v) == json::parse(blob));
  CHECK(code_of_text(R"({"$type": ""})") == "data.model.type-field");
  // [data.model.ignore-unknown-dollar] Unknown '$' fields are kept, not refused.
  auto unknown = from_json(json::parse(R"({"$future": {"x": 1}, "a": 2})"));
  REQUIRE(unknown.ok());
  CHECK(unknown->find("$future") != nullptr);
  CHECK(code_of_text(R"({"a": [{"$type": 1}]})") == "data.model.type-field");
  CHECK(code_of_text(R"({"$type": "blob", "ref": "x", "mimeType": "a/b", "size": 1})") ==
        "data.blob.shape");
  CHECK(code_of_text(std::string(R"({"$type": "blob", "ref": {"$link": ")") + kLinkText +
                     R"("}, "mimeType": "image/png", "size": 10})") == "data.blob.ref-raw");
  CHECK(code_of_text(std::string(R"({"$type": "blob", "ref": {"$link": ")") + kBlobText +
                     R"("}, "mimeType": "image/png", "size": 10.5})") == "data.model.no-floats");
}

// [data.model.record-object]
TEST_CASE("json: records are objects [data.model.record-object]", "[data][json]") {
  CHECK(code_of(record_from_json(json::parse(R"({"$type": "app.x.y", "a": 1})"))) == "<ok>");
  CHECK(code_of(record_from_json(json::parse("[]"))) == "data.model.record-object");
  CHECK(code_of(record_from_json(json::parse("\"x\""))) == "data.model.record-object");
  CHECK(code_of(record_from_json(json::parse("null"))) == "data.model.record-object");
  CHECK(code_of(record_from_json(json::parse(R"({"$type": ""})"))) == "data.model.type-field");
  // A top-level $link object is a link, not a record.
  CHECK(code_of(record_from_json(json{{"$link", kLinkText}})) == "data.model.record-object");
}

// [data.model.utf8] [data.json.value] [data.limits.depth]
TEST_CASE("json: strings, kinds and depth", "[data][json]") {
  CHECK(code_of(from_json(json(std::string("\xff")))) == "data.model.utf8");
  CHECK(code_of(from_json(json{{std::string("\xc3"), 1}})) == "data.model.utf8");
  CHECK(code_of(from_json(json::binary({1, 2}))) == "data.json.value");
  std::string deep = std::string(128, '[') + std::string(128, ']');
  CHECK(code_of_text(deep) == "<ok>");
  std::string too_deep = std::string(129, '[') + std::string(129, ']');
  CHECK(code_of_text(too_deep) == "data.limits.depth");
  std::string objects;
  for (int i = 0; i < 129; ++i) objects += "{\"a\":";
  objects += "1" + std::string(129, '}');
  CHECK(code_of_text(objects) == "data.limits.depth");
  JsonLimits shallow;
  shallow.max_depth = 1;
  CHECK(code_of(from_json(json::parse("[[1]]"), shallow)) == "data.limits.depth");
}
