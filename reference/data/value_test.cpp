// Unit tests for the data model value type and schema-free validation.
// Spec: https://atproto.com/specs/data-model#data-types
#include "atproto/data/value.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <string>

#include "atproto/common/testing.hpp"
#include "atproto/data/validate.hpp"

using namespace atproto::data;

namespace {

using atproto::testing::code_of;

}  // namespace

// [data.model.int64]
TEST_CASE("value: kinds and accessors [data.model.int64]", "[data][value]") {
  CHECK(Value().is_null());
  CHECK(Value(nullptr).kind() == Kind::kNull);
  CHECK(Value(true).as_bool());
  CHECK(Value(std::numeric_limits<std::int64_t>::min()).as_integer() ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(Value("x").as_string() == "x");
  CHECK(Value(Bytes{1, 2}).as_bytes() == Bytes{1, 2});
  CHECK(Value(Array{1, "a"}).as_array().size() == 2);
  Value m = Map{{"a", 1}, {"b", Array{}}};
  REQUIRE(m.find("a") != nullptr);
  CHECK(*m.find("a") == Value(1));
  CHECK(m.find("z") == nullptr);
  CHECK(Value(1).find("a") == nullptr);
  CHECK(std::string(kind_name(Kind::kLink)) == "cid-link");
  CHECK(kMaxSafeInteger == 9007199254740991);
}

TEST_CASE("value: null, missing and false-y values are distinct [data.model.null-distinct]",
          "[data][value]") {
  CHECK(Value(nullptr) != Value(false));
  CHECK(Value(0) != Value(false));
  CHECK(Value(Array{}) != Value(Map{}));
  CHECK(Value(Map{{"a", nullptr}}) != Value(Map{}));
  CHECK(Value("") != Value(Bytes{}));
}

// [data.model.type-field]
TEST_CASE("validate: $type is a non-empty string wherever present [data.model.type-field]",
          "[data][value]") {
  CHECK(code_of(validate_data(Map{{"$type", "app.bsky.feed.post"}})) == "<ok>");
  CHECK(code_of(validate_data(Map{{"$type", ""}})) == "data.model.type-field");
  CHECK(code_of(validate_data(Map{{"$type", 1}})) == "data.model.type-field");
  CHECK(code_of(validate_data(Map{{"$type", nullptr}})) == "data.model.type-field");
  CHECK(code_of(validate_data(Map{{"a", Array{Map{{"$type", false}}}}})) ==
        "data.model.type-field");
  CHECK(code_of(validate_data(Array{Map{{"x", Map{{"$type", ""}}}}})) == "data.model.type-field");
}

// [data.model.record-object]
TEST_CASE("validate: a record is a map [data.model.record-object]", "[data][value]") {
  CHECK(code_of(validate_record(Map{})) == "<ok>");
  CHECK(code_of(validate_record(Array{})) == "data.model.record-object");
  CHECK(code_of(validate_record("text")) == "data.model.record-object");
  CHECK(code_of(validate_record(nullptr)) == "data.model.record-object");
  CHECK(code_of(validate_record(Map{{"$type", 3}})) == "data.model.type-field");
}
