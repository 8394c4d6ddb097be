// Unit tests for handles: syntax error codes, normalization and the
// registration/resolution checks.
// Spec: https://atproto.com/specs/handle
#include "atproto/syntax/handle.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::check_handle_usable;
using atproto::syntax::HandleUsePolicy;
using atproto::syntax::has_disallowed_tld;
using atproto::syntax::normalize_handle;
using atproto::syntax::parse_handle;
using atproto::syntax::validate_handle;

// [handle.syntax.segments] [handle.syntax.segment-chars] [handle.syntax.tld-not-digit]
TEST_CASE("handle: spec examples of valid syntax", "[handle]") {
  for (std::string_view input :
       {"jay.bsky.social"sv, "8.cn"sv, "name.t--t"sv, "XX.LCS.MIT.EDU"sv, "a.co"sv,
        "xn--notarealidn.com"sv, "xn--fiqa61au8b7zsevnm8ak20mc4a87e.xn--fiqs8s"sv,
        "xn--ls8h.test"sv, "example.t"sv, "a.b.c.d.e.f.g"sv, "0.a"sv, "a-b.c-d"sv, "1a.b2"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_handle(input)) == "<ok>");
  }
}

// [handle.syntax.segment-chars]
TEST_CASE("handle: characters outside letters, digits and hyphen", "[handle]") {
  for (std::string_view input :
       {"jo@hn.test"sv, "john_doe.test"sv, "john:3000.test"sv, "john.te$t"sv, "a/b.test"sv,
        "a+b.test"sv, "a*b.test"sv, "@john.test"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_handle(input)) == "handle.syntax.segment-chars");
  }
}

// [handle.syntax.ascii]
TEST_CASE("handle: non-ASCII input is rejected as such", "[handle]") {
  for (std::string_view input : {"\xf0\x9f\x92\xa9.test"sv, "www.mase\xc5\x82kowski.pl.com"sv,
                                 "caf\xc3\xa9.com"sv, "a.b\xff"sv, "\x80.test"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_handle(input)) == "handle.syntax.ascii");
  }
}

// [handle.syntax.ascii] [handle.syntax.segment-chars]
TEST_CASE("handle: whitespace, control bytes and NUL are rejected", "[handle]") {
  for (std::string_view input :
       {" john.test"sv, "john.test "sv, "john .test"sv, "john.test\n"sv, "\tjohn.test"sv,
        "john\0.test"sv, "john.test\0"sv, "\0john.test"sv, "john\x7f.test"sv, "jo\x01hn.test"sv}) {
    CAPTURE(input);
    CHECK_THAT(code_of(validate_handle(input)),
               Equals("handle.syntax.ascii") || Equals("handle.syntax.segment-chars"));
  }
}

// [handle.syntax.segments] [handle.syntax.segment-length]
TEST_CASE("handle: bare TLD, empty labels and trailing dots", "[handle]") {
  CHECK(code_of(validate_handle("org")) == "handle.syntax.segments");
  CHECK(code_of(validate_handle("localhost")) == "handle.syntax.segments");
  for (std::string_view input :
       {"john..test"sv, ".john.test"sv, "name.org."sv, "."sv, ".."sv, "a..b"sv}) {
    CAPTURE(input);
    CHECK_THAT(code_of(validate_handle(input)),
               Equals("handle.syntax.segments") || Equals("handle.syntax.segment-length"));
  }
  CHECK_THAT(code_of(validate_handle("")), StartsWith("handle.syntax."));
}

// [handle.syntax.segment-length]
TEST_CASE("handle: label length 1..63", "[handle]") {
  const std::string label63(63, 'a');
  const std::string label64(64, 'a');
  CHECK(validate_handle(label63 + ".com").ok());
  CHECK(validate_handle("com." + label63).ok());
  CHECK(code_of(validate_handle(label64 + ".com")) == "handle.syntax.segment-length");
  CHECK(code_of(validate_handle("com." + label64)) == "handle.syntax.segment-length");
  CHECK(code_of(validate_handle("a." + label64 + ".com")) == "handle.syntax.segment-length");
}

// [handle.syntax.segment-hyphen]
TEST_CASE("handle: labels do not start or end with a hyphen", "[handle]") {
  for (std::string_view input : {"xn--bcher-.tld"sv, "-john.test"sv, "john-.test"sv, "john.-test"sv,
                                 "john.test-"sv, "-.test"sv, "a.-"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_handle(input)) == "handle.syntax.segment-hyphen");
  }
  CHECK(validate_handle("jo-hn.te-st").ok());
  CHECK(validate_handle("j--n.t--t").ok());
}

// [handle.syntax.tld-not-digit]
TEST_CASE("handle: the TLD does not start with a digit (no IPv4)", "[handle]") {
  for (std::string_view input :
       {"john.0"sv, "cn.8"sv, "127.0.0.1"sv, "192.168.0.1"sv, "john.0com"sv, "a.9-a"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_handle(input)) == "handle.syntax.tld-not-digit");
  }
  CHECK(validate_handle("john.com0").ok());
  CHECK(validate_handle("0.com").ok());
}

// [handle.syntax.segment-chars] [handle.syntax.segments]
TEST_CASE("handle: IPv6 addresses are not handles", "[handle]") {
  for (std::string_view input : {"::1"sv, "2001:db8::1"sv, "[::1]"sv, "fe80::1.com"sv}) {
    CAPTURE(input);
    CHECK_FALSE(validate_handle(input).ok());
  }
}

// [handle.syntax.max-length]
TEST_CASE("handle: at most 253 characters", "[handle]") {
  const std::string max = handle_of_length(253);
  REQUIRE(max.size() == 253);
  CHECK(validate_handle(max).ok());
  const std::string over = handle_of_length(254);
  REQUIRE(over.size() == 254);
  CHECK(code_of(validate_handle(over)) == "handle.syntax.max-length");
  CHECK(code_of(validate_handle(handle_of_length(1000))) == "handle.syntax.max-length");
  CHECK(atproto::syntax::kHandleMaxLength == 253);
}

// [handle.normalize.lowercase]
TEST_CASE("handle: parse_handle validates and lowercases", "[handle]") {
  auto parsed = parse_handle("XX.LCS.MIT.EDU");
  REQUIRE(parsed.ok());
  CHECK(*parsed == "xx.lcs.mit.edu");
  CHECK(parse_handle("BlueskyWeb.xyz").value() == "blueskyweb.xyz");
  CHECK(parse_handle("already.lower").value() == "already.lower");
  CHECK(parse_handle("Xn--LS8H.Test").value() == "xn--ls8h.test");
  CHECK(code_of(parse_handle("john.0")) == "handle.syntax.tld-not-digit");
  CHECK(code_of(parse_handle("jo@hn.test")) == "handle.syntax.segment-chars");
  CHECK(code_of(parse_handle("org")) == "handle.syntax.segments");
}

// [handle.normalize.lowercase]
TEST_CASE("handle: normalize_handle lowercases ASCII only", "[handle]") {
  CHECK(normalize_handle("BlueskyWeb.xyz") == "blueskyweb.xyz");
  CHECK(normalize_handle("ABCDEFGHIJKLMNOPQRSTUVWXYZ.COM") == "abcdefghijklmnopqrstuvwxyz.com");
  CHECK(normalize_handle("a-0.b-9") == "a-0.b-9");
  CHECK(normalize_handle("") == "");
}

// [handle.syntax.reserved-tld-passes]
TEST_CASE("handle: reserved and disallowed TLDs pass syntax validation", "[handle]") {
  for (std::string_view input :
       {"2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"sv, "laptop.local"sv,
        "blah.arpa"sv, "x.alt"sv, "x.example"sv, "x.internal"sv, "foo.invalid"sv,
        "handle.invalid"sv, "my.localhost"sv, "example.test"sv, "LAPTOP.LOCAL"sv}) {
    CAPTURE(input);
    CHECK(validate_handle(input).ok());
    CHECK(parse_handle(input).ok());
  }
}

// [handle.disallowed-tld]
TEST_CASE("handle: has_disallowed_tld", "[handle]") {
  for (std::string_view input :
       {"x.alt"sv, "x.arpa"sv, "x.example"sv, "x.internal"sv, "x.invalid"sv, "x.local"sv,
        "x.localhost"sv, "x.onion"sv, "a.b.c.onion"sv, "x.ONION"sv, "X.Local"sv, "x.ArPa"sv}) {
    CAPTURE(input);
    CHECK(has_disallowed_tld(input));
  }
  for (std::string_view input :
       {"example.com"sv, "example.test"sv, "onion.com"sv, "local.host"sv, "x.notonion"sv,
        "x.onions"sv, "x.locals"sv, "x.alternative"sv, "arpa.net"sv, "x.xn--onion"sv}) {
    CAPTURE(input);
    CHECK_FALSE(has_disallowed_tld(input));
  }
}

// [handle.disallowed-tld]
TEST_CASE("handle: check_handle_usable rejects each disallowed TLD", "[handle]") {
  for (std::string_view input :
       {"x.alt"sv, "blah.arpa"sv, "x.example"sv, "x.internal"sv, "foo.invalid"sv, "laptop.local"sv,
        "my.localhost"sv, "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"sv,
        "x.ONION"sv, "x.Onion"sv, "LAPTOP.LOCAL"sv}) {
    CAPTURE(input);
    CHECK(code_of(check_handle_usable(input)) == "handle.disallowed-tld");
    // Allowing .test does not allow anything else.
    CHECK(code_of(check_handle_usable(input, HandleUsePolicy{true})) == "handle.disallowed-tld");
  }
  CHECK(check_handle_usable("jay.bsky.social").ok());
  CHECK(check_handle_usable("onion.com").ok());
}

// [handle.invalid-value] [handle.disallowed-tld]
TEST_CASE("handle: the handle.invalid value is refused where a handle is needed", "[handle]") {
  CHECK(atproto::syntax::kInvalidHandle == "handle.invalid");
  CHECK(validate_handle(atproto::syntax::kInvalidHandle).ok());
  CHECK(code_of(check_handle_usable("handle.invalid")) == "handle.invalid-value");
  CHECK(code_of(check_handle_usable("handle.invalid", HandleUsePolicy{true})) ==
        "handle.invalid-value");
  CHECK_THAT(code_of(check_handle_usable("Handle.INVALID")),
             Equals("handle.invalid-value") || Equals("handle.disallowed-tld"));
}

// [handle.test-tld]
TEST_CASE("handle: .test only with the development policy", "[handle]") {
  CHECK(code_of(check_handle_usable("example.test")) == "handle.test-tld");
  CHECK(code_of(check_handle_usable("EXAMPLE.TEST")) == "handle.test-tld");
  CHECK(code_of(check_handle_usable("xn--ls8h.test")) == "handle.test-tld");
  HandleUsePolicy dev;
  dev.allow_test_tld = true;
  CHECK(check_handle_usable("example.test", dev).ok());
  CHECK(check_handle_usable("EXAMPLE.TEST", dev).ok());
  CHECK(check_handle_usable("example.com", dev).ok());
  CHECK(check_handle_usable("test.example.com").ok());
  CHECK(check_handle_usable("example.tests").ok());
}

// [handle.practical-length] [handle.syntax.max-length]
TEST_CASE("handle: 244 characters is the practical registration limit", "[handle]") {
  CHECK(atproto::syntax::kHandleMaxRegistrableLength == 244);
  const std::string h244 = handle_of_length(244);
  const std::string h245 = handle_of_length(245);
  REQUIRE(h244.size() == 244);
  REQUIRE(h245.size() == 245);
  CHECK(validate_handle(h245).ok());
  CHECK(check_handle_usable(h244).ok());
  CHECK(code_of(check_handle_usable(h245)) == "handle.practical-length");
  CHECK(code_of(check_handle_usable(handle_of_length(253))) == "handle.practical-length");
  // Syntax errors come before usability checks.
  CHECK(code_of(check_handle_usable(handle_of_length(254))) == "handle.syntax.max-length");
}

// [handle.syntax.tld-not-digit] [handle.syntax.segment-chars] [handle.syntax.ascii]
TEST_CASE("handle: check_handle_usable reports syntax errors first", "[handle]") {
  CHECK(code_of(check_handle_usable("john.0")) == "handle.syntax.tld-not-digit");
  CHECK(code_of(check_handle_usable("jo@hn.local")) == "handle.syntax.segment-chars");
  CHECK(code_of(check_handle_usable("caf\xc3\xa9.onion")) == "handle.syntax.ascii");
  CHECK_FALSE(check_handle_usable("").ok());
}

// [handle.syntax.ascii] [handle.syntax.max-length]
TEST_CASE("handle: robustness against hostile input", "[handle][robustness]") {
  const std::vector<std::string_view> inputs = {
      ""sv,
      "\0"sv,
      "a\0.com"sv,
      "a.com\0"sv,
      "\xff"sv,
      "a.c\xffm"sv,
      "\x80\x80.com"sv,
      "\xc0\xaf.com"sv,          // overlong '/'
      "a.\xe0\x80\xaf"sv,        // overlong, 3 bytes
      "\xed\xa0\x80.com"sv,      // UTF-16 surrogate
      "a.\xe2\x82"sv,            // truncated sequence
      "\xf4\x90\x80\x80.com"sv,  // above U+10FFFF
  };
  for (std::string_view input : inputs) {
    CAPTURE(input);
    CHECK_FALSE(validate_handle(input).ok());
    CHECK_FALSE(parse_handle(input).ok());
    CHECK_FALSE(check_handle_usable(input).ok());
    CHECK_FALSE(check_handle_usable(input, HandleUsePolicy{true}).ok());
    (void)has_disallowed_tld(input);
  }
  const std::string huge(1 << 20, 'a');
  CHECK(code_of(validate_handle(huge)) == "handle.syntax.max-length");
  const std::string huge_dotted = handle_of_length(1 << 20);
  CHECK(code_of(validate_handle(huge_dotted)) == "handle.syntax.max-length");
  CHECK_FALSE(check_handle_usable(huge_dotted).ok());
  CHECK_FALSE(has_disallowed_tld(huge));
}
