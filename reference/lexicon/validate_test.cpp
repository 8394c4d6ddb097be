// Unit tests for validating data against Lexicon defs.
// Spec: https://atproto.com/specs/lexicon
#include "atproto/lexicon/validate.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <string>

#include "atproto/common/testing.hpp"
#include "atproto/data/json.hpp"

using namespace atproto::lexicon;
using atproto::data::Value;
using nlohmann::json;

namespace {

json example_doc() {
  return json::parse(R"({
    "lexicon": 1,
    "id": "com.example.thing",
    "defs": {
      "main": {
        "type": "record",
        "key": "tid",
        "record": {
          "type": "object",
          "required": ["text", "count"],
          "nullable": ["maybe"],
          "properties": {
            "text": {"type": "string", "maxLength": 20, "maxGraphemes": 5, "minLength": 1},
            "count": {"type": "integer", "minimum": 0, "maximum": 10},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "fixed": {"type": "integer", "const": 7},
            "flag": {"type": "boolean", "default": false},
            "maybe": {"type": "string"},
            "when": {"type": "string", "format": "datetime"},
            "raw": {"type": "bytes", "maxLength": 3},
            "link": {"type": "cid-link"},
            "ref": {"type": "string", "format": "cid"},
            "site": {"type": "string", "format": "uri"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "maxLength": 2},
            "image": {"type": "blob", "accept": ["image/*"], "maxSize": 1000},
            "extra": {"type": "unknown"},
            "sub": {"type": "ref", "ref": "#sub"},
            "pick": {"type": "union", "refs": ["#sub", "com.example.other"]},
            "closedPick": {"type": "union", "refs": ["#sub"], "closed": true}
          }
        }
      },
      "sub": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}
    }
  })");
}

json other_doc() {
  return json::parse(R"({
    "lexicon": 1, "id": "com.example.other",
    "defs": {"main": {"type": "record", "key": "literal:self",
      "record": {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}}}
  })");
}

json xrpc_doc() {
  return json::parse(R"({
    "lexicon": 1, "id": "com.example.getThings",
    "defs": {"main": {"type": "query",
      "parameters": {"type": "params", "required": ["actor"], "properties": {
        "actor": {"type": "string", "format": "at-identifier"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
        "reverse": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxLength": 2}}},
      "output": {"encoding": "application/json",
        "schema": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}}}}
  })");
}

json sub_doc() {
  return json::parse(R"({
    "lexicon": 1, "id": "com.example.subscribe",
    "defs": {
      "main": {"type": "subscription", "message": {"schema": {"type": "union", "refs": ["#commit"]}}},
      "commit": {"type": "object", "required": ["seq"], "properties": {"seq": {"type": "integer"}}}}
  })");
}

const Catalog& catalog() {
  static const Catalog c = [] {
    Catalog out;
    for (const json& d : {example_doc(), other_doc(), xrpc_doc(), sub_doc()}) {
      auto s = out.add_json(d);
      if (!s) throw std::runtime_error(s.error().message);
    }
    return out;
  }();
  return c;
}

Value value_of(const std::string& text) {
  auto v = atproto::data::from_json(json::parse(text));
  REQUIRE(v.ok());
  return v.value();
}

// A valid record with `patch` merged in (a null in the patch deletes).
Value record(const json& patch = json::object()) {
  json base = {{"$type", "com.example.thing"}, {"text", "hello"}, {"count", 3}};
  base.merge_patch(patch);
  auto v = atproto::data::from_json(base);
  REQUIRE(v.ok());
  return v.value();
}

using atproto::testing::code_of;

std::string check(const json& patch) { return code_of(validate_record(catalog(), record(patch))); }

}  // namespace

TEST_CASE("the example catalog is consistent", "[lexicon][validate]") {
  CHECK(catalog().check_references().ok());
}

TEST_CASE("a valid record passes", "[lexicon][validate]") {
  CHECK(check(json::object()) == "<ok>");
  CHECK(validate_record(catalog(), "com.example.thing", record(), "3jzfcijpj2z2a").ok());
}

TEST_CASE(
    "record $type and key [lex.validate.record-type] [lex.validate.record-key] "
    "[lex.validate.type-main-suffix] [lex.validate.def-kind] [lex.validate.ref-missing]",
    "[lexicon][validate]") {
  CHECK(code_of(validate_record(catalog(), "com.example.thing",
                                record({{"$type", "com.example.other"}}))) ==
        "lex.validate.record-type");
  CHECK(code_of(validate_record(catalog(), "com.example.thing", record(), "not-a-tid")) ==
        "rkey.type.tid");
  Value no_type = value_of(R"({"text": "hi", "count": 1})");
  CHECK(code_of(validate_record(catalog(), no_type)) == "lex.validate.record-type");
  CHECK(code_of(validate_record(catalog(), "com.example.thing", no_type)) ==
        "lex.validate.record-type");
  CHECK(check({{"$type", "com.example.thing#main"}}) == "lex.validate.type-main-suffix");
  CHECK(code_of(validate_record(catalog(), "com.example.getThings", record())) ==
        "lex.validate.def-kind");
  CHECK(code_of(validate_record(catalog(), "com.example.nothing", record())) ==
        "lex.validate.ref-missing");
}

TEST_CASE("required and nullable [lex.validate.required] [lex.validate.nullable]",
          "[lexicon][validate]") {
  CHECK(check({{"text", nullptr}}) == "lex.validate.required");
  CHECK(check({{"maybe", "x"}}) == "<ok>");
  json with_null = {
      {"$type", "com.example.thing"}, {"text", "a"}, {"count", 1}, {"maybe", nullptr}};
  CHECK(code_of(validate_record(catalog(), value_of(with_null.dump()))) == "<ok>");
  with_null["mode"] = nullptr;
  auto s = validate_record(catalog(), value_of(with_null.dump()));
  CHECK(code_of(s) == "lex.validate.nullable");
  CHECK(s.error().message.rfind("$.mode: ", 0) == 0);
}

TEST_CASE("data kinds [lex.validate.type]", "[lexicon][validate]") {
  CHECK(check({{"count", "3"}}) == "lex.validate.type");
  CHECK(check({{"text", 5}}) == "lex.validate.type");
  CHECK(check({{"flag", 1}}) == "lex.validate.type");
  CHECK(check({{"raw", "AAA"}}) == "lex.validate.type");
  CHECK(check({{"link", "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"}}) ==
        "lex.validate.type");
  CHECK(check({{"link",
                {{"$link", "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"}}}}) ==
        "<ok>");
  CHECK(check({{"tags", "a"}}) == "lex.validate.type");
  CHECK(check({{"sub", {1}}}) == "lex.validate.type");
}

TEST_CASE(
    "integer constraints [lex.validate.integer-range] [lex.validate.const] [lex.validate.enum]",
    "[lexicon][validate]") {
  CHECK(check({{"count", 10}}) == "<ok>");
  CHECK(check({{"count", 11}}) == "lex.validate.integer-range");
  CHECK(check({{"count", -1}}) == "lex.validate.integer-range");
  CHECK(check({{"fixed", 7}}) == "<ok>");
  CHECK(check({{"fixed", 8}}) == "lex.validate.const");
  CHECK(check({{"mode", "b"}}) == "<ok>");
  CHECK(check({{"mode", "c"}}) == "lex.validate.enum");
}

TEST_CASE(
    "string lengths in bytes and graphemes [lex.validate.string-length] "
    "[lex.validate.string-graphemes]",
    "[lexicon][validate]") {
  CHECK(check({{"text", ""}}) == "lex.validate.string-length");
  CHECK(check({{"text", "abcde"}}) == "<ok>");
  CHECK(check({{"text", "abcdef"}}) == "lex.validate.string-graphemes");
  // Five flags: 5 graphemes, 40 bytes (> maxLength 20).
  CHECK(check({{"text",
                "\U0001F1EB\U0001F1F7\U0001F1EB\U0001F1F7\U0001F1EB\U0001F1F7"
                "\U0001F1EB\U0001F1F7\U0001F1EB\U0001F1F7"}}) == "lex.validate.string-length");
  // e + combining acute, five times: 5 graphemes, 15 bytes.
  CHECK(check({{"text", "e\u0301e\u0301e\u0301e\u0301e\u0301"}}) == "<ok>");
  CHECK(check({{"text", "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301"}}) ==
        "lex.validate.string-graphemes");
}

TEST_CASE("grapheme counting follows extended grapheme clusters", "[lexicon][validate]") {
  CHECK(count_graphemes("") == 0);
  CHECK(count_graphemes("abc") == 3);
  CHECK(count_graphemes("a\r\nb") == 3);
  CHECK(count_graphemes("e\u0301") == 1);
  CHECK(count_graphemes("\U0001F1FA\U0001F1F8\U0001F1EB\U0001F1F7") == 2);  // two flags
  // family: man ZWJ woman ZWJ girl ZWJ boy
  CHECK(count_graphemes("\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466") == 1);
  CHECK(count_graphemes("\U0001F44D\U0001F3FD") == 1);  // thumbs up + skin tone
  CHECK(count_graphemes("\u1100\u1161\u11A8") == 1);    // Hangul jamo L V T
  CHECK(count_graphemes("\xea\xb0\x80") == 1);          // Hangul syllable
}

TEST_CASE("string formats [lex.validate.string-format]", "[lexicon][validate]") {
  CHECK(check({{"when", "2024-01-01T00:00:00Z"}}) == "<ok>");
  CHECK(check({{"when", "2024-01-01"}}) == "lex.validate.string-format");
}

TEST_CASE("a CID as a plain string: format cid, or an ipld:// URI [data.cid.string-field]",
          "[lexicon][validate]") {
  const std::string cid = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";
  CHECK(check({{"ref", cid}}) == "<ok>");
  // A string in the data model, not a link: a $link object is another kind.
  CHECK(record({{"ref", cid}}).as_map().at("ref").is_string());
  CHECK(check({{"ref", {{"$link", cid}}}}) == "lex.validate.type");
  // The string is a CID in the blessed text form: not CIDv0, not another
  // base, not a hash other than SHA-256.
  CHECK(check({{"ref", "QmY7Yh4UquoXHLPFo2XbhXkhBvFoPwmQUSa92pxnxjQuPU"}}) ==
        "lex.validate.string-format");
  std::string upper = cid;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(check({{"ref", upper}}) == "lex.validate.string-format");
  CHECK(check({{"ref", "zdpuAyvkgEDQm9TenwGkd5eNaosSxjgEYd8QatfPetgB1CdEZ"}}) ==
        "lex.validate.string-format");
  CHECK(check({{"ref", "bafkr4ihkr4ld3m4gqkjf4reryxsy2s5tkbxprqkow6fin2iiyvreuzzab4"}}) ==
        "lex.validate.string-format");
  // In a uri string, under the ipld scheme.
  CHECK(check({{"site", "ipld://" + cid}}) == "<ok>");
}

TEST_CASE("bytes and arrays [lex.validate.bytes-length] [lex.validate.array-length]",
          "[lexicon][validate]") {
  CHECK(check({{"raw", {{"$bytes", "AAEC"}}}}) == "<ok>");
  CHECK(check({{"raw", {{"$bytes", "AAECAw"}}}}) == "lex.validate.bytes-length");
  CHECK(check({{"tags", {"a", "b"}}}) == "<ok>");
  CHECK(check({{"tags", {"a", "b", "c"}}}) == "lex.validate.array-length");
  auto s = validate_record(catalog(), record({{"tags", {"a", "long"}}}));
  CHECK(code_of(s) == "lex.validate.string-length");
  CHECK(s.error().message.rfind("$.tags[1]: ", 0) == 0);
}

TEST_CASE("blobs [lex.validate.blob-accept] [lex.validate.blob-size]", "[lexicon][validate]") {
  json blob = {{"$type", "blob"},
               {"ref", {{"$link", "bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4"}}},
               {"mimeType", "image/png"},
               {"size", 1000}};
  CHECK(check({{"image", blob}}) == "<ok>");
  json big = blob;
  big["size"] = 1001;
  CHECK(check({{"image", big}}) == "lex.validate.blob-size");
  json text = blob;
  text["mimeType"] = "text/plain";
  CHECK(check({{"image", text}}) == "lex.validate.blob-accept");
  json legacy = {{"cid", "bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4"},
                 {"mimeType", "image/jpeg"}};
  CHECK(check({{"image", legacy}}) == "<ok>");
  CHECK(check({{"image", {{"mimeType", "image/png"}}}}) != "<ok>");
  CHECK(mime_type_matches("*/*", "a/b"));
  CHECK(mime_type_matches("image/*", "image/png"));
  CHECK(!mime_type_matches("image/*", "imagex/png"));
  CHECK(!mime_type_matches("image/*", "image/"));
  CHECK(mime_type_matches("video/mp4", "video/mp4"));
  CHECK(!mime_type_matches("video/mp4", "video/mp4x"));
}

TEST_CASE("unknown must be an object [lex.validate.unknown-object]", "[lexicon][validate]") {
  CHECK(check({{"extra", {{"anything", {1, 2}}}}}) == "<ok>");
  CHECK(check({{"extra", "text"}}) == "lex.validate.unknown-object");
  CHECK(check({{"extra", {1}}}) == "lex.validate.unknown-object");
  json blob = {{"$type", "blob"},
               {"ref", {{"$link", "bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4"}}},
               {"mimeType", "image/png"},
               {"size", 10}};
  CHECK(check({{"extra", blob}}) == "lex.validate.unknown-object");
}

TEST_CASE("refs and unions [lex.validate.union-type] [lex.validate.union-closed]",
          "[lexicon][validate]") {
  CHECK(check({{"sub", {{"n", 1}}}}) == "<ok>");
  auto s = validate_record(catalog(), record({{"sub", {{"n", "x"}}}}));
  CHECK(code_of(s) == "lex.validate.type");
  CHECK(s.error().message.rfind("$.sub.n: ", 0) == 0);
  CHECK(check({{"pick", {{"$type", "com.example.thing#sub"}, {"n", 2}}}}) == "<ok>");
  CHECK(check({{"pick", {{"$type", "com.example.thing#sub"}, {"n", "2"}}}}) == "lex.validate.type");
  CHECK(check({{"pick", {{"n", 2}}}}) == "lex.validate.union-type");
  CHECK(check({{"pick", {{"$type", "com.example.other"}, {"ok", true}}}}) == "<ok>");
  CHECK(check({{"pick", {{"$type", "com.example.other"}, {"ok", 1}}}}) == "lex.validate.type");
  CHECK(check({{"pick", {{"$type", "com.example.other#main"}, {"ok", true}}}}) ==
        "lex.validate.type-main-suffix");
  // Open union: an unlisted type is let through.
  CHECK(check({{"pick", {{"$type", "com.example.unlisted"}, {"x", 1}}}}) == "<ok>");
  CHECK(check({{"closedPick", {{"$type", "com.example.thing#sub"}, {"n", 1}}}}) == "<ok>");
  CHECK(check({{"closedPick", {{"$type", "com.example.unlisted"}}}}) ==
        "lex.validate.union-closed");
}

TEST_CASE("unexpected fields are ignored", "[lexicon][validate]") {
  CHECK(check({{"somethingNew", {{"deep", true}}}}) == "<ok>");
}

TEST_CASE("query parameters from query-string text [lex.validate.params-syntax]",
          "[lexicon][validate]") {
  auto params =
      validate_params(catalog(), "com.example.getThings", "actor=alice.test&reverse=true");
  REQUIRE(params.ok());
  CHECK(params->at("limit") == Value(50));  // default filled in
  CHECK(params->at("reverse") == Value(true));
  auto code = [](std::string_view q) {
    auto r = validate_params(catalog(), "com.example.getThings", q);
    return r.ok() ? std::string("<ok>") : r.error().code;
  };
  CHECK(code("limit=5") == "lex.validate.required");
  CHECK(code("actor=did%3Aplc%3Aabc&limit=100") == "<ok>");
  CHECK(code("actor=alice.test&limit=101") == "lex.validate.integer-range");
  CHECK(code("actor=alice.test&limit=ten") == "lex.validate.type");
  CHECK(code("actor=alice.test&limit=1.5") == "lex.validate.type");
  CHECK(code("actor=alice.test&reverse=yes") == "lex.validate.type");
  CHECK(code("actor=not%20valid") == "lex.validate.string-format");
  CHECK(code("actor=alice.test&tags=a&tags=b") == "<ok>");
  CHECK(code("actor=alice.test&tags=a&tags=b&tags=c") == "lex.validate.array-length");
  CHECK(code("actor=alice.test&actor=bob.test") == "lex.validate.params-syntax");
  CHECK(code("actor=alice.test&x=%zz") == "lex.validate.params-syntax");
  CHECK(code("actor=alice.test&x=%e2") == "lex.validate.params-syntax");
  CHECK(code("actor=alice.test&unknown=1") == "<ok>");
  auto pairs = parse_query_string("?a=1+2&b&c=%41");
  REQUIRE(pairs.ok());
  REQUIRE(pairs->size() == 3);
  CHECK(pairs.value()[0].second == "1 2");
  CHECK(pairs.value()[1].second.empty());
  CHECK(pairs.value()[2].second == "A");
}

TEST_CASE("bodies and messages", "[lexicon][validate]") {
  CHECK(validate_output(catalog(), "com.example.getThings", value_of(R"({"n": 1})")).ok());
  CHECK(code_of(validate_output(catalog(), "com.example.getThings", value_of(R"({"n": "1"})"))) ==
        "lex.validate.type");
  CHECK(code_of(validate_input(catalog(), "com.example.getThings", value_of("{}"))) ==
        "lex.validate.def-kind");
  CHECK(validate_message(catalog(), "com.example.subscribe", "#commit", value_of(R"({"seq": 1})"))
            .ok());
  CHECK(code_of(validate_message(catalog(), "com.example.subscribe", "#commit",
                                 value_of(R"({"seq": "1"})"))) == "lex.validate.type");
  CHECK(code_of(validate_message(catalog(), "com.example.subscribe", "",
                                 value_of(R"({"seq": 1})"))) == "lex.validate.union-type");
  CHECK(validate_message(catalog(), "com.example.subscribe", "",
                         value_of(R"({"$type": "com.example.subscribe#commit", "seq": 1})"))
            .ok());
}
