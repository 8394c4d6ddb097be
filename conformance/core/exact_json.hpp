// JSON whose numbers keep every digit.
//
// nlohmann::json holds integers only within int64/uint64; a vector or an
// answer with -9223372036854775809, 2^64 or a 30-digit integer would become
// a double and go out rounded (-9.223372036854776e+18 is -2^63, a valid
// int64: the case would test the wrong thing). Such numbers, and JSON text
// that must travel as it is written (a vector's "json_text" with a repeated
// key), are held as a marked string ("raw JSON") and written back verbatim
// by dump_json(), by the reports and on the wire.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace atproto::conformance {

using json = nlohmann::json;

// A value standing for the JSON text `text`, written as it is.
json raw_json(std::string_view text);
// The text of a raw_json() value; nullopt for anything else.
std::optional<std::string_view> raw_json_text(const json& j);
// Whether j holds a raw_json() value anywhere.
bool contains_raw_json(const json& j);

enum class BigNumbers {
  kKeepText,  // integers beyond 64 bits become raw_json() values
  kAsDouble,  // nlohmann's behaviour: they become doubles
};

struct ParsedJson {
  json value;  // discarded (is_discarded()) when the text is not JSON
  // Some object repeats a key (nlohmann keeps the last value).
  bool duplicate_key = false;
};
ParsedJson parse_json(std::string_view text, BigNumbers numbers = BigNumbers::kKeepText);

// Compact (indent < 0) or pretty JSON text with raw_json() values spliced in;
// never throws (invalid UTF-8 in strings becomes U+FFFD).
std::string dump_json(const json& j, int indent = -1);

// The path where two values first differ, "$" for the values themselves,
// e.g. "$.record.items[2]"; nullopt when they are equal.
std::optional<std::string> first_difference(const json& got, const json& want);

}  // namespace atproto::conformance
