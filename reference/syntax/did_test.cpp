// Unit tests for DIDs: generic syntax, did:plc and did:web method rules, and
// the "supported for registration/resolution" check.
// Spec: https://atproto.com/specs/did and https://web.plc.directory/spec/v0.1/did-plc
#include "atproto/syntax/did.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::check_did_percent_encoding;
using atproto::syntax::check_did_supported;
using atproto::syntax::Did;
using atproto::syntax::DidWebPolicy;
using atproto::syntax::parse_did;
using atproto::syntax::validate_did;
using atproto::syntax::validate_did_plc;
using atproto::syntax::validate_did_web;

namespace {

constexpr std::string_view kPlc = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

DidWebPolicy dev_policy() {
  DidWebPolicy policy;
  policy.allow_localhost = true;
  return policy;
}

}  // namespace

// [did.syntax.chars] [did.syntax.method] [did.syntax.identifier]
TEST_CASE("did: spec examples of valid generic syntax", "[did]") {
  for (std::string_view input :
       {kPlc, "did:web:user.example.com"sv, "did:method:val:two"sv, "did:m:v"sv,
        "did:method::::val"sv, "did:method:-:_:."sv,
        "did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N"sv, "did:web:localhost%3A3000"sv,
        "did:example:%41%42"sv, "did:x:Mixed.Case_ok-1"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_did(input)) == "<ok>");
  }
}

// [did.syntax.prefix] [did.case.reject-invalid]
TEST_CASE("did: the prefix is lowercase did:", "[did]") {
  for (std::string_view input :
       {"DID:method:val"sv, "Did:plc:ewvi7nxzyoun6zhxrhs64oiz"sv, "dId:web:example.com"sv,
        "di:method:val"sv, "did-method-val"sv, "xdid:method:val"sv, "method:val"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_did(input)) == "did.syntax.prefix");
  }
  CHECK_THAT(code_of(validate_did("")), StartsWith("did.syntax."));
  CHECK_THAT(code_of(validate_did("did")), StartsWith("did.syntax."));
}

// [did.syntax.method] [did.case.reject-invalid]
TEST_CASE("did: the method is one or more lowercase letters", "[did]") {
  for (std::string_view input :
       {"did:METHOD:val"sv, "did:PLC:ewvi7nxzyoun6zhxrhs64oiz"sv, "did:Web:example.com"sv,
        "did:m123:val"sv, "did:1:val"sv, "did::val"sv, "did:me-thod:val"sv, "did:me_thod:val"sv,
        "did:me.thod:val"sv, "did:me%41:val"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_did(input)) == "did.syntax.method");
  }
  // No colon after the method at all.
  CHECK_THAT(code_of(validate_did("did:method")),
             Equals("did.syntax.method") || Equals("did.syntax.identifier"));
  CHECK_THAT(code_of(validate_did("did:")),
             Equals("did.syntax.method") || Equals("did.syntax.identifier"));
}

// [did.syntax.identifier]
TEST_CASE("did: the identifier is non-empty and ends neither in ':' nor '%'", "[did]") {
  for (std::string_view input : {"did:method:"sv, "did:method:val:"sv, "did:method:val%"sv,
                                 "did:method::"sv, "did:method:%"sv, "did:web:example.com:"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_did(input)) == "did.syntax.identifier");
  }
}

// [did.syntax.chars]
TEST_CASE("did: only letters, digits and . _ : % - are allowed", "[did]") {
  for (std::string_view input :
       {"did:method:val two"sv, "did:method:val+two"sv, "did:method:val@two"sv,
        "did:method:v\xc3\xa1l"sv, "did:method:val~"sv, "did:method:val!"sv,
        "did:method:val\ttwo"sv, "did:method:val\0"sv, "did:method:\xff"sv, "did:method:val,two"sv,
        "did:method:val=two"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_did(input)) == "did.syntax.chars");
  }
}

// [did.syntax.no-query-fragment] [did.syntax.chars]
TEST_CASE("did: no path, query or fragment", "[did]") {
  for (std::string_view input :
       {"did:method:val/two"sv, "did:method:val?two"sv, "did:method:val#two"sv,
        "did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto"sv, "did:web:example.com/path"sv,
        "did:web:example.com?x=1"sv}) {
    CAPTURE(input);
    CHECK_THAT(code_of(validate_did(input)),
               Equals("did.syntax.no-query-fragment") || Equals("did.syntax.chars"));
  }
}

// [did.syntax.max-length]
TEST_CASE("did: at most 2048 characters", "[did]") {
  CHECK(atproto::syntax::kDidMaxLength == 2048);
  const std::string prefix = "did:method:";
  const std::string max = prefix + std::string(2048 - prefix.size(), 'a');
  CHECK(validate_did(max).ok());
  CHECK(code_of(validate_did(max + "a")) == "did.syntax.max-length");
  CHECK(code_of(validate_did(prefix + std::string(1 << 20, 'a'))) == "did.syntax.max-length");
}

// [did.syntax.method] [did.syntax.identifier]
TEST_CASE("did: parse_did splits method and identifier", "[did]") {
  auto plc = parse_did(kPlc);
  REQUIRE(plc.ok());
  CHECK(plc->method == "plc");
  CHECK(plc->identifier == "ewvi7nxzyoun6zhxrhs64oiz");
  CHECK(plc->to_string() == kPlc);

  auto multi = parse_did("did:method:val:two");
  REQUIRE(multi.ok());
  CHECK(multi->method == "method");
  CHECK(multi->identifier == "val:two");

  auto colons = parse_did("did:method::::val");
  REQUIRE(colons.ok());
  CHECK(colons->identifier == ":::val");
  CHECK(colons->to_string() == "did:method::::val");

  auto web = parse_did("did:web:Example.COM");
  REQUIRE(web.ok());
  CHECK(web->method == "web");
  CHECK(web->identifier == "Example.COM");  // case-sensitive: not lowercased

  CHECK(*parse_did("did:m:v") == Did{"m", "v"});
  CHECK(Did{"web", "localhost%3A3000"}.to_string() == "did:web:localhost%3A3000");
  CHECK(code_of(parse_did("did:METHOD:val")) == "did.syntax.method");
  CHECK(code_of(parse_did("did:method:")) == "did.syntax.identifier");
}

// [did.plc.syntax]
TEST_CASE("did: did:plc is 24 lowercase base32 characters", "[did]") {
  CHECK(validate_did_plc(kPlc).ok());
  CHECK(validate_did_plc("did:plc:yk4dd2qkboz2yv6tpubpc6co").ok());
  CHECK(validate_did_plc("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa").ok());
  CHECK(validate_did_plc("did:plc:234567234567234567234567").ok());
  for (std::string_view input : {"did:plc:ewvi7nxzyoun6zhxrhs64oi"sv,      // 23
                                 "did:plc:ewvi7nxzyoun6zhxrhs64oizz"sv,    // 25
                                 "did:plc:ewvi7nxzyoun6zhxrhs64oi0"sv,     // 0 is not base32
                                 "did:plc:ewvi7nxzyoun6zhxrhs64oi1"sv,     // 1
                                 "did:plc:ewvi7nxzyoun6zhxrhs64oi8"sv,     // 8
                                 "did:plc:ewvi7nxzyoun6zhxrhs64oi9"sv,     // 9
                                 "did:plc:ewvi7nxzyoun6zhxrhs64o-z"sv,     //
                                 "did:plc:ewvi7nxzyoun6zhxrhs64o:z"sv,     //
                                 "did:plc:ewvi7nxzyoun6zhxrhs6%4Fz"sv}) {  //
    CAPTURE(input);
    CHECK(code_of(validate_did_plc(input)) == "did.plc.syntax");
  }
  // Uppercase is rejected, not silently lowercased.
  for (std::string_view input :
       {"did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ"sv, "did:plc:ewvi7nxzyoun6zhxrhs64oiZ"sv}) {
    CAPTURE(input);
    CHECK_THAT(code_of(validate_did_plc(input)),
               Equals("did.plc.syntax") || Equals("did.case.reject-invalid"));
    CHECK_THAT(code_of(check_did_supported(input)),
               Equals("did.plc.syntax") || Equals("did.case.reject-invalid"));
  }
  CHECK_FALSE(validate_did_plc("did:web:example.com").ok());
  CHECK_FALSE(validate_did_plc("did:plc:").ok());
  CHECK_FALSE(validate_did_plc("did:PLC:ewvi7nxzyoun6zhxrhs64oiz").ok());
  CHECK_FALSE(validate_did_plc("").ok());
}

// [did.web.hostname-only] [did.web.disallowed-tld] [did.web.localhost-port]
TEST_CASE("did: did:web hostnames", "[did]") {
  CHECK(validate_did_web("did:web:example.com").ok());
  CHECK(validate_did_web("did:web:user.example.com").ok());
  CHECK(validate_did_web("did:web:xn--ls8h.example").ok() == false);  // .example disallowed

  for (std::string_view input : {"did:web:example.com:path"sv, "did:web:example.com:u:alice"sv,
                                 "did:web:localhost:path"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_did_web(input, dev_policy())) == "did.web.hostname-only");
  }
  for (std::string_view input :
       {"did:web:laptop.local"sv, "did:web:blah.arpa"sv, "did:web:x.onion"sv, "did:web:x.alt"sv,
        "did:web:x.internal"sv, "did:web:x.invalid"sv, "did:web:x.example"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_did_web(input)) == "did.web.disallowed-tld");
  }
  // Not a hostname at all.
  for (std::string_view input :
       {"did:web:john.0"sv, "did:web:127.0.0.1"sv, "did:web:-x.com"sv, "did:web:a_b.com"sv,
        "did:web:com"sv, "did:web:"sv, "did:web:example..com"sv, "did:plc:example.com"sv}) {
    CAPTURE(input);
    CHECK_FALSE(validate_did_web(input, dev_policy()).ok());
  }
}

// [did.web.localhost-port]
TEST_CASE("did: did:web ports only on localhost, only in development", "[did]") {
  CHECK(code_of(validate_did_web("did:web:example.com%3A3000")) == "did.web.localhost-port");
  CHECK(code_of(validate_did_web("did:web:example.com%3A3000", dev_policy())) ==
        "did.web.localhost-port");
  CHECK(code_of(validate_did_web("did:web:sub.localhost%3A3000", dev_policy())) != "<ok>");
  CHECK_FALSE(validate_did_web("did:web:localhost%3A3000").ok());
  CHECK_FALSE(validate_did_web("did:web:localhost").ok());
  CHECK(validate_did_web("did:web:localhost%3A3000", dev_policy()).ok());
  CHECK(validate_did_web("did:web:localhost", dev_policy()).ok());
  // A port is digits.
  CHECK_FALSE(validate_did_web("did:web:localhost%3Aabc", dev_policy()).ok());
  CHECK_FALSE(validate_did_web("did:web:localhost%3A", dev_policy()).ok());
  CHECK_FALSE(validate_did_web("did:web:localhost%2F3000", dev_policy()).ok());
}

// [did.method.blessed] [did.distinguish-failures]
TEST_CASE("did: check_did_supported accepts did:plc and did:web only", "[did]") {
  CHECK(check_did_supported(kPlc).ok());
  CHECK(check_did_supported("did:web:example.com").ok());
  CHECK(check_did_supported("did:web:user.example.com").ok());
  for (std::string_view input :
       {"did:method:val"sv, "did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N"sv,
        "did:m:v"sv, "did:plcx:ewvi7nxzyoun6zhxrhs64oiz"sv, "did:webs:example.com"sv,
        "did:ion:abc"sv}) {
    CAPTURE(input);
    CHECK(validate_did(input).ok());                                     // valid syntax ...
    CHECK(code_of(check_did_supported(input)) == "did.method.blessed");  // ... unsupported
  }
  // Invalid syntax is reported as such, not as an unsupported method.
  CHECK(code_of(check_did_supported("did:METHOD:val")) == "did.syntax.method");
  CHECK(code_of(check_did_supported("DID:plc:ewvi7nxzyoun6zhxrhs64oiz")) == "did.syntax.prefix");
  CHECK(code_of(check_did_supported("did:method:")) == "did.syntax.identifier");
  CHECK_THAT(code_of(check_did_supported("did:plc:abc/def")),
             Equals("did.syntax.no-query-fragment") || Equals("did.syntax.chars"));
}

// [did.plc.syntax] [did.web.hostname-only] [did.web.disallowed-tld] [did.web.localhost-port]
TEST_CASE("did: check_did_supported applies the method rules", "[did]") {
  CHECK(code_of(check_did_supported("did:plc:ewvi7nxzyoun6zhxrhs64oi")) == "did.plc.syntax");
  CHECK(code_of(check_did_supported("did:plc:ewvi7nxzyoun6zhxrhs64oizz")) == "did.plc.syntax");
  CHECK(code_of(check_did_supported("did:plc:ewvi7nxzyoun6zhxrhs64oi1")) == "did.plc.syntax");
  CHECK(code_of(check_did_supported("did:web:example.com:path")) == "did.web.hostname-only");
  CHECK(code_of(check_did_supported("did:web:laptop.local")) == "did.web.disallowed-tld");
  CHECK(code_of(check_did_supported("did:web:example.com%3A3000")) == "did.web.localhost-port");
  CHECK(code_of(check_did_supported("did:web:example.com%3A3000", dev_policy())) ==
        "did.web.localhost-port");
  CHECK_FALSE(check_did_supported("did:web:localhost%3A3000").ok());
  CHECK(check_did_supported("did:web:localhost%3A3000", dev_policy()).ok());
  CHECK(check_did_supported("did:web:localhost", dev_policy()).ok());
}

// [did.percent-encoding]
TEST_CASE("did: percent-encoding passes syntax but must be well formed to be used", "[did]") {
  CHECK(check_did_percent_encoding("did:web:localhost%3A3000").ok());
  CHECK(check_did_percent_encoding("did:x:a%41b%4a%4F").ok());
  CHECK(check_did_percent_encoding(kPlc).ok());
  for (std::string_view input : {"did:x:a%2"sv, "did:x:a%zz1"sv, "did:x:a%g0b"sv, "did:x:a%0gb"sv,
                                 "did:x:%%41"sv, "did:x:a%-1b"sv, "did:x:a%2:b"sv}) {
    CAPTURE(input);
    CHECK(validate_did(input).ok());  // the generic syntax does not check the encoding
    CHECK(code_of(check_did_percent_encoding(input)) == "did.percent-encoding");
  }
  CHECK(code_of(check_did_percent_encoding("did:x:a%")) == "did.percent-encoding");
  CHECK(code_of(check_did_supported("did:web:localhost%3G3000", dev_policy())) ==
        "did.percent-encoding");
  CHECK(code_of(check_did_supported("did:web:example.com%zz")) == "did.percent-encoding");
}

// [did.syntax.chars] [did.syntax.max-length]
TEST_CASE("did: robustness against hostile input", "[did][robustness]") {
  const std::vector<std::string_view> inputs = {
      ""sv,
      "\0"sv,
      "did:\0:val"sv,
      "did:plc:ewvi7nxzyoun6zhxrhs64oi\0"sv,
      "did:plc:\0wvi7nxzyoun6zhxrhs64oiz"sv,
      "did:web:example.com\0"sv,
      "did:web:\0example.com"sv,
      "did:method:\xff"sv,
      "did:method:\x80"sv,
      "did:method:\xc0\xaf"sv,
      "did:method:\xe0\x80\xaf"sv,
      "did:method:\xed\xa0\x80"sv,
      "did:m\xc3\xa9thod:val"sv,
      "\xff\xfe"sv,
  };
  for (std::string_view input : inputs) {
    CAPTURE(input);
    CHECK_FALSE(validate_did(input).ok());
    CHECK_FALSE(parse_did(input).ok());
    CHECK_FALSE(validate_did_plc(input).ok());
    CHECK_FALSE(validate_did_web(input).ok());
    CHECK_FALSE(validate_did_web(input, dev_policy()).ok());
    CHECK_FALSE(check_did_supported(input).ok());
    CHECK_FALSE(check_did_supported(input, dev_policy()).ok());
    (void)check_did_percent_encoding(input);
  }
  const std::string huge_plc = "did:plc:" + std::string(1 << 20, 'a');
  const std::string huge_web = "did:web:" + std::string(1 << 20, 'a') + ".com";
  const std::string huge_pct = "did:web:" + std::string(1 << 20, '%') + "a";
  for (const std::string& input : {huge_plc, huge_web, huge_pct}) {
    CHECK(code_of(validate_did(input)) == "did.syntax.max-length");
    CHECK_FALSE(validate_did_plc(input).ok());
    CHECK_FALSE(validate_did_web(input).ok());
    CHECK_FALSE(check_did_supported(input).ok());
    (void)check_did_percent_encoding(input);
  }
}
