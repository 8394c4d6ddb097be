// Unit tests for the Lexicon language format: well-formed BCP 47 tags under
// the RFC 5646 section 2.1 grammar, and the parsed subtags.
// Spec: https://atproto.com/specs/lexicon#language
#include "atproto/syntax/language.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::LanguageTag;
using atproto::syntax::parse_language;
using atproto::syntax::validate_language;

namespace {

using Strings = std::vector<std::string>;

}  // namespace

// [lex.format.language]
TEST_CASE("language: well-formed tags", "[language]") {
  for (std::string_view input : {"ja"sv,
                                 "ban"sv,
                                 "pt-BR"sv,
                                 "en-US"sv,
                                 "hy-Latn-IT-arevela"sv,
                                 "zh-Hant-TW"sv,
                                 "zh-yue-HK"sv,
                                 "zh-yue"sv,
                                 "es-419"sv,
                                 "de-CH-1901"sv,
                                 "sl-rozaj-biske-1994"sv,
                                 "de-1996"sv,
                                 "en-a-bbb-x-a-ccc"sv,
                                 "en-u-ca-gregory"sv,
                                 "x-whatever"sv,
                                 "X-Whatever"sv,
                                 "x-a"sv,
                                 "x-12345678"sv,
                                 "x-a-b-c-d"sv,
                                 "en-x-us"sv,
                                 "sgn-BE-FR"sv,
                                 "sgn-ch-de"sv,
                                 "i-klingon"sv,
                                 "I-KLINGON"sv,
                                 "i-default"sv,
                                 "en-GB-oed"sv,
                                 "art-lojban"sv,
                                 "zh-min-nan"sv,
                                 "no-bok"sv,
                                 "english"sv,
                                 "abcd"sv,
                                 "abcdefgh"sv,
                                 "abcd-US"sv,
                                 "EN-us"sv,
                                 "en-Latn"sv,
                                 "aaa-bbb-ccc-ddd"sv,
                                 "en-001"sv,
                                 "en-1234"sv,
                                 "en-a1b2c"sv,
                                 "en-US-u-islamcal"sv,
                                 "en-a-aa-b-bb"sv,
                                 "en-0-ab"sv,
                                 "qaa-Qaaa-QM-x-southern"sv,
                                 "en-a-bbb-a-ccc"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_language(input)) == "<ok>");
    CHECK(parse_language(input).ok());
  }
}

// [lex.format.language]
TEST_CASE("language: malformed tags", "[language]") {
  for (std::string_view input : {""sv,
                                 "e"sv,
                                 "en-"sv,
                                 "-en"sv,
                                 "en--US"sv,
                                 "en_US"sv,
                                 "123"sv,
                                 "1en"sv,
                                 "en-a"sv,
                                 "x"sv,
                                 "x-"sv,
                                 "x-123456789"sv,
                                 "en-x"sv,
                                 "en-x-toolongsub"sv,
                                 "zh-Hant-TW-"sv,
                                 "en US"sv,
                                 " en"sv,
                                 "en "sv,
                                 "en-Latn-Latn"sv,
                                 "de-19"sv,
                                 "abcdefghi"sv,
                                 "en-a-b"sv,
                                 "en-US-US"sv,
                                 "i-notgrandfathered"sv,
                                 "i"sv,
                                 "en-abc-def-ghi-jkl"sv,
                                 "en-12"sv,
                                 "en-US-"sv,
                                 "ab-abcd-abcd"sv,
                                 "en-abcdefghi"sv,
                                 "en-a-abcdefghi"sv,
                                 "en.US"sv,
                                 "en-\xc3\xa9"sv,
                                 "en-US-x-"sv,
                                 "en-a-x-foo"sv,
                                 "en-12345-x"sv,
                                 "a-en"sv,
                                 "--"sv,
                                 "-"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_language(input)) == "lex.format.language");
    CHECK(code_of(parse_language(input)) == "lex.format.language");
  }
}

// [lex.format.language]
TEST_CASE("language: parsed subtags of language tags", "[language]") {
  {
    auto tag = parse_language("zh-Hant-TW");
    REQUIRE(tag.ok());
    CHECK(tag->kind == LanguageTag::Kind::kLangtag);
    CHECK(tag->language == "zh");
    CHECK(tag->script == "Hant");
    CHECK(tag->region == "TW");
    CHECK(tag->variants.empty());
    CHECK(tag->extensions.empty());
    CHECK(tag->private_use.empty());
  }
  {
    auto tag = parse_language("hy-Latn-IT-arevela");
    REQUIRE(tag.ok());
    CHECK(tag->kind == LanguageTag::Kind::kLangtag);
    CHECK(tag->language == "hy");
    CHECK(tag->script == "Latn");
    CHECK(tag->region == "IT");
    CHECK(tag->variants == Strings{"arevela"});
  }
  {
    auto tag = parse_language("en-a-bbb-x-a-ccc");
    REQUIRE(tag.ok());
    CHECK(tag->kind == LanguageTag::Kind::kLangtag);
    CHECK(tag->language == "en");
    CHECK(tag->script.empty());
    CHECK(tag->region.empty());
    CHECK(tag->extensions == Strings{"a-bbb"});
    CHECK(tag->private_use == "x-a-ccc");
  }
  {
    auto tag = parse_language("zh-yue-HK");
    REQUIRE(tag.ok());
    CHECK(tag->language == "zh-yue");
    CHECK(tag->region == "HK");
  }
  {
    auto tag = parse_language("es-419");
    REQUIRE(tag.ok());
    CHECK(tag->language == "es");
    CHECK(tag->region == "419");
  }
  {
    auto tag = parse_language("sl-rozaj-biske-1994");
    REQUIRE(tag.ok());
    CHECK(tag->language == "sl");
    CHECK(tag->region.empty());
    CHECK(tag->variants == Strings{"rozaj", "biske", "1994"});
  }
  {
    auto tag = parse_language("de-CH-1901-u-co-phonebk-t-ab-cd-x-private");
    REQUIRE(tag.ok());
    CHECK(tag->language == "de");
    CHECK(tag->region == "CH");
    CHECK(tag->variants == Strings{"1901"});
    CHECK(tag->extensions == Strings{"u-co-phonebk", "t-ab-cd"});
    CHECK(tag->private_use == "x-private");
  }
  {
    auto tag = parse_language("ja");
    REQUIRE(tag.ok());
    CHECK(tag->kind == LanguageTag::Kind::kLangtag);
    CHECK(tag->language == "ja");
    CHECK(tag->script.empty());
    CHECK(tag->region.empty());
  }
}

// [lex.format.language]
TEST_CASE("language: private-use and grandfathered tags", "[language]") {
  {
    auto tag = parse_language("x-whatever");
    REQUIRE(tag.ok());
    CHECK(tag->kind == LanguageTag::Kind::kPrivateUse);
    CHECK(tag->language.empty());
    CHECK(tag->private_use == "x-whatever");
  }
  {
    auto tag = parse_language("x-a-b-12345678");
    REQUIRE(tag.ok());
    CHECK(tag->kind == LanguageTag::Kind::kPrivateUse);
    CHECK(tag->private_use == "x-a-b-12345678");
  }
  for (std::string_view input :
       {"sgn-BE-FR"sv, "sgn-BE-NL"sv, "sgn-CH-DE"sv, "i-klingon"sv, "i-ami"sv, "i-bnn"sv,
        "i-default"sv, "i-enochian"sv, "i-hak"sv, "i-lux"sv, "i-mingo"sv, "i-navajo"sv, "i-pwn"sv,
        "i-tao"sv, "i-tay"sv, "i-tsu"sv, "en-GB-oed"sv, "EN-gb-OED"sv}) {
    CAPTURE(input);
    auto tag = parse_language(input);
    REQUIRE(tag.ok());
    CHECK(tag->kind == LanguageTag::Kind::kGrandfathered);
  }
  // Regular grandfathered tags also match the langtag production; either
  // reading is well formed.
  for (std::string_view input :
       {"art-lojban"sv, "cel-gaulish"sv, "no-bok"sv, "no-nyn"sv, "zh-guoyu"sv, "zh-hakka"sv,
        "zh-min"sv, "zh-min-nan"sv, "zh-xiang"sv}) {
    CAPTURE(input);
    CHECK(validate_language(input).ok());
  }
  // Extending an irregular grandfathered tag is not well formed.
  CHECK_FALSE(validate_language("i-klingon-x-foo").ok());
  CHECK_FALSE(validate_language("sgn-BE-FR-x-foo").ok());
}

// [lex.format.language]
TEST_CASE("language: robustness against hostile input", "[language][robustness]") {
  const std::vector<std::string_view> inputs = {
      "\0"sv,
      "en\0"sv,
      "\0en"sv,
      "en-\0US"sv,
      "en-US\0"sv,
      "x-\0"sv,
      "\xff"sv,
      "en-\xff"sv,
      "\x80\x80"sv,
      "en-\xc0\xaf"sv,
      "en-\xe0\x80\xaf"sv,
      "en-\xed\xa0\x80"sv,
      "en-\xe2\x82"sv,
      "\xef\xbd\x85n"sv,  // fullwidth e
      "i-klingon\0"sv,
      "sgn-BE-FR\0"sv,
  };
  for (std::string_view input : inputs) {
    CAPTURE(input);
    CHECK(code_of(validate_language(input)) == "lex.format.language");
    CHECK_FALSE(parse_language(input).ok());
  }
  const std::string huge(1 << 20, 'a');
  CHECK(code_of(validate_language(huge)) == "lex.format.language");
  std::string many_dashes(1 << 20, '-');
  CHECK_FALSE(validate_language(many_dashes).ok());
  // A megabyte of well-formed subtags must not exhaust the stack or time
  // (the result is covered by the next test case).
  std::string huge_private = "x";
  while (huge_private.size() < (1u << 20)) huge_private += "-abcdefgh";
  (void)validate_language(huge_private);
  std::string huge_variants = "en";
  while (huge_variants.size() < (1u << 20)) huge_variants += "-abcde";
  (void)validate_language(huge_variants);
  CHECK_FALSE(validate_language(huge_variants + "-").ok());
}

// [lex.format.language]
TEST_CASE("language: the RFC 5646 grammar has no length limit", "[language]") {
  // Well-formedness is purely the ABNF; long tags are unusual but well formed
  // (RFC 5646 section 4.4.1 only sets a minimum that must be supported).
  std::string long_private = "x";
  while (long_private.size() < 1000) long_private += "-abcdefgh";
  CHECK(validate_language(long_private).ok());
  std::string long_extensions = "en";
  while (long_extensions.size() < 1000) long_extensions += "-a-bcdefghi";
  CHECK(validate_language(long_extensions).ok());
}
