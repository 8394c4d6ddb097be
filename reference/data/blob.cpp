// Blob references.
// Spec: https://atproto.com/specs/data-model#blob-type
#include "atproto/data/blob.hpp"

#include <string_view>

namespace atproto::data {
namespace {

Error shape_error(const std::string& why) {
  return make_error("data.blob.shape", "invalid blob: " + why);
}

Status check_mime_type(const std::string& mime_type) {
  // [data.blob.mime-type] The MIME type is a non-empty string.
  if (mime_type.empty()) return make_error("data.blob.mime-type", "blob mimeType is empty");
  return {};
}

Status check_ref(const Cid& ref) {
  // [data.blob.ref-raw] A blob is linked with the raw codec.
  if (ref.codec() != Codec::kRaw) {
    return make_error("data.blob.ref-raw", "blob ref must be a CID with the raw codec (0x55)");
  }
  return {};
}

Result<BlobRef> parse_legacy(const Map& map) {
  // [data.blob.legacy-read] The legacy form {cid, mimeType} is read, not refused.
  auto cid_field = map.find("cid");
  auto mime_field = map.find("mimeType");
  // [data.blob.legacy-shape] A string "cid" and a "mimeType" string.
  if (cid_field == map.end() || !cid_field->second.is_string() || mime_field == map.end() ||
      !mime_field->second.is_string()) {
    return make_error("data.blob.legacy-shape",
                      "not a blob: no \"$type\": \"blob\", and not the legacy form with string "
                      "fields \"cid\" and \"mimeType\"");
  }
  auto cid = Cid::parse(cid_field->second.as_string());
  if (!cid) {
    return make_error("data.blob.legacy-shape", "legacy blob cid: " + cid.error().message);
  }
  if (auto s = check_mime_type(mime_field->second.as_string()); !s) return s.error();
  return BlobRef{*cid, mime_field->second.as_string(), 0, true};
}

}  // namespace

bool is_blob_node(const Map& map) {
  auto it = map.find("$type");
  return it != map.end() && it->second.is_string() && it->second.as_string() == "blob";
}

Result<BlobRef> parse_blob(const Value& value) {
  if (!value.is_map()) return shape_error("a blob is a map");
  const Map& map = value.as_map();
  // One pass over the node's few fields instead of a lookup per field: a
  // post validates a blob per image, and the lookups were most of its cost.
  using namespace std::string_view_literals;
  const Value* type = nullptr;
  const Value* ref = nullptr;
  const Value* mime_type = nullptr;
  const Value* size = nullptr;
  for (const auto& [key, field] : map) {
    const std::string_view k = key;
    if (k == "$type"sv) {
      type = &field;
    } else if (k == "ref"sv) {
      ref = &field;
    } else if (k == "mimeType"sv) {
      mime_type = &field;
    } else if (k == "size"sv) {
      size = &field;
    }
  }
  if (type == nullptr) return parse_legacy(map);
  // [data.blob.shape] "$type" is "blob"; ref, mimeType and size are required.
  if (!type->is_string() || type->as_string() != "blob") {
    return shape_error("\"$type\" must be \"blob\"");
  }
  // [data.model.ignore-unknown-dollar] Fields other than these four are ignored.
  if (ref == nullptr || !ref->is_link()) return shape_error("\"ref\" must be a cid-link");
  if (mime_type == nullptr || !mime_type->is_string()) {
    return shape_error("\"mimeType\" must be a string");
  }
  if (size == nullptr || !size->is_integer()) return shape_error("\"size\" must be an integer");
  if (auto s = check_ref(ref->as_link()); !s) return s.error();
  if (auto s = check_mime_type(mime_type->as_string()); !s) return s.error();
  // [data.blob.size] The size in bytes is a positive, non-zero integer.
  if (size->as_integer() <= 0) {
    return make_error("data.blob.size", "blob size must be greater than zero");
  }
  return BlobRef{ref->as_link(), mime_type->as_string(), size->as_integer(), false};
}

Result<Value> blob_to_value(const BlobRef& blob) {
  // [data.blob.legacy-no-write] Never write the legacy form, nor a size <= 0.
  if (blob.legacy || blob.size <= 0) {
    return make_error("data.blob.legacy-no-write",
                      "a legacy blob (or one without a positive size) cannot be written");
  }
  if (auto s = check_ref(blob.ref); !s) return s.error();
  if (auto s = check_mime_type(blob.mime_type); !s) return s.error();
  // Built in place: GCC 12 at -O3 reports a false -Wmaybe-uninitialized when
  // a freshly built map Value is moved into the Result.
  Result<Value> out = Value(Map{});
  Map& node = out.value().as_map();
  node.emplace("$type", Value(std::string("blob")));
  node.emplace("ref", Value(blob.ref));
  node.emplace("mimeType", Value(blob.mime_type));
  node.emplace("size", Value(blob.size));
  return out;
}

}  // namespace atproto::data
