// Unit tests for record keys: base syntax error codes and the Lexicon record
// key types.
// Spec: https://atproto.com/specs/record-key
#include "atproto/syntax/record_key.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::validate_record_key;
using atproto::syntax::validate_record_key_type;

// [rkey.syntax.chars] [rkey.syntax.length]
TEST_CASE("rkey: spec examples of valid keys", "[rkey]") {
  for (std::string_view input :
       {"3jui7kd54zh2y"sv, "self"sv, "example.com"sv, "~1.2-3_"sv, "dHJ1ZQ"sv, "pre:fix"sv, "_"sv,
        "..."sv, ".a"sv, "a."sv, "-"sv, "~"sv, ":"sv, "did:plc:ewvi7nxzyoun6zhxrhs64oiz"sv,
        "ABCxyz0189"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_record_key(input)) == "<ok>");
  }
}

// [rkey.syntax.chars]
TEST_CASE("rkey: letters, digits and . - _ : ~ only", "[rkey]") {
  for (std::string_view input :
       {"alpha/beta"sv,  "#extra"sv,  "@handle"sv,  "any space"sv, "any+space"sv, "number[3]"sv,
        "number(3)"sv,   "\"quote"sv, "dHJ1ZQ=="sv, "a%20b"sv,     "a?b"sv,       "a\\b"sv,
        "caf\xc3\xa9"sv, "a\tb"sv,    "a,b"sv,      "a*b"sv,       "a!b"sv,       "a$b"sv,
        "a'b"sv,         "a;b"sv,     " "sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_record_key(input)) == "rkey.syntax.chars");
  }
}

// [rkey.syntax.not-dot]
TEST_CASE("rkey: '.' and '..' are not keys", "[rkey]") {
  CHECK(code_of(validate_record_key(".")) == "rkey.syntax.not-dot");
  CHECK(code_of(validate_record_key("..")) == "rkey.syntax.not-dot");
  CHECK(validate_record_key("...").ok());
  CHECK(validate_record_key("._").ok());
}

// [rkey.syntax.length]
TEST_CASE("rkey: 1 to 512 characters", "[rkey]") {
  CHECK(atproto::syntax::kRecordKeyMaxLength == 512);
  CHECK(code_of(validate_record_key("")) == "rkey.syntax.length");
  CHECK(validate_record_key("a").ok());
  CHECK(validate_record_key(std::string(512, 'a')).ok());
  CHECK(code_of(validate_record_key(std::string(513, 'a'))) == "rkey.syntax.length");
  CHECK(code_of(validate_record_key(std::string(1 << 20, 'a'))) == "rkey.syntax.length");
}

// [rkey.type.tid]
TEST_CASE("rkey: type tid", "[rkey]") {
  CHECK(validate_record_key_type("3jzfcijpj2z2a", "tid").ok());
  CHECK(validate_record_key_type("2222222222222", "tid").ok());
  for (std::string_view key : {"self"sv, "zzzzzzzzzzzzz"sv, "3JZFCIJPJ2Z2A"sv, "3jzfcijpj2z2"sv,
                               "3jzfcijpj2z2aa"sv, "3jzf-cij-pj2z-2a"sv, "3jzfcijpj2z21"sv}) {
    CAPTURE(key);
    CHECK(validate_record_key(key).ok());
    CHECK(code_of(validate_record_key_type(key, "tid")) == "rkey.type.tid");
  }
}

// [rkey.type.nsid]
TEST_CASE("rkey: type nsid", "[rkey]") {
  CHECK(validate_record_key_type("com.example.fooBar", "nsid").ok());
  CHECK(validate_record_key_type("app.bsky.feed.post", "nsid").ok());
  for (std::string_view key :
       {"self"sv, "example.com"sv, "com.example.3"sv, "3jzfcijpj2z2a"sv, "com.example.foo-bar"sv}) {
    CAPTURE(key);
    CHECK(validate_record_key(key).ok());
    CHECK(code_of(validate_record_key_type(key, "nsid")) == "rkey.type.nsid");
  }
}

// [rkey.type.literal] [rkey.case-sensitive]
TEST_CASE("rkey: type literal:<value>", "[rkey]") {
  CHECK(validate_record_key_type("self", "literal:self").ok());
  CHECK(validate_record_key_type("profile", "literal:profile").ok());
  CHECK(validate_record_key_type("a:b", "literal:a:b").ok());
  for (std::string_view key : {"other"sv, "Self"sv, "SELF"sv, "self."sv, "sel"sv, "selff"sv}) {
    CAPTURE(key);
    CHECK(code_of(validate_record_key_type(key, "literal:self")) == "rkey.type.literal");
  }
}

// [rkey.type.any] [rkey.syntax.chars] [rkey.syntax.not-dot] [rkey.syntax.length]
TEST_CASE("rkey: type any is the base syntax", "[rkey]") {
  for (std::string_view key :
       {"self"sv, "3jzfcijpj2z2a"sv, "com.example.fooBar"sv, "~1.2-3_"sv, "pre:fix"sv}) {
    CAPTURE(key);
    CHECK(validate_record_key_type(key, "any").ok());
  }
  CHECK(code_of(validate_record_key_type("alpha/beta", "any")) == "rkey.syntax.chars");
  CHECK(code_of(validate_record_key_type(".", "any")) == "rkey.syntax.not-dot");
  CHECK(code_of(validate_record_key_type("", "any")) == "rkey.syntax.length");
  CHECK(code_of(validate_record_key_type(std::string(513, 'a'), "any")) == "rkey.syntax.length");
}

// [rkey.syntax.not-dot] [rkey.syntax.chars] [rkey.type.literal]
TEST_CASE("rkey: every key type also requires the base syntax", "[rkey]") {
  CHECK(code_of(validate_record_key_type(".", "literal:.")) == "rkey.syntax.not-dot");
  CHECK(code_of(validate_record_key_type("..", "literal:..")) == "rkey.syntax.not-dot");
  CHECK(code_of(validate_record_key_type("a/b", "literal:a/b")) == "rkey.syntax.chars");
  CHECK(code_of(validate_record_key_type("", "literal:")) != "<ok>");
  CHECK_FALSE(validate_record_key_type("a b", "nsid").ok());
  CHECK_FALSE(validate_record_key_type("", "tid").ok());
}

// [rkey.case-sensitive]
TEST_CASE("rkey: keys are case-sensitive and not normalized", "[rkey]") {
  CHECK(validate_record_key("SELF").ok());
  CHECK(validate_record_key("Self").ok());
  CHECK(code_of(validate_record_key_type("SELF", "literal:self")) == "rkey.type.literal");
  CHECK(code_of(validate_record_key_type("self", "literal:SELF")) == "rkey.type.literal");
  CHECK(validate_record_key_type("SELF", "literal:SELF").ok());
  CHECK(validate_record_key_type("AbC", "any").ok());
}

// [rkey.type.tid] [rkey.type.nsid] [rkey.type.literal] [rkey.type.any]
TEST_CASE("rkey: unknown key types", "[rkey]") {
  for (std::string_view type : {""sv, "unknown"sv, "TID"sv, "Any"sv, "Literal:self"sv, "literal"sv,
                                "literalself"sv, "tid "sv, " any"sv, "nsid\0"sv, "record-key"sv}) {
    CAPTURE(type);
    CHECK(code_of(validate_record_key_type("self", type)) == "rkey.type.unknown");
  }
}

// [rkey.syntax.chars] [rkey.syntax.length]
TEST_CASE("rkey: robustness against hostile input", "[rkey][robustness]") {
  const std::vector<std::string_view> inputs = {
      "\0"sv,           "self\0"sv,   "\0self"sv,           "se\0lf"sv,
      "\xff"sv,         "self\x80"sv, "\xc0\xaf"sv,         "\xe0\x80\xaf"sv,
      "\xed\xa0\x80"sv, "\xe2\x82"sv, "\xf4\x90\x80\x80"sv, "\x7f"sv,
  };
  for (std::string_view input : inputs) {
    CAPTURE(input);
    CHECK(code_of(validate_record_key(input)) == "rkey.syntax.chars");
    for (std::string_view type : {"any"sv, "tid"sv, "nsid"sv, "literal:self"sv}) {
      CHECK_FALSE(validate_record_key_type(input, type).ok());
    }
  }
  CHECK_THAT(code_of(validate_record_key("")), StartsWith("rkey.syntax."));
  const std::string huge(1 << 20, 'a');
  for (std::string_view type : {"any"sv, "tid"sv, "nsid"sv, "literal:self"sv}) {
    CHECK_FALSE(validate_record_key_type(huge, type).ok());
  }
  CHECK_FALSE(validate_record_key_type("self", std::string("literal:") + huge).ok());
  CHECK(validate_record_key_type(std::string(512, 'a'),
                                 std::string("literal:") + std::string(512, 'a'))
            .ok());
}
