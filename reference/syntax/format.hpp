// Dispatch over the Lexicon string format names.
// Spec: https://atproto.com/specs/lexicon#string-formats
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

enum class StringFormat {
  kAtIdentifier,
  kAtUri,
  kCid,
  kDatetime,
  kDid,
  kHandle,
  kNsid,
  kTid,
  kRecordKey,
  kUri,
  kLanguage,
};

inline constexpr std::array<std::string_view, 11> kStringFormatNames = {
    "at-identifier", "at-uri", "cid",        "datetime", "did",     "handle",
    "nsid",          "tid",    "record-key", "uri",      "language"};

// [lex.format.names]
std::optional<StringFormat> string_format_from_name(std::string_view name);
std::string_view string_format_name(StringFormat format);

// Validates `value` as `format`, with the expansive Lexicon rules (any DID
// method, reserved TLDs allowed). [lex.format.expansive]
Status validate_string_format(StringFormat format, std::string_view value);
// By name; an unknown name is error lex.format.names.
Status validate_string_format(std::string_view format_name, std::string_view value);

}  // namespace atproto::syntax
