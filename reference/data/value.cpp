// The data model value type.
// Spec: https://atproto.com/specs/data-model#data-types
#include "atproto/data/value.hpp"

namespace atproto::data {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kInteger:
      return "integer";
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kLink:
      return "cid-link";
    case Kind::kArray:
      return "array";
    case Kind::kMap:
      return "map";
  }
  return "unknown";
}

const Value* Value::find(const std::string& key) const {
  if (!is_map()) return nullptr;
  const Map& m = as_map();
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace atproto::data
