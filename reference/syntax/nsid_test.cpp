// Unit tests for NSIDs: syntax error codes, components, normalization and
// glob patterns.
// Spec: https://atproto.com/specs/nsid
#include "atproto/syntax/nsid.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::normalize_nsid;
using atproto::syntax::Nsid;
using atproto::syntax::nsid_glob_matches;
using atproto::syntax::parse_nsid;
using atproto::syntax::validate_nsid;
using atproto::syntax::validate_nsid_glob;

// [nsid.syntax.segments] [nsid.authority.chars] [nsid.name.chars]
TEST_CASE("nsid: spec examples of valid syntax", "[nsid]") {
  for (std::string_view input :
       {"com.example.fooBar"sv, "net.users.bob.ping"sv, "a-0.b-1.c"sv, "a.b.c"sv,
        "com.example.fooBarV2"sv, "cn.8.lex.stuff"sv, "com.atproto.sync.getRecord"sv,
        "COM.EXAMPLE.FOOBAR"sv, "com.example.a1"sv, "com.exa-mple.x"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_nsid(input)) == "<ok>");
  }
}

// [nsid.syntax.ascii]
TEST_CASE("nsid: non-ASCII input", "[nsid]") {
  for (std::string_view input : {"com.exa\xf0\x9f\x92\xa9ple.thing"sv, "com.example.f\xc3\xb6o"sv,
                                 "\xc3\xa7om.example.foo"sv, "com.example.foo\xff"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_nsid(input)) == "nsid.syntax.ascii");
  }
}

// [nsid.syntax.segments]
TEST_CASE("nsid: at least three non-empty segments", "[nsid]") {
  for (std::string_view input : {"com.example"sv, "com"sv, "fooBar"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_nsid(input)) == "nsid.syntax.segments");
  }
  for (std::string_view input : {"com..example.foo"sv, ".com.example.foo"sv, "com.example.foo."sv,
                                 "com.example..foo"sv, ".."sv, "..."sv}) {
    CAPTURE(input);
    CHECK_THAT(code_of(validate_nsid(input)), Equals("nsid.syntax.segments") ||
                                                  Equals("nsid.authority.segment-length") ||
                                                  Equals("nsid.name.length"));
  }
  CHECK_THAT(code_of(validate_nsid("")), StartsWith("nsid."));
}

// [nsid.name.chars]
TEST_CASE("nsid: the name is letters and digits, not starting with a digit", "[nsid]") {
  for (std::string_view input :
       {"com.example.3"sv, "com.example.3foo"sv, "com.example.foo-bar"sv, "com.example.foo_bar"sv,
        "com.example.-foo"sv, "com.example.foo*"sv, "com.example.foo bar"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_nsid(input)) == "nsid.name.chars");
  }
  CHECK(validate_nsid("com.example.f00").ok());
}

// [nsid.name.length]
TEST_CASE("nsid: the name is 1 to 63 characters", "[nsid]") {
  CHECK(validate_nsid("com.example." + std::string(63, 'a')).ok());
  CHECK(code_of(validate_nsid("com.example." + std::string(64, 'a'))) == "nsid.name.length");
}

// [nsid.authority.chars]
TEST_CASE("nsid: authority labels are letters, digits, inner hyphens", "[nsid]") {
  for (std::string_view input :
       {"com.exa_mple.foo"sv, "com.-example.foo"sv, "com.example-.foo"sv, "-com.example.foo"sv,
        "com-.example.foo"sv, "com.ex@mple.foo"sv, "com.ex:mple.foo"sv, "com.ex*.foo"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_nsid(input)) == "nsid.authority.chars");
  }
}

// [nsid.authority.tld-not-digit]
TEST_CASE("nsid: the first segment does not start with a digit", "[nsid]") {
  for (std::string_view input : {"3com.example.foo"sv, "0.example.foo"sv, "1a.b.c"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_nsid(input)) == "nsid.authority.tld-not-digit");
  }
  CHECK(validate_nsid("com.8.foo").ok());
  CHECK(validate_nsid("a0.b.c").ok());
}

// [nsid.authority.segment-length]
TEST_CASE("nsid: authority labels are 1 to 63 characters", "[nsid]") {
  const std::string label63(63, 'a');
  const std::string label64(64, 'a');
  CHECK(validate_nsid("com." + label63 + ".foo").ok());
  CHECK(validate_nsid(label63 + ".b.foo").ok());
  CHECK(code_of(validate_nsid("com." + label64 + ".foo")) == "nsid.authority.segment-length");
  CHECK(code_of(validate_nsid(label64 + ".b.foo")) == "nsid.authority.segment-length");
}

// [nsid.authority.max-length] [nsid.syntax.max-length]
TEST_CASE("nsid: authority at most 253, whole NSID at most 317 characters", "[nsid]") {
  CHECK(atproto::syntax::kNsidMaxLength == 317);
  CHECK(atproto::syntax::kNsidAuthorityMaxLength == 253);
  const std::string a253 = authority_of_length(253);
  const std::string a254 = authority_of_length(254);
  REQUIRE(a253.size() == 253);
  REQUIRE(a254.size() == 254);
  CHECK(validate_nsid(a253 + ".foo").ok());
  CHECK(code_of(validate_nsid(a254 + ".foo")) == "nsid.authority.max-length");

  // The longest possible NSID: 253 + '.' + 63.
  const std::string longest = a253 + "." + std::string(63, 'n');
  REQUIRE(longest.size() == 317);
  CHECK(validate_nsid(longest).ok());
  // Anything longer necessarily breaks a component limit as well.
  CHECK_THAT(code_of(validate_nsid(longest + "n")),
             Equals("nsid.syntax.max-length") || Equals("nsid.name.length"));
  CHECK_THAT(code_of(validate_nsid("z" + longest)),
             Equals("nsid.syntax.max-length") || Equals("nsid.authority.max-length"));
  CHECK_THAT(code_of(validate_nsid(authority_of_length(1 << 20) + ".foo")),
             Equals("nsid.syntax.max-length") || Equals("nsid.authority.max-length"));
}

// [nsid.syntax.segments] [nsid.name.case-sensitive]
TEST_CASE("nsid: parse_nsid components", "[nsid]") {
  auto parsed = parse_nsid("com.example.fooBar");
  REQUIRE(parsed.ok());
  CHECK(parsed->segments == std::vector<std::string>{"com", "example", "fooBar"});
  CHECK(parsed->authority_domain() == "example.com");
  CHECK(parsed->name() == "fooBar");
  CHECK(parsed->to_string() == "com.example.fooBar");

  auto nested = parse_nsid("net.users.bob.ping");
  REQUIRE(nested.ok());
  CHECK(nested->segments.size() == 4);
  CHECK(nested->authority_domain() == "bob.users.net");
  CHECK(nested->name() == "ping");
  CHECK(nested->to_string() == "net.users.bob.ping");

  // As written: no case folding on parse.
  auto upper = parse_nsid("COM.Example.FooBar");
  REQUIRE(upper.ok());
  CHECK(upper->authority_domain() == "Example.COM");
  CHECK(upper->name() == "FooBar");
  CHECK(upper->to_string() == "COM.Example.FooBar");

  CHECK(*parse_nsid("a.b.c") == Nsid{{"a", "b", "c"}});
  CHECK_FALSE(*parse_nsid("a.b.c") == *parse_nsid("a.b.C"));
  CHECK(code_of(parse_nsid("com.example")) == "nsid.syntax.segments");
  CHECK(code_of(parse_nsid("com.example.3")) == "nsid.name.chars");
}

// [nsid.authority.normalize] [nsid.name.case-sensitive]
TEST_CASE("nsid: normalization lowercases the authority only", "[nsid]") {
  CHECK(normalize_nsid("COM.Example.fooBar") == "com.example.fooBar");
  CHECK(normalize_nsid("com.example.FooBar") == "com.example.FooBar");
  CHECK(normalize_nsid("Net.USERS.Bob.PING") == "net.users.bob.PING");
  CHECK(normalize_nsid("a-0.B-1.C") == "a-0.b-1.C");
  CHECK(normalize_nsid("com.example.fooBar") == "com.example.fooBar");
  // Names differing only in case stay different.
  CHECK(normalize_nsid("com.example.foo") != normalize_nsid("com.example.Foo"));
}

// [nsid.glob]
TEST_CASE("nsid: glob syntax", "[nsid]") {
  for (std::string_view input :
       {"*"sv, "com.atproto.*"sv, "app.bsky.feed.*"sv, "com.*"sv, "a-0.b-1.*"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_nsid_glob(input)) == "<ok>");
  }
  for (std::string_view input :
       {""sv, "**"sv, ".*"sv, "com.atpro*"sv, "com.*.foo"sv, "com.atproto.**"sv, "*.com"sv,
        "com.atproto*"sv, "com..*"sv, "com.atproto.*.*"sv, "*com.atproto"sv, "com.atproto.* "sv,
        "com.atproto.sync.get*"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_nsid_glob(input)) == "nsid.glob");
  }
  // The prefix before ".*" must itself be well formed.
  for (std::string_view input : {"com.-x.*"sv, "3com.x.*"sv, "c\xc3\xb6m.x.*"sv, "com_x.*"sv}) {
    CAPTURE(input);
    CHECK_FALSE(validate_nsid_glob(input).ok());
  }
}

// [nsid.glob]
TEST_CASE("nsid: glob matching", "[nsid]") {
  CHECK(nsid_glob_matches("*", "com.example.fooBar"));
  CHECK(nsid_glob_matches("*", "app.bsky.feed.post"));
  CHECK(nsid_glob_matches("com.atproto.*", "com.atproto.sync.getRecord"));
  CHECK(nsid_glob_matches("com.atproto.*", "com.atproto.repo.strongRef"));
  CHECK(nsid_glob_matches("com.atproto.*", "com.atproto.a.b.c.d"));
  CHECK(nsid_glob_matches("com.*", "com.atproto.sync.getRecord"));
  CHECK_FALSE(nsid_glob_matches("com.atproto.*", "com.atprotox.sync.getRecord"));
  CHECK_FALSE(nsid_glob_matches("com.atproto.*", "app.bsky.feed.post"));
  CHECK_FALSE(nsid_glob_matches("com.atproto.*", "org.com.atproto.foo"));
  CHECK_FALSE(nsid_glob_matches("app.bsky.feed.*", "app.bsky.actor.profile"));
  // Exact patterns match only themselves.
  CHECK(nsid_glob_matches("app.bsky.feed.post", "app.bsky.feed.post"));
  CHECK_FALSE(nsid_glob_matches("app.bsky.feed.post", "app.bsky.feed.postgate"));
  CHECK_FALSE(nsid_glob_matches("app.bsky.feed.post", "app.bsky.feed.pos"));
  CHECK_FALSE(nsid_glob_matches("app.bsky.feed.post", "app.bsky.feed.Post"));
  // Invalid patterns or NSIDs match nothing.
  CHECK_FALSE(nsid_glob_matches("com.atpro*", "com.atproto.sync.getRecord"));
  CHECK_FALSE(nsid_glob_matches("com.*.getRecord", "com.atproto.getRecord"));
  CHECK_FALSE(nsid_glob_matches("*", "not an nsid"));
  CHECK_FALSE(nsid_glob_matches("com.atproto.*", "com.atproto.3"));
  CHECK_FALSE(nsid_glob_matches("", ""));
}

// [nsid.syntax.ascii] [nsid.syntax.max-length] [nsid.glob]
TEST_CASE("nsid: robustness against hostile input", "[nsid][robustness]") {
  const std::vector<std::string_view> inputs = {
      ""sv,
      "\0"sv,
      "com.example.foo\0"sv,
      "com.exa\0mple.foo"sv,
      "\0com.example.foo"sv,
      "com.example.\xff"sv,
      "com.\x80.foo"sv,
      "com.example.\xc0\xaf"sv,
      "com.example.\xe0\x80\xaf"sv,
      "com.example.\xed\xa0\x80"sv,
      "com.example.fo\xe2\x82"sv,
      "*\0"sv,
      "com.example.*\0"sv,
  };
  for (std::string_view input : inputs) {
    CAPTURE(input);
    CHECK_FALSE(validate_nsid(input).ok());
    CHECK_FALSE(parse_nsid(input).ok());
    CHECK_FALSE(validate_nsid_glob(input).ok());
    CHECK_FALSE(nsid_glob_matches("*", input));
    CHECK_FALSE(nsid_glob_matches(input, "com.example.foo"));
  }
  const std::string huge(1 << 20, 'a');
  const std::string huge_dots = std::string(1 << 20, '.');
  const std::string huge_glob = "com." + std::string(1 << 20, 'a') + ".*";
  for (const std::string& input : {huge, huge_dots, huge_glob}) {
    CHECK_FALSE(validate_nsid(input).ok());
    CHECK_FALSE(validate_nsid_glob(input).ok());
    CHECK_FALSE(nsid_glob_matches(input, "com.example.foo"));
    CHECK_FALSE(nsid_glob_matches("*", input));
  }
}
