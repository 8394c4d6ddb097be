// Schema-free data model validation.
// Spec: https://atproto.com/specs/data-model#data-types
#include "atproto/data/validate.hpp"

#include "atproto/data/blob.hpp"

namespace atproto::data {

Status validate_data(const Value& value) {
  if (value.is_array()) {
    for (const Value& item : value.as_array()) {
      if (auto s = validate_data(item); !s) return s;
    }
    return {};
  }
  if (!value.is_map()) return {};
  const Map& map = value.as_map();
  if (auto type = map.find("$type"); type != map.end()) {
    // [data.model.type-field] "$type" names a schema: a non-empty string.
    if (!type->second.is_string() || type->second.as_string().empty()) {
      return make_error("data.model.type-field", "\"$type\" must be a non-empty string");
    }
    if (type->second.as_string() == "blob") {
      auto blob = parse_blob(value);
      if (!blob) return blob.error();
    }
  }
  for (const auto& [key, item] : map) {
    if (auto s = validate_data(item); !s) return s;
  }
  return {};
}

Status validate_record(const Value& value) {
  // [data.model.record-object] A record is a map (JSON object) at the top.
  if (!value.is_map()) {
    return make_error("data.model.record-object",
                      std::string("a record must be an object, not ") + kind_name(value.kind()));
  }
  return validate_data(value);
}

}  // namespace atproto::data
