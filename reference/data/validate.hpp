// Data model checks that apply to any decoded value, whatever its encoding
// (CBOR or JSON), without a Lexicon schema.
// Spec: https://atproto.com/specs/data-model#data-types
#pragma once

#include "atproto/common/result.hpp"
#include "atproto/data/value.hpp"

namespace atproto::data {

// Walks every nested map: a "$type" field, where present, is a non-empty
// string (data.model.type-field), and every map whose "$type" is "blob" is a
// well-formed blob (the data.blob.* codes of parse_blob).
Status validate_data(const Value& value);

// validate_data, plus: the top level is a map (data.model.record-object).
Status validate_record(const Value& value);

}  // namespace atproto::data
