// Unit tests for blob references.
// Spec: https://atproto.com/specs/data-model#blob-type
#include "atproto/data/blob.hpp"

#include <catch2/catch.hpp>

#include <string>

#include "atproto/common/testing.hpp"
#include "atproto/data/validate.hpp"

using namespace atproto::data;

namespace {

using atproto::testing::code_of;

const Cid kBlobCid = *Cid::parse("bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4");
const Cid kDataCid = *Cid::parse("bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a");

Map good_blob() {
  return Map{{"$type", "blob"}, {"ref", kBlobCid}, {"mimeType", "image/png"}, {"size", 1234}};
}

Value with(std::string key, Value v) {
  Map m = good_blob();
  m[key] = std::move(v);
  return m;
}

Value without(const std::string& key) {
  Map m = good_blob();
  m.erase(key);
  return m;
}

}  // namespace

// [data.blob.shape]
TEST_CASE("blob: a well-formed blob node [data.blob.shape]", "[data][blob]") {
  auto blob = parse_blob(good_blob());
  REQUIRE(blob.ok());
  CHECK(blob->ref == kBlobCid);
  CHECK(blob->mime_type == "image/png");
  CHECK(blob->size == 1234);
  CHECK_FALSE(blob->legacy);
  CHECK(is_blob_node(good_blob()));
  auto back = blob_to_value(*blob);
  REQUIRE(back.ok());
  CHECK(*back == Value(good_blob()));
  // [data.model.ignore-unknown-dollar] Unknown fields are ignored.
  CHECK(code_of(parse_blob(with("$unknown", 1))) == "<ok>");
  CHECK(code_of(parse_blob(with("alt", "text"))) == "<ok>");
}

// [data.blob.shape]
TEST_CASE("blob: missing or mistyped fields [data.blob.shape]", "[data][blob]") {
  CHECK(code_of(parse_blob(Value(1))) == "data.blob.shape");
  CHECK(code_of(parse_blob(with("$type", "Blob"))) == "data.blob.shape");
  CHECK(code_of(parse_blob(with("$type", 1))) == "data.blob.shape");
  CHECK(code_of(parse_blob(without("ref"))) == "data.blob.shape");
  CHECK(code_of(parse_blob(with("ref", kBlobCid.to_string()))) == "data.blob.shape");
  CHECK(code_of(parse_blob(without("mimeType"))) == "data.blob.shape");
  CHECK(code_of(parse_blob(with("mimeType", 5))) == "data.blob.shape");
  CHECK(code_of(parse_blob(without("size"))) == "data.blob.shape");
  CHECK(code_of(parse_blob(with("size", "12"))) == "data.blob.shape");
}

// [data.blob.ref-raw]
TEST_CASE("blob: ref uses the raw codec [data.blob.ref-raw]", "[data][blob]") {
  CHECK(code_of(parse_blob(with("ref", kDataCid))) == "data.blob.ref-raw");
  CHECK(code_of(blob_to_value(BlobRef{kDataCid, "image/png", 1, false})) == "data.blob.ref-raw");
}

// [data.blob.mime-type]
TEST_CASE("blob: mimeType is not empty [data.blob.mime-type]", "[data][blob]") {
  CHECK(code_of(parse_blob(with("mimeType", ""))) == "data.blob.mime-type");
  CHECK(code_of(blob_to_value(BlobRef{kBlobCid, "", 1, false})) == "data.blob.mime-type");
}

// [data.blob.size]
TEST_CASE("blob: size is positive [data.blob.size]", "[data][blob]") {
  CHECK(code_of(parse_blob(with("size", 0))) == "data.blob.size");
  CHECK(code_of(parse_blob(with("size", -5))) == "data.blob.size");
  CHECK(code_of(parse_blob(with("size", 1))) == "<ok>");
}

// [data.blob.legacy-read] [data.blob.legacy-shape]
TEST_CASE("blob: the legacy form is read [data.blob.legacy-read]", "[data][blob]") {
  Value legacy = Map{{"cid", kBlobCid.to_string()}, {"mimeType", "image/jpeg"}};
  auto blob = parse_blob(legacy);
  REQUIRE(blob.ok());
  CHECK(blob->legacy);
  CHECK(blob->ref == kBlobCid);
  CHECK(blob->mime_type == "image/jpeg");
  CHECK(blob->size == 0);
  CHECK_FALSE(is_blob_node(legacy.as_map()));
  CHECK(code_of(validate_data(Map{{"image", legacy}})) == "<ok>");
}

// [data.blob.legacy-shape]
TEST_CASE("blob: malformed legacy references [data.blob.legacy-shape]", "[data][blob]") {
  CHECK(code_of(parse_blob(Map{{"mimeType", "image/jpeg"}})) == "data.blob.legacy-shape");
  CHECK(code_of(parse_blob(Map{{"cid", kBlobCid}, {"mimeType", "image/jpeg"}})) ==
        "data.blob.legacy-shape");
  CHECK(code_of(parse_blob(Map{{"cid", "Qm..."}, {"mimeType", "image/jpeg"}})) ==
        "data.blob.legacy-shape");
  CHECK(code_of(parse_blob(Map{{"cid", kBlobCid.to_string()}, {"mimeType", ""}})) ==
        "data.blob.mime-type");
}

// [data.blob.legacy-no-write]
TEST_CASE("blob: legacy or sizeless blobs are never written [data.blob.legacy-no-write]",
          "[data][blob]") {
  auto legacy = parse_blob(Map{{"cid", kBlobCid.to_string()}, {"mimeType", "image/jpeg"}});
  REQUIRE(legacy.ok());
  CHECK(code_of(blob_to_value(*legacy)) == "data.blob.legacy-no-write");
  CHECK(code_of(blob_to_value(BlobRef{kBlobCid, "image/png", 0, false})) ==
        "data.blob.legacy-no-write");
  CHECK(code_of(blob_to_value(BlobRef{kBlobCid, "image/png", -1, false})) ==
        "data.blob.legacy-no-write");
}

// [data.blob.shape] [data.blob.size]
TEST_CASE("validate: blob nodes are checked at any depth", "[data][blob]") {
  CHECK(code_of(validate_data(Map{{"embed", Array{good_blob()}}})) == "<ok>");
  CHECK(code_of(validate_data(Map{{"embed", Array{Map{{"img", with("size", 0)}}}}})) ==
        "data.blob.size");
  CHECK(code_of(validate_data(Array{without("ref")})) == "data.blob.shape");
}
