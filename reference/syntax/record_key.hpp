// Record keys: names of records within a collection.
// Spec: https://atproto.com/specs/record-key
#pragma once

#include <string_view>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

inline constexpr std::size_t kRecordKeyMaxLength = 512;

// Base syntax shared by every key type. Error codes: rkey.syntax.*.
Status validate_record_key(std::string_view input);

// Checks a key against a Lexicon record key type: "tid", "nsid", "any" or
// "literal:<value>". An unknown type is error rkey.type.unknown.
Status validate_record_key_type(std::string_view key, std::string_view key_type);

}  // namespace atproto::syntax
