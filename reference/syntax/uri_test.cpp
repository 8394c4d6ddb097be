// Unit tests for the Lexicon uri format: an absolute RFC 3986 URI of at most
// 8 KiB.
// Spec: https://atproto.com/specs/lexicon#uri and RFC 3986 section 3
#include "atproto/syntax/uri.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::validate_uri;

// [lex.format.uri]
TEST_CASE("uri: absolute URIs of any scheme", "[uri]") {
  for (std::string_view input :
       {"https://example.com"sv,
        "https://example.com/"sv,
        "http://example.com:8080/a/b?c=d#e"sv,
        "did:plc:ewvi7nxzyoun6zhxrhs64oiz"sv,
        "did:web:example.com"sv,
        "at://foo.com/com.example.foo/123"sv,
        "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz"sv,
        "ipld://bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"sv,
        "wss://relay.example.com/xrpc/com.atproto.sync.subscribeRepos"sv,
        "dns:example.com"sv,
        "mailto:alice@example.com"sv,
        "urn:isbn:0451450523"sv,
        "a:b"sv,
        "h+t-t.p:x"sv,
        "HTTPS://EXAMPLE.COM"sv,
        "https://example.com/%20%2F"sv,
        "http://[::1]:8080/"sv,
        "http://[2001:db8::7]/c=GB?objectClass?one"sv,
        "http://192.168.0.1/"sv,
        "https://user:pass@example.com/"sv,
        "https://example.com/a?b=c&d=e;f#g/h?i"sv,
        "file:///etc/hosts"sv,
        "https://example.com/~user/a_b-c.d!$&'()*+,;=:@"sv,
        "tel:+1-816-555-1212"sv,
        "news:comp.infosystems.www.servers.unix"sv,
        "https://example.com?"sv,
        "https://example.com#"sv,
        "https://example.com:/"sv,
        "x:/"sv,
        "x://"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_uri(input)) == "<ok>");
  }
}

// [lex.format.uri]
TEST_CASE("uri: not an absolute URI", "[uri]") {
  for (std::string_view input : {""sv,
                                 "example.com"sv,
                                 "/path/only"sv,
                                 "//example.com"sv,
                                 "://example.com"sv,
                                 ":"sv,
                                 "1http://example.com"sv,
                                 "+x:y"sv,
                                 "ht tp://example.com"sv,
                                 "ht_tp://example.com"sv,
                                 "https:"sv,
                                 "did:"sv,
                                 "https://exa mple.com"sv,
                                 "https://example.com/a b"sv,
                                 "https://example.com/\x7f"sv,
                                 "https://exa\nmple.com"sv,
                                 "https://example.com/\t"sv,
                                 " https://example.com"sv,
                                 "https://example.com "sv,
                                 "https://example.com/a\"b"sv,
                                 "https://example.com/<a>"sv,
                                 "https://example.com/a\\b"sv,
                                 "https://example.com/{x}"sv,
                                 "https://example.com/a^b"sv,
                                 "https://example.com/a`b"sv,
                                 "https://example.com/a|b"sv,
                                 "https://example.com/%zz"sv,
                                 "https://example.com/%2"sv,
                                 "https://example.com/%"sv,
                                 "https://example.com?q=%g1"sv,
                                 "https://example.com#%"sv,
                                 "https://example.com#a#b"sv,
                                 "https://example.com/[x]"sv,
                                 "https://exa[mple.com/"sv,
                                 "http://[::1/"sv,
                                 "http://example.com:abc/"sv,
                                 "https://\xe4\xbe\x8b\xe3\x81\x88.jp"sv,
                                 "https://example.com/caf\xc3\xa9"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_uri(input)) == "lex.format.uri");
  }
}

// [lex.format.uri]
TEST_CASE("uri: at most 8 KiB", "[uri]") {
  CHECK(atproto::syntax::kUriMaxLength == 8192);
  const std::string prefix = "https://example.com/";
  const std::string max = prefix + std::string(8192 - prefix.size(), 'a');
  REQUIRE(max.size() == 8192);
  CHECK(validate_uri(max).ok());
  CHECK(code_of(validate_uri(max + "a")) == "lex.format.uri");
  CHECK(code_of(validate_uri(prefix + std::string(1 << 20, 'a'))) == "lex.format.uri");
}

// [lex.format.uri]
TEST_CASE("uri: robustness against hostile input", "[uri][robustness]") {
  const std::vector<std::string_view> inputs = {
      "\0"sv,
      "https://example.com\0"sv,
      "https://exa\0mple.com"sv,
      "https:\0"sv,
      "\0https://example.com"sv,
      "https://example.com/\xff"sv,
      "https://example.com/\x80"sv,
      "https://example.com/\xc0\xaf"sv,
      "https://example.com/\xe0\x80\xaf"sv,
      "https://example.com/\xed\xa0\x80"sv,
      "https://example.com/\xe2\x82"sv,
      "\xff:x"sv,
      "h\xc3\xa9:x"sv,
  };
  for (std::string_view input : inputs) {
    CAPTURE(input);
    CHECK(code_of(validate_uri(input)) == "lex.format.uri");
  }
  CHECK_FALSE(validate_uri(std::string(1 << 20, 'a')).ok());
  CHECK_FALSE(validate_uri(std::string(1 << 20, ':')).ok());
  CHECK_FALSE(validate_uri("http://[" + std::string(1 << 20, ':')).ok());
  CHECK_FALSE(validate_uri(std::string(1 << 20, '%')).ok());
}
