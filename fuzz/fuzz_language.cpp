// Fuzz target: BCP 47 language tags. Spec: https://atproto.com/specs/lexicon#language
#include <cstddef>
#include <cstdint>
#include <string>

#include "atproto/syntax/format.hpp"
#include "atproto/syntax/language.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  // [lex.format.language]
  auto valid = syn::validate_language(in);
  FUZZ_CHECK(valid.ok() || valid.error().code == "lex.format.language");
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kLanguage, in).ok() == valid.ok());
  auto parsed = syn::parse_language(in);
  FUZZ_CHECK(parsed.ok() == valid.ok());
  if (!valid.ok()) return 0;

  // Every tag is ASCII letters, digits and hyphens, without empty subtags,
  // each subtag at most 8 characters.
  for (auto subtag : fuzz::oracle::split(in, '-')) {
    FUZZ_CHECK(!subtag.empty() && subtag.size() <= 8);
    FUZZ_CHECK(fuzz::oracle::all_in(subtag, fuzz::oracle::kAlnum));
  }

  // Case does not matter. (Lowercasing keeps a tag well formed.)
  FUZZ_CHECK(syn::validate_language(fuzz::ascii_lower(in)).ok());

  const syn::LanguageTag& tag = *parsed;
  if (tag.kind == syn::LanguageTag::Kind::kLangtag) {
    // The parts put back together spell the input.
    std::string rebuilt = tag.language;
    auto add = [&](const std::string& part) {
      if (!part.empty()) rebuilt += "-" + part;
    };
    add(tag.script);
    add(tag.region);
    for (const auto& v : tag.variants) add(v);
    for (const auto& e : tag.extensions) add(e);
    add(tag.private_use);
    FUZZ_CHECK(fuzz::equals_ignore_case(rebuilt, in));
    FUZZ_CHECK(tag.script.empty() || tag.script.size() == 4);
    FUZZ_CHECK(tag.region.empty() || tag.region.size() == 2 || tag.region.size() == 3);
  } else if (tag.kind == syn::LanguageTag::Kind::kPrivateUse) {
    FUZZ_CHECK(fuzz::equals_ignore_case(tag.private_use, in));
  }
  return 0;
}
