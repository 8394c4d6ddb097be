// Well-formed BCP 47 language tags, following the RFC 5646 section 2.1 ABNF.
// Spec: https://atproto.com/specs/lexicon#language
#include "atproto/syntax/language.hpp"

#include <array>

#include "ascii.hpp"

namespace atproto::syntax {
namespace {

// RFC 5646 "grandfathered" tags (irregular and regular), matched
// case-insensitively as whole tags.
constexpr std::array<std::string_view, 26> kGrandfathered = {
    "en-GB-oed", "i-ami",     "i-bnn",     "i-default",  "i-enochian",  "i-hak",  "i-klingon",
    "i-lux",     "i-mingo",   "i-navajo",  "i-pwn",      "i-tao",       "i-tay",  "i-tsu",
    "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE", "art-lojban", "cel-gaulish", "no-bok", "no-nyn",
    "zh-guoyu",  "zh-hakka",  "zh-min",    "zh-min-nan", "zh-xiang"};

Error language_error(std::string_view input, std::string_view why) {
  return make_error("lex.format.language",
                    "invalid language tag " + ascii::quote(input) + ": " + std::string(why));
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}
bool alpha(char c) { return ascii::is_alpha(c); }
bool digit(char c) { return ascii::is_digit(c); }
bool alnum(char c) { return ascii::is_alnum(c); }

bool is_alpha_len(std::string_view s, std::size_t lo, std::size_t hi) {
  return s.size() >= lo && s.size() <= hi && all_of(s, alpha);
}
bool is_script(std::string_view s) { return is_alpha_len(s, 4, 4); }
bool is_region(std::string_view s) {
  return is_alpha_len(s, 2, 2) || (s.size() == 3 && all_of(s, digit));
}
bool is_variant(std::string_view s) {
  return (s.size() >= 5 && s.size() <= 8 && all_of(s, alnum)) ||
         (s.size() == 4 && ascii::is_digit(s[0]) && all_of(s, alnum));
}
bool is_singleton(std::string_view s) {
  return s.size() == 1 && ascii::is_alnum(s[0]) && s[0] != 'x' && s[0] != 'X';
}

// Private use: "x" 1*("-" 1*8alphanum), starting at subtags[i].
bool read_private_use(const std::vector<std::string_view>& subtags, std::size_t i,
                      std::string& out) {
  if (subtags.size() - i < 2) return false;
  for (std::size_t j = i + 1; j < subtags.size(); ++j) {
    if (subtags[j].empty() || subtags[j].size() > 8 || !all_of(subtags[j], alnum)) return false;
  }
  out.clear();
  for (std::size_t j = i; j < subtags.size(); ++j) {
    if (j > i) out += '-';
    out += subtags[j];
  }
  return true;
}

}  // namespace

Result<LanguageTag> parse_language(std::string_view input) {
  // [lex.format.language]
  if (input.empty()) return language_error(input, "empty");
  for (std::string_view g : kGrandfathered) {
    if (ascii::equals_ignore_case(input, g)) {
      LanguageTag tag;
      tag.kind = LanguageTag::Kind::kGrandfathered;
      tag.language = std::string(input);
      return tag;
    }
  }
  std::vector<std::string_view> subtags;
  ascii::split(input, '-', [&](std::string_view s) { subtags.push_back(s); });
  for (std::string_view s : subtags) {
    if (s.empty()) return language_error(input, "empty subtag");
    if (s.size() > 8) return language_error(input, "subtags are at most 8 characters");
    if (!all_of(s, alnum)) return language_error(input, "subtags are ASCII letters and digits");
  }
  LanguageTag tag;
  // A tag that is private use as a whole: "x-...".
  if (subtags[0] == "x" || subtags[0] == "X") {
    if (!read_private_use(subtags, 0, tag.private_use)) {
      return language_error(input, "malformed private-use tag");
    }
    tag.kind = LanguageTag::Kind::kPrivateUse;
    return tag;
  }
  // language = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA
  std::size_t i = 0;
  if (!is_alpha_len(subtags[0], 2, 8)) {
    return language_error(input, "the primary language is 2 to 8 letters");
  }
  tag.language = std::string(subtags[i++]);
  // extlang = 3ALPHA *2("-" 3ALPHA), only after a 2-3 letter language.
  if (tag.language.size() <= 3) {
    for (int n = 0; n < 3 && i < subtags.size() && is_alpha_len(subtags[i], 3, 3); ++n) {
      tag.language += "-";
      tag.language += subtags[i++];
    }
  }
  if (i < subtags.size() && is_script(subtags[i])) tag.script = std::string(subtags[i++]);
  if (i < subtags.size() && is_region(subtags[i])) tag.region = std::string(subtags[i++]);
  while (i < subtags.size() && is_variant(subtags[i])) tag.variants.emplace_back(subtags[i++]);
  // extension = singleton 1*("-" 2*8alphanum)
  while (i < subtags.size() && is_singleton(subtags[i])) {
    std::string extension(subtags[i++]);
    std::size_t parts = 0;
    while (i < subtags.size() && subtags[i].size() >= 2) {
      extension += "-";
      extension += subtags[i++];
      ++parts;
    }
    if (parts == 0) return language_error(input, "an extension singleton needs subtags");
    tag.extensions.push_back(std::move(extension));
  }
  if (i < subtags.size() && (subtags[i] == "x" || subtags[i] == "X")) {
    if (!read_private_use(subtags, i, tag.private_use)) {
      return language_error(input, "malformed private-use section");
    }
    i = subtags.size();
  }
  if (i != subtags.size()) {
    return language_error(input, "unexpected subtag " + ascii::quote(subtags[i]));
  }
  return tag;
}

// The shape most tags have ("en", "pt-BR", "es-419"): a 2-3 letter language
// and an optional region. Such a tag is valid (it is no grandfathered tag),
// so validate_language answers without building a LanguageTag.
static bool is_plain_language_region(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && alpha(s[n])) ++n;
  if (n < 2 || n > 3) return false;
  if (n == s.size()) return true;
  return s[n] == '-' && is_region(s.substr(n + 1));
}

Status validate_language(std::string_view input) {
  // [lex.format.language]
  if (is_plain_language_region(input)) return {};
  auto parsed = parse_language(input);
  if (!parsed.ok()) return parsed.error();
  return {};
}

}  // namespace atproto::syntax
