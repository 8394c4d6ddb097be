// Lexicon string format dispatch.
// Spec: https://atproto.com/specs/lexicon#string-formats
#include "atproto/syntax/format.hpp"

#include <string>

#include "ascii.hpp"
#include "atproto/syntax/at_identifier.hpp"
#include "atproto/syntax/at_uri.hpp"
#include "atproto/syntax/cid.hpp"
#include "atproto/syntax/datetime.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/handle.hpp"
#include "atproto/syntax/language.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"
#include "atproto/syntax/tid.hpp"
#include "atproto/syntax/uri.hpp"

namespace atproto::syntax {

// [lex.format.names]
std::optional<StringFormat> string_format_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kStringFormatNames.size(); ++i) {
    if (kStringFormatNames[i] == name) return static_cast<StringFormat>(i);
  }
  return std::nullopt;
}

std::string_view string_format_name(StringFormat format) {
  return kStringFormatNames[static_cast<std::size_t>(format)];
}

Status validate_string_format(StringFormat format, std::string_view value) {
  // [lex.format.expansive] Only the generic syntax is checked: any DID
  // method, any TLD. Narrower rules are application checks
  // (check_did_supported, check_handle_usable).
  switch (format) {
    case StringFormat::kAtIdentifier:
      return validate_at_identifier(value);
    case StringFormat::kAtUri:
      return validate_at_uri(value);
    case StringFormat::kCid:
      return validate_cid_string(value);
    case StringFormat::kDatetime:
      return validate_datetime(value);
    case StringFormat::kDid:
      return validate_did(value);
    case StringFormat::kHandle:
      return validate_handle(value);
    case StringFormat::kNsid:
      return validate_nsid(value);
    case StringFormat::kTid:  // [lex.format.tid]
      return validate_tid(value);
    case StringFormat::kRecordKey:  // [lex.format.record-key]
      return validate_record_key(value);
    case StringFormat::kUri:
      return validate_uri(value);
    case StringFormat::kLanguage:
      return validate_language(value);
  }
  return make_error("lex.format.names", "unknown string format");
}

Status validate_string_format(std::string_view format_name, std::string_view value) {
  auto format = string_format_from_name(format_name);
  if (!format) {
    return make_error("lex.format.names", "unknown string format " + ascii::quote(format_name));
  }
  return validate_string_format(*format, value);
}

}  // namespace atproto::syntax
