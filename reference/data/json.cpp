// atproto JSON <-> data model values.
// Spec: https://atproto.com/specs/data-model#json-representation
#include "atproto/data/json.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "atproto/data/base64.hpp"
#include "atproto/data/validate.hpp"
#include "utf8.hpp"

namespace atproto::data {
namespace {

using nlohmann::json;

Result<std::int64_t> integer_from_json(const json& number) {
  if (number.is_number_integer() && !number.is_number_unsigned()) {
    return number.get<std::int64_t>();
  }
  if (number.is_number_unsigned()) {
    auto u = number.get<std::uint64_t>();
    // [data.model.int64] Integers are signed 64-bit.
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return make_error("data.model.int64",
                        "integer " + number.dump() + " is above the signed 64-bit range");
    }
    return static_cast<std::int64_t>(u);
  }
  double d = number.get<double>();
  // [data.model.no-floats] Only integer values; 123.0 is the integer 123.
  if (!std::isfinite(d) || std::trunc(d) != d) {
    return make_error("data.model.no-floats",
                      "number " + number.dump() + " is not an integer (floats are not allowed)");
  }
  // [data.model.int64] A float holding an integer must be exact. Beyond 2^53
  // a double no longer tells neighbouring integers apart: JSON text such as
  // -9223372036854775809 (parsed as a double because it does not fit int64)
  // would round to -2^63 and slip in. Integers written without a fraction
  // reach us as integers, so only floats are held to this.
  constexpr double kExactLimit = 9007199254740992.0;  // 2^53
  if (d < -kExactLimit || d > kExactLimit) {
    return make_error(
        "data.model.int64",
        "number " + number.dump() +
            " is outside the signed 64-bit range, or too large to be exact as a float");
  }
  return static_cast<std::int64_t>(d);
}

Result<Value> convert(const json& j, std::size_t depth, const JsonLimits& limits) {
  switch (j.type()) {
    case json::value_t::null:
      return Value(nullptr);
    case json::value_t::boolean:
      return Value(j.get<bool>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: {
      auto i = integer_from_json(j);
      if (!i) return i.error();
      return Value(*i);
    }
    case json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      // [data.model.utf8] Strings are Unicode, UTF-8 encoded.
      if (!utf8::is_valid(s)) return make_error("data.model.utf8", "string is not valid UTF-8");
      return Value(s);
    }
    case json::value_t::array: {
      // [data.limits.depth]
      if (depth + 1 > limits.max_depth) {
        return make_error("data.limits.depth",
                          "nesting deeper than " + std::to_string(limits.max_depth) + " levels");
      }
      Array a;
      a.reserve(j.size());
      for (const json& item : j) {
        auto v = convert(item, depth + 1, limits);
        if (!v) return v;
        a.push_back(std::move(v).value());
      }
      return Value(std::move(a));
    }
    case json::value_t::object: {
      if (j.contains("$link")) {
        // [data.json.link] A link is an object with the single key "$link"
        // whose value is a CID string.
        const json& link = j["$link"];
        if (j.size() != 1 || !link.is_string()) {
          return make_error("data.json.link",
                            "a $link object has exactly one key, \"$link\", with a string value");
        }
        auto cid = Cid::parse(link.get_ref<const std::string&>());
        if (!cid) return cid.error();
        return Value(*cid);
      }
      if (j.contains("$bytes")) {
        // [data.json.bytes] Bytes are an object with the single key "$bytes"
        // whose value is a base64 string.
        const json& bytes = j["$bytes"];
        if (j.size() != 1 || !bytes.is_string()) {
          return make_error("data.json.bytes",
                            "a $bytes object has exactly one key, \"$bytes\", with a string value");
        }
        auto decoded = base64_decode(bytes.get_ref<const std::string&>());
        if (!decoded) return decoded.error();
        return Value(std::move(decoded).value());
      }
      // [data.limits.depth]
      if (depth + 1 > limits.max_depth) {
        return make_error("data.limits.depth",
                          "nesting deeper than " + std::to_string(limits.max_depth) + " levels");
      }
      // [data.model.ignore-unknown-dollar] Every other object is a plain map,
      // including objects with unknown '$' keys: they are kept, not refused.
      Map m;
      for (const auto& [key, item] : j.items()) {
        // [data.model.utf8]
        if (!utf8::is_valid(key)) {
          return make_error("data.model.utf8", "object key is not valid UTF-8");
        }
        auto v = convert(item, depth + 1, limits);
        if (!v) return v;
        m.emplace(key, std::move(v).value());
      }
      return Value(std::move(m));
    }
    case json::value_t::binary:
    case json::value_t::discarded:
      break;
  }
  // [data.json.value] Only JSON kinds that map onto the data model.
  return make_error("data.json.value", "JSON value kind outside the data model");
}

}  // namespace

Result<Value> from_json(const json& j, const JsonLimits& limits) {
  auto v = convert(j, 0, limits);
  if (!v) return v;
  if (auto s = validate_data(*v); !s) return s.error();
  return v;
}

Result<Value> record_from_json(const json& j, const JsonLimits& limits) {
  // [data.model.record-object] Checked first, so the code names this rule.
  if (!j.is_object()) {
    return make_error("data.model.record-object", "a record must be a JSON object");
  }
  auto v = convert(j, 0, limits);
  if (!v) return v;
  if (auto s = validate_record(*v); !s) return s.error();
  return v;
}

json to_json(const Value& value) {
  switch (value.kind()) {
    case Kind::kNull:
      return nullptr;
    case Kind::kBool:
      return value.as_bool();
    case Kind::kInteger:
      return value.as_integer();
    case Kind::kString:
      return value.as_string();
    // [data.json.bytes] [data.json.bytes-base64] Unpadded standard base64.
    case Kind::kBytes:
      return json{{"$bytes", base64_encode(value.as_bytes())}};
    // [data.json.link]
    case Kind::kLink:
      return json{{"$link", value.as_link().to_string()}};
    case Kind::kArray: {
      json out = json::array();
      for (const Value& item : value.as_array()) out.push_back(to_json(item));
      return out;
    }
    case Kind::kMap: {
      json out = json::object();
      for (const auto& [key, item] : value.as_map()) out[key] = to_json(item);
      return out;
    }
  }
  return nullptr;
}

}  // namespace atproto::data
