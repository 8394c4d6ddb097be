// Language tags: well-formed BCP 47 (RFC 5646 section 2.1 grammar).
// Spec: https://atproto.com/specs/lexicon#language
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

struct LanguageTag {
  enum class Kind { kLangtag, kPrivateUse, kGrandfathered };
  Kind kind = Kind::kLangtag;
  std::string language;  // primary language with extlangs, e.g. "zh-yue"
  std::string script;    // 4 letters or empty
  std::string region;    // 2 letters or 3 digits, or empty
  std::vector<std::string> variants;
  std::vector<std::string> extensions;  // each "x-..." singleton group, e.g. "u-ca-gregory"
  std::string private_use;              // "x-..." or empty
};

// Error code: lex.format.language.
Status validate_language(std::string_view input);
Result<LanguageTag> parse_language(std::string_view input);

}  // namespace atproto::syntax
