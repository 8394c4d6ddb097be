// The atproto JSON form of data model values, both ways.
// Spec: https://atproto.com/specs/data-model#json-representation
//
// JSON carries most kinds directly; the two that need help are cid-link,
// written {"$link": "<CID string>"}, and bytes, written {"$bytes": "<base64>"}.
// Key order is not significant in JSON and is not checked.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/data/value.hpp"

namespace atproto::data {

struct JsonLimits {
  // [data.limits.depth] Arrays and objects nested deeper than this are refused.
  std::size_t max_depth = 128;
};

// Converts generic JSON data to a Value and runs validate_data on it.
// Error codes:
//   data.json.link         an object with a "$link" key that is not exactly
//                          {"$link": <string>} (then data.cid.* for the CID)
//   data.json.bytes        an object with a "$bytes" key that is not exactly
//                          {"$bytes": <string>}
//   data.json.bytes-base64 the "$bytes" string is not valid base64
//   data.model.no-floats   a number with a fractional part, or not finite
//                          (a float holding an integer, such as 123.0, is
//                          read as that integer)
//   data.model.int64       an integer outside the signed 64-bit range
//   data.model.utf8        a string that is not valid UTF-8
//   data.limits.depth      nesting deeper than JsonLimits::max_depth
//   data.json.value        a JSON value kind outside the data model (binary)
// plus those of validate_data (data.model.type-field, data.blob.*).
Result<Value> from_json(const nlohmann::json& json, const JsonLimits& limits = {});

// from_json for a record: the top level must be an object
// (data.model.record-object).
Result<Value> record_from_json(const nlohmann::json& json, const JsonLimits& limits = {});

// The JSON form of a value: cid-links as {"$link": ...}, bytes as
// {"$bytes": ...} (base64 without padding). Strings are copied as they are,
// so they should be valid UTF-8 for nlohmann::json to serialize them.
nlohmann::json to_json(const Value& value);

}  // namespace atproto::data
