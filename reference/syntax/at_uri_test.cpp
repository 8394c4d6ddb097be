// Unit tests for AT URIs: the restricted Lexicon form, its components and
// normalization, and the general syntax with query and fragment.
// Spec: https://atproto.com/specs/at-uri-scheme
#include "atproto/syntax/at_uri.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::AtUri;
using atproto::syntax::normalize_at_uri;
using atproto::syntax::parse_at_uri;
using atproto::syntax::parse_at_uri_general;
using atproto::syntax::validate_at_uri;

namespace {

constexpr std::string_view kPlc = "did:plc:vwzwgnygau7ed7b7wt5ux7y2";

}  // namespace

// [aturi.authority.identifier] [aturi.path.collection] [aturi.path.record-key]
TEST_CASE("aturi: valid restricted AT URIs", "[aturi]") {
  for (std::string_view input :
       {"at://foo.com/com.example.foo/123"sv,
        "at://did:plc:vwzwgnygau7ed7b7wt5ux7y2/app.bsky.feed.post/3k5nobkf2w72g"sv,
        "at://retr0.id/app.bsky.feed.post/3k5nobkf2w72g"sv, "at://foo.com"sv,
        "at://did:plc:vwzwgnygau7ed7b7wt5ux7y2"sv, "at://foo.com/com.example.foo"sv,
        "at://did:method:val:two/com.example.foo/self"sv, "at://foo.com/com.example.foo/~1.2-3_:"sv,
        "at://laptop.local/com.example.foo/self"sv, "at://FOO.COM/COM.EXAMPLE.foo/AbC"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "<ok>");
  }
}

// [aturi.syntax.scheme]
TEST_CASE("aturi: starts with lowercase at://", "[aturi]") {
  for (std::string_view input :
       {"AT://foo.com"sv, "At://foo.com"sv, "https://foo.com"sv, "at:/foo.com"sv, "at:foo.com"sv,
        "at//foo.com"sv, "foo.com/com.example.foo/123"sv, "at:\\\\foo.com"sv, "xat://foo.com"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "aturi.syntax.scheme");
  }
  CHECK_THAT(code_of(validate_at_uri("")),
             Equals("aturi.syntax.scheme") || Equals("aturi.authority.required"));
}

// [aturi.authority.required]
TEST_CASE("aturi: the authority is required", "[aturi]") {
  for (std::string_view input : {"at://"sv, "at:///com.example.foo"sv, "at:///"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "aturi.authority.required");
    CHECK(code_of(parse_at_uri_general(input)) == "aturi.authority.required");
  }
}

// [aturi.authority.no-userinfo]
TEST_CASE("aturi: no userinfo", "[aturi]") {
  for (std::string_view input :
       {"at://user:pass@foo.com"sv, "at://@foo.com"sv, "at://user@foo.com/com.example.foo"sv,
        "at://@did:plc:vwzwgnygau7ed7b7wt5ux7y2"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "aturi.authority.no-userinfo");
    CHECK(code_of(parse_at_uri_general(input)) == "aturi.authority.no-userinfo");
  }
}

// [aturi.authority.identifier] [aturi.authority.no-userinfo]
TEST_CASE("aturi: the restricted authority is a handle or a DID", "[aturi]") {
  for (std::string_view input :
       {"at://computer"sv, "at://john.0"sv, "at://did:METHOD:val"sv, "at://did:method:"sv,
        "at://-foo.com"sv, "at://foo_bar.com/com.example.foo"sv, "at://127.0.0.1"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "aturi.authority.identifier");
  }
  CHECK_THAT(code_of(validate_at_uri("at://example.com:3000")),
             Equals("aturi.authority.identifier") || Equals("aturi.authority.no-userinfo"));
}

// [aturi.path.no-trailing-slash]
TEST_CASE("aturi: no trailing or doubled slashes", "[aturi]") {
  for (std::string_view input :
       {"at://foo.com/"sv, "at://foo.com/com.example.foo/"sv, "at://foo.com/com.example.foo/123/"sv,
        "at://foo.com//com.example.foo"sv, "at://foo.com/com.example.foo//123"sv,
        "at://did:plc:vwzwgnygau7ed7b7wt5ux7y2/"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "aturi.path.no-trailing-slash");
  }
  for (std::string_view input : {"at://foo.com/"sv, "at://foo.com/a/"sv, "at://foo.com//a"sv}) {
    CAPTURE(input);
    CHECK(code_of(parse_at_uri_general(input)) == "aturi.path.no-trailing-slash");
  }
}

// [aturi.path.collection]
TEST_CASE("aturi: the collection is an NSID", "[aturi]") {
  for (std::string_view input :
       {"at://foo.com/example/123"sv, "at://foo.com/com.example"sv, "at://foo.com/com.example.3"sv,
        "at://foo.com/com.example.foo-bar/123"sv, "at://foo.com/self"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "aturi.path.collection");
  }
}

// [aturi.path.record-key]
TEST_CASE("aturi: the record key is valid and last", "[aturi]") {
  for (std::string_view input :
       {"at://foo.com/com.example.foo/."sv, "at://foo.com/com.example.foo/.."sv,
        "at://foo.com/com.example.foo/123/extra"sv, "at://foo.com/com.example.foo/a/b/c"sv,
        "at://foo.com/com.example.foo/dHJ1ZQ=="sv, "at://foo.com/com.example.foo/a%20b"sv,
        "at://foo.com/com.example.foo/@handle"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "aturi.path.record-key");
  }
  CHECK(validate_at_uri("at://foo.com/com.example.foo/" + std::string(512, 'k')).ok());
  CHECK(code_of(validate_at_uri("at://foo.com/com.example.foo/" + std::string(513, 'k'))) ==
        "aturi.path.record-key");
}

// [aturi.restricted.no-query-fragment]
TEST_CASE("aturi: the restricted form has no query and no fragment", "[aturi]") {
  for (std::string_view input :
       {"at://foo.com?x=1"sv, "at://foo.com#/frag"sv, "at://foo.com/com.example.foo?x=1"sv,
        "at://foo.com/com.example.foo/123#/frag"sv, "at://foo.com/com.example.foo/123?"sv,
        "at://foo.com/com.example.foo/123#"sv, "at://foo.com/com.example.foo/123?a=b#/c"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "aturi.restricted.no-query-fragment");
  }
}

// [aturi.syntax.ascii]
TEST_CASE("aturi: ASCII only, no whitespace or control characters", "[aturi]") {
  for (std::string_view input :
       {"at://foo.com/com.example.foo/\xc3\xb1"sv, "at://f\xc3\xb6o.com"sv,
        "at://foo.com/com.example.foo/123 "sv, " at://foo.com"sv,
        "at://foo.com/com.example.foo/1 2"sv, "at://foo.com\n"sv, "at://foo.com/\t"sv,
        "at://foo.com\0"sv, "at://foo.com/com.example.foo/\x7f"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_at_uri(input)) == "aturi.syntax.ascii");
    CHECK(code_of(parse_at_uri_general(input)) == "aturi.syntax.ascii");
  }
}

// [aturi.syntax.max-length]
TEST_CASE("aturi: at most 8 KiB", "[aturi]") {
  CHECK(atproto::syntax::kAtUriMaxLength == 8192);
  const std::string prefix = "at://foo.com/";
  const std::string general_max = prefix + std::string(8192 - prefix.size(), 'a');
  REQUIRE(general_max.size() == 8192);
  CHECK(parse_at_uri_general(general_max).ok());
  CHECK(code_of(parse_at_uri_general(general_max + "a")) == "aturi.syntax.max-length");
  const std::string restricted = "at://foo.com/com.example.foo/";
  const std::string too_long = restricted + std::string(8193 - restricted.size(), 'k');
  CHECK(code_of(validate_at_uri(too_long)) == "aturi.syntax.max-length");
  CHECK(code_of(validate_at_uri(restricted + std::string(1 << 20, 'k'))) ==
        "aturi.syntax.max-length");
}

// [aturi.authority.identifier] [aturi.path.collection] [aturi.path.record-key]
TEST_CASE("aturi: parse_at_uri components and to_string", "[aturi]") {
  auto full =
      parse_at_uri("at://did:plc:vwzwgnygau7ed7b7wt5ux7y2/app.bsky.feed.post/3k5nobkf2w72g");
  REQUIRE(full.ok());
  CHECK(full->authority == kPlc);
  CHECK(full->authority_is_did());
  CHECK(full->collection == std::optional<std::string>("app.bsky.feed.post"));
  CHECK(full->record_key == std::optional<std::string>("3k5nobkf2w72g"));
  CHECK(full->to_string() ==
        "at://did:plc:vwzwgnygau7ed7b7wt5ux7y2/app.bsky.feed.post/3k5nobkf2w72g");

  auto handle_only = parse_at_uri("at://retr0.id");
  REQUIRE(handle_only.ok());
  CHECK(handle_only->authority == "retr0.id");
  CHECK_FALSE(handle_only->authority_is_did());
  CHECK_FALSE(handle_only->collection.has_value());
  CHECK_FALSE(handle_only->record_key.has_value());
  CHECK(handle_only->to_string() == "at://retr0.id");

  auto collection_only = parse_at_uri("at://foo.com/com.example.foo");
  REQUIRE(collection_only.ok());
  CHECK(collection_only->collection == std::optional<std::string>("com.example.foo"));
  CHECK_FALSE(collection_only->record_key.has_value());
  CHECK(collection_only->to_string() == "at://foo.com/com.example.foo");

  // Parsing keeps the text as written.
  auto mixed = parse_at_uri("at://FOO.com/COM.Example.fooBar/AbC");
  REQUIRE(mixed.ok());
  CHECK(mixed->authority == "FOO.com");
  CHECK(mixed->collection == std::optional<std::string>("COM.Example.fooBar"));
  CHECK(mixed->record_key == std::optional<std::string>("AbC"));
  CHECK(mixed->to_string() == "at://FOO.com/COM.Example.fooBar/AbC");

  CHECK(*parse_at_uri("at://a.co/b.c.d/e") == AtUri{"a.co", "b.c.d", "e"});
  CHECK(AtUri{"foo.com", std::nullopt, std::nullopt}.to_string() == "at://foo.com");
  CHECK(AtUri{"did:web:foo.com", "a.b.c", std::nullopt}.to_string() ==
        "at://did:web:foo.com/a.b.c");

  CHECK(code_of(parse_at_uri("at://foo.com/")) == "aturi.path.no-trailing-slash");
  CHECK(code_of(parse_at_uri("at://foo.com/example/123")) == "aturi.path.collection");
  CHECK(code_of(parse_at_uri("https://foo.com")) == "aturi.syntax.scheme");
}

// [aturi.normalize]
TEST_CASE("aturi: normalization", "[aturi]") {
  CHECK(normalize_at_uri(AtUri{"Foo.COM", "COM.Example.fooBar", "AbC"}) ==
        "at://foo.com/com.example.fooBar/AbC");
  CHECK(normalize_at_uri(AtUri{"RETR0.ID", std::nullopt, std::nullopt}) == "at://retr0.id");
  CHECK(normalize_at_uri(AtUri{"foo.com", "App.Bsky.Feed.Post", std::nullopt}) ==
        "at://foo.com/app.bsky.feed.Post");
  // DIDs and record keys keep their case.
  CHECK(normalize_at_uri(AtUri{"did:example:ABC", "com.example.foo", "SELF"}) ==
        "at://did:example:ABC/com.example.foo/SELF");
  CHECK(normalize_at_uri(AtUri{"did:web:Example.com", std::nullopt, std::nullopt}) ==
        "at://did:web:Example.com");
  // Idempotent on the parse of its own output.
  const std::string once = normalize_at_uri(*parse_at_uri("at://FOO.com/COM.Example.fooBar/AbC"));
  CHECK(normalize_at_uri(*parse_at_uri(once)) == once);
}

// [aturi.general.query] [aturi.general.fragment]
TEST_CASE("aturi: general syntax components", "[aturi]") {
  auto general = parse_at_uri_general("at://foo.com/a/b/c?x=1&y=2#/key/0");
  REQUIRE(general.ok());
  CHECK(general->authority == "foo.com");
  CHECK(general->path == std::vector<std::string>{"a", "b", "c"});
  CHECK(general->query == std::optional<std::string>("x=1&y=2"));
  CHECK(general->fragment == std::optional<std::string>("/key/0"));

  auto bare = parse_at_uri_general("at://foo.com");
  REQUIRE(bare.ok());
  CHECK(bare->authority == "foo.com");
  CHECK(bare->path.empty());
  CHECK_FALSE(bare->query.has_value());
  CHECK_FALSE(bare->fragment.has_value());

  auto fragment_only = parse_at_uri_general("at://foo.com#/frag");
  REQUIRE(fragment_only.ok());
  CHECK(fragment_only->path.empty());
  CHECK_FALSE(fragment_only->query.has_value());
  CHECK(fragment_only->fragment == std::optional<std::string>("/frag"));

  auto query_only = parse_at_uri_general("at://did:plc:vwzwgnygau7ed7b7wt5ux7y2?cursor=5");
  REQUIRE(query_only.ok());
  CHECK(query_only->authority == kPlc);
  CHECK(query_only->query == std::optional<std::string>("cursor=5"));
  CHECK_FALSE(query_only->fragment.has_value());

  auto path_query = parse_at_uri_general("at://foo.com/com.example.foo/123?a=b/c?d");
  REQUIRE(path_query.ok());
  CHECK(path_query->path == std::vector<std::string>{"com.example.foo", "123"});
  CHECK(path_query->query == std::optional<std::string>("a=b/c?d"));
}

// [aturi.general.fragment]
TEST_CASE("aturi: general fragments are JSON Paths starting with a slash", "[aturi]") {
  CHECK(parse_at_uri_general("at://foo.com/a#/").ok());
  CHECK(parse_at_uri_general("at://foo.com/a#/b/0/c").ok());
  for (std::string_view input :
       {"at://foo.com#frag"sv, "at://foo.com/a#b"sv, "at://foo.com/a#"sv}) {
    CAPTURE(input);
    CHECK(code_of(parse_at_uri_general(input)) == "aturi.general.fragment");
  }
  // A second '#' would have to be percent-encoded.
  CHECK_THAT(code_of(parse_at_uri_general("at://foo.com/a#/b#/c")),
             Equals("aturi.general.fragment") || Equals("aturi.general.percent-encoding"));
}

// [aturi.authority.identifier]
TEST_CASE("aturi: general syntax allows any authority string", "[aturi]") {
  auto nsid_like = parse_at_uri_general("at://foo.com/example/123");
  REQUIRE(nsid_like.ok());
  CHECK(nsid_like->path == std::vector<std::string>{"example", "123"});

  auto computer = parse_at_uri_general("at://computer");
  REQUIRE(computer.ok());
  CHECK(computer->authority == "computer");

  auto deep = parse_at_uri_general("at://foo.com/a/b/c/d/e");
  REQUIRE(deep.ok());
  CHECK(deep->path.size() == 5);
}

// [aturi.general.percent-encoding]
TEST_CASE("aturi: general percent-encoding", "[aturi]") {
  auto encoded = parse_at_uri_general("at://foo.com/a%20b/%2F?q=%3D#/x%2Fy");
  REQUIRE(encoded.ok());
  CHECK(encoded->path == std::vector<std::string>{"a%20b", "%2F"});
  CHECK(encoded->query == std::optional<std::string>("q=%3D"));
  for (std::string_view input :
       {"at://foo.com/a%2"sv, "at://foo.com/a%zz"sv, "at://foo.com/a%"sv, "at://foo.com/%g0"sv}) {
    CAPTURE(input);
    CHECK(code_of(parse_at_uri_general(input)) == "aturi.general.percent-encoding");
  }
  // In the query or fragment the error may name that part instead.
  CHECK_THAT(code_of(parse_at_uri_general("at://foo.com/a?q=%")),
             Equals("aturi.general.percent-encoding") || Equals("aturi.general.query"));
  CHECK_THAT(code_of(parse_at_uri_general("at://foo.com/a#/%x1")),
             Equals("aturi.general.percent-encoding") || Equals("aturi.general.fragment"));
}

// [aturi.syntax.ascii] [aturi.syntax.max-length] [aturi.syntax.scheme]
TEST_CASE("aturi: robustness against hostile input", "[aturi][robustness]") {
  const std::vector<std::string_view> inputs = {
      ""sv,
      "\0"sv,
      "at://\0"sv,
      "at://foo.com\0/com.example.foo"sv,
      "at://foo.com/com.example.foo/\0"sv,
      "at://foo.com/com.example.foo/\xff"sv,
      "at://\x80\x80"sv,
      "at://foo.com/\xc0\xaf"sv,
      "at://foo.com/com.example.foo/\xe0\x80\xaf"sv,
      "at://foo.com/\xed\xa0\x80"sv,
      "at://foo.com/\xe2\x82"sv,
      "at://foo.com?\xff"sv,
      "at://foo.com#/\xff"sv,
      "\xff\xfe"sv,
  };
  for (std::string_view input : inputs) {
    CAPTURE(input);
    CHECK_FALSE(validate_at_uri(input).ok());
    CHECK_FALSE(parse_at_uri(input).ok());
    CHECK_FALSE(parse_at_uri_general(input).ok());
  }
  const std::string huge = "at://" + std::string(1 << 20, 'a');
  const std::string huge_slashes = "at://foo.com" + std::string(1 << 20, '/');
  const std::string huge_junk(1 << 20, '\xff');
  for (const std::string& input : {huge, huge_slashes, huge_junk}) {
    CHECK_FALSE(validate_at_uri(input).ok());
    CHECK_FALSE(parse_at_uri(input).ok());
    CHECK_FALSE(parse_at_uri_general(input).ok());
  }
  CHECK(code_of(validate_at_uri(huge)) == "aturi.syntax.max-length");
}
