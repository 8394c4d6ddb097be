// Unit tests for the Lexicon string format dispatch and the at-identifier
// format.
// Spec: https://atproto.com/specs/lexicon#string-formats
#include "atproto/syntax/format.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/at_identifier.hpp"
#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::kStringFormatNames;
using atproto::syntax::string_format_from_name;
using atproto::syntax::string_format_name;
using atproto::syntax::StringFormat;
using atproto::syntax::validate_at_identifier;
using atproto::syntax::validate_string_format;

namespace {

struct Sample {
  std::string_view format;
  std::string_view valid;
  std::string_view invalid;
  std::string_view invalid_code_prefix;
};

// One valid and one invalid value per format, with the error family the
// invalid one must report.
const std::vector<Sample> kSamples = {
    {"at-identifier", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "john.0", "handle.syntax."},
    {"at-uri", "at://foo.com/com.example.foo/123", "at://foo.com/", "aturi."},
    {"cid", "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a",
     "QmY7Yh4UquoXHLPFo2XbhXkhBvFoPwmQUSa92pxnxjQuPU", "lex.format.cid"},
    {"datetime", "1985-04-12T23:20:50.123Z", "1985-04-12T23:20:50.123", "lex.format.datetime."},
    {"did", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "did:METHOD:val", "did.syntax."},
    {"handle", "jay.bsky.social", "jo@hn.test", "handle.syntax."},
    {"nsid", "com.example.fooBar", "com.example", "nsid."},
    {"tid", "3jzfcijpj2z2a", "3jzfcijpj2z21", "tid.syntax."},
    {"record-key", "self", "alpha/beta", "rkey.syntax."},
    {"uri", "https://example.com/", "example.com", "lex.format.uri"},
    {"language", "pt-BR", "en_US", "lex.format.language"},
};

}  // namespace

// [lex.format.names]
TEST_CASE("format: exactly the eleven format names", "[format]") {
  const std::set<std::string_view> expected = {"at-identifier", "at-uri", "cid",     "datetime",
                                               "did",           "handle", "nsid",    "tid",
                                               "record-key",    "uri",    "language"};
  CHECK(kStringFormatNames.size() == 11);
  CHECK(std::set<std::string_view>(kStringFormatNames.begin(), kStringFormatNames.end()) ==
        expected);
  for (std::string_view name : kStringFormatNames) {
    CAPTURE(name);
    auto format = string_format_from_name(name);
    REQUIRE(format.has_value());
    CHECK(string_format_name(*format) == name);
  }
  CHECK(string_format_from_name("at-identifier") == StringFormat::kAtIdentifier);
  CHECK(string_format_from_name("at-uri") == StringFormat::kAtUri);
  CHECK(string_format_from_name("cid") == StringFormat::kCid);
  CHECK(string_format_from_name("datetime") == StringFormat::kDatetime);
  CHECK(string_format_from_name("did") == StringFormat::kDid);
  CHECK(string_format_from_name("handle") == StringFormat::kHandle);
  CHECK(string_format_from_name("nsid") == StringFormat::kNsid);
  CHECK(string_format_from_name("tid") == StringFormat::kTid);
  CHECK(string_format_from_name("record-key") == StringFormat::kRecordKey);
  CHECK(string_format_from_name("uri") == StringFormat::kUri);
  CHECK(string_format_from_name("language") == StringFormat::kLanguage);
}

// [lex.format.names]
TEST_CASE("format: unknown names", "[format]") {
  for (std::string_view name : {""sv, "DID"sv, "Handle"sv, "datetime "sv, " uri"sv, "url"sv,
                                "at_uri"sv, "aturi"sv, "record_key"sv, "rkey"sv, "cid-link"sv,
                                "string"sv, "date-time"sv, "email"sv, "did\0"sv, "bogus"sv}) {
    CAPTURE(name);
    CHECK_FALSE(string_format_from_name(name).has_value());
    CHECK(code_of(validate_string_format(name, "anything")) == "lex.format.names");
    CHECK(code_of(validate_string_format(name, "")) == "lex.format.names");
  }
}

// [lex.format.names] [lex.format.at-identifier] [lex.format.record-key] [lex.format.tid]
// [lex.format.cid] [lex.format.uri] [lex.format.language]
TEST_CASE("format: dispatch by enum and by name", "[format]") {
  for (const Sample& sample : kSamples) {
    CAPTURE(sample.format, sample.valid, sample.invalid);
    auto format = string_format_from_name(sample.format);
    REQUIRE(format.has_value());
    CHECK(code_of(validate_string_format(*format, sample.valid)) == "<ok>");
    CHECK(code_of(validate_string_format(sample.format, sample.valid)) == "<ok>");
    CHECK_THAT(code_of(validate_string_format(*format, sample.invalid)),
               StartsWith(std::string(sample.invalid_code_prefix)));
    CHECK_THAT(code_of(validate_string_format(sample.format, sample.invalid)),
               StartsWith(std::string(sample.invalid_code_prefix)));
    // Every format rejects the empty string.
    CHECK_FALSE(validate_string_format(*format, "").ok());
  }
}

// [lex.format.expansive]
TEST_CASE("format: identifier formats are expansive", "[format]") {
  // Any DID method passes the did format.
  for (std::string_view did :
       {"did:method:val"sv, "did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N"sv,
        "did:web:laptop.local"sv, "did:web:example.com:path"sv, "did:plc:short"sv}) {
    CAPTURE(did);
    CHECK(validate_string_format(StringFormat::kDid, did).ok());
    CHECK(validate_string_format(StringFormat::kAtIdentifier, did).ok());
    CHECK(validate_string_format(StringFormat::kAtUri, "at://" + std::string(did)).ok());
  }
  // Malformed percent-encoding is not a syntax error for DIDs.
  CHECK(validate_string_format(StringFormat::kDid, "did:x:a%zz").ok());
  CHECK(validate_string_format(StringFormat::kAtIdentifier, "did:x:a%zz").ok());
  // Reserved TLDs and the handle.invalid value pass the handle format.
  for (std::string_view handle :
       {"laptop.local"sv, "blah.arpa"sv, "x.onion"sv, "handle.invalid"sv, "example.test"sv,
        "x.alt"sv, "x.example"sv, "x.internal"sv, "my.localhost"sv}) {
    CAPTURE(handle);
    CHECK(validate_string_format(StringFormat::kHandle, handle).ok());
    CHECK(validate_string_format(StringFormat::kAtIdentifier, handle).ok());
    CHECK(validate_string_format(StringFormat::kAtUri, "at://" + std::string(handle)).ok());
  }
  // Uppercase handles are valid syntax too.
  CHECK(validate_string_format(StringFormat::kHandle, "XX.LCS.MIT.EDU").ok());
  // Handles longer than the practical 244 limit still pass.
  const std::string long_handle = std::string(62, 'a') + "." + std::string(62, 'b') + "." +
                                  std::string(62, 'c') + "." + std::string(62, 'd');
  REQUIRE(long_handle.size() == 251);
  CHECK(validate_string_format(StringFormat::kHandle, long_handle).ok());
}

// [lex.format.at-identifier]
TEST_CASE("format: at-identifier is a DID or a handle", "[format]") {
  CHECK(validate_at_identifier("did:plc:ewvi7nxzyoun6zhxrhs64oiz").ok());
  CHECK(validate_at_identifier("did:web:example.com").ok());
  CHECK(validate_at_identifier("jay.bsky.social").ok());
  CHECK(validate_at_identifier("XX.LCS.MIT.EDU").ok());
  CHECK(validate_at_identifier("handle.invalid").ok());
  // Anything starting with "did:" is judged as a DID.
  CHECK(code_of(validate_at_identifier("did:METHOD:val")) == "did.syntax.method");
  CHECK(code_of(validate_at_identifier("did:method:")) == "did.syntax.identifier");
  CHECK_THAT(code_of(validate_at_identifier("did:method:val#frag")), StartsWith("did.syntax."));
  // Anything else is judged as a handle.
  CHECK(code_of(validate_at_identifier("john.0")) == "handle.syntax.tld-not-digit");
  CHECK(code_of(validate_at_identifier("jo@hn.test")) == "handle.syntax.segment-chars");
  CHECK_THAT(code_of(validate_at_identifier("DID:plc:ewvi7nxzyoun6zhxrhs64oiz")),
             StartsWith("handle.syntax."));
  CHECK_THAT(code_of(validate_at_identifier("did")), StartsWith("handle.syntax."));
  CHECK_THAT(code_of(validate_at_identifier("@jay.bsky.social")), StartsWith("handle.syntax."));
  CHECK_THAT(code_of(validate_at_identifier("at://jay.bsky.social")), StartsWith("handle.syntax."));
  CHECK_FALSE(validate_at_identifier("").ok());
  // The same through the format dispatch.
  CHECK(code_of(validate_string_format("at-identifier", "did:METHOD:val")) == "did.syntax.method");
  CHECK(code_of(validate_string_format("at-identifier", "john.0")) ==
        "handle.syntax.tld-not-digit");
}

// [lex.format.record-key] [rkey.type.any]
TEST_CASE("format: record-key is the general key syntax", "[format]") {
  for (std::string_view key :
       {"self"sv, "3jzfcijpj2z2a"sv, "example.com"sv, "~1.2-3_"sv, "pre:fix"sv, "_"sv}) {
    CAPTURE(key);
    CHECK(validate_string_format(StringFormat::kRecordKey, key).ok());
  }
  CHECK(code_of(validate_string_format(StringFormat::kRecordKey, ".")) == "rkey.syntax.not-dot");
  CHECK(code_of(validate_string_format(StringFormat::kRecordKey, "..")) == "rkey.syntax.not-dot");
  CHECK(code_of(validate_string_format(StringFormat::kRecordKey, "a b")) == "rkey.syntax.chars");
  CHECK(code_of(validate_string_format(StringFormat::kRecordKey, std::string(513, 'a'))) ==
        "rkey.syntax.length");
}

// [lex.format.tid]
TEST_CASE("format: tid follows the TID syntax", "[format]") {
  CHECK(validate_string_format(StringFormat::kTid, "3jzfcijpj2z2a").ok());
  CHECK(validate_string_format(StringFormat::kTid, "2222222222222").ok());
  CHECK(code_of(validate_string_format(StringFormat::kTid, "3jzfcijpj2z21")) ==
        "tid.syntax.charset");
  CHECK(code_of(validate_string_format(StringFormat::kTid, "zzzzzzzzzzzzz")) ==
        "tid.syntax.first-char");
  CHECK(code_of(validate_string_format(StringFormat::kTid, "3jzf-cij-pj2z-2a")) ==
        "tid.syntax.length");
}

// [lex.format.names] [lex.format.expansive]
TEST_CASE("format: robustness of every format against hostile input", "[format][robustness]") {
  const std::vector<std::string> inputs = {
      "",
      std::string("\0", 1),
      std::string("did:plc:ewvi7nxzyoun6zhxrhs64oiz\0", 33),
      std::string("jay.bsky.social\0", 16),
      std::string("1985-04-12T23:20:50.123Z\0", 25),
      std::string("3jzfcijpj2z2\0", 13),
      "\xff",
      "\x80",
      "jay.bsky.socia\xc0\xaf",
      "\xe0\x80\xaf",
      "\xed\xa0\x80",
      "\xe2\x82",
      "\xf4\x90\x80\x80",
      std::string(1 << 20, '\xff'),
      std::string(1 << 20, '\0'),
  };
  for (StringFormat format : {StringFormat::kAtIdentifier, StringFormat::kAtUri, StringFormat::kCid,
                              StringFormat::kDatetime, StringFormat::kDid, StringFormat::kHandle,
                              StringFormat::kNsid, StringFormat::kTid, StringFormat::kRecordKey,
                              StringFormat::kUri, StringFormat::kLanguage}) {
    const std::string_view name = string_format_name(format);
    CAPTURE(name);
    for (const std::string& input : inputs) {
      CAPTURE(input.size());
      CHECK_FALSE(validate_string_format(format, input).ok());
      CHECK_FALSE(validate_string_format(name, input).ok());
    }
  }
  // A megabyte of an otherwise plausible value.
  const std::string huge(1 << 20, 'a');
  for (StringFormat format :
       {StringFormat::kAtIdentifier, StringFormat::kAtUri, StringFormat::kCid,
        StringFormat::kDatetime, StringFormat::kDid, StringFormat::kHandle, StringFormat::kNsid,
        StringFormat::kTid, StringFormat::kRecordKey, StringFormat::kLanguage}) {
    CAPTURE(string_format_name(format));
    CHECK_FALSE(validate_string_format(format, huge).ok());
  }
  // "a" * 1 MiB has no ':' so it is not a URI either.
  CHECK(code_of(validate_string_format(StringFormat::kUri, huge)) == "lex.format.uri");
  CHECK_FALSE(validate_at_identifier(huge).ok());
  CHECK_FALSE(validate_at_identifier("did:" + huge).ok());
}
