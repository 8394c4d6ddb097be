// XrpcClient against an HttpServer on loopback: what goes on the wire
// (paths, encoded parameters, bodies, auth) and how answers are read.
#include "atproto/xrpc/client.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

#include "atproto/common/testing.hpp"
#include "atproto/xrpc/http_server.hpp"
#include "atproto/xrpc/test_echo.hpp"

using atproto::testing::code_of;
using namespace atproto::xrpc;
using nlohmann::json;

namespace {

// Echoes the decoded request back as JSON.
HttpResponse echo(const HttpRequest& req) {
  if (req.path == "/xrpc/test.fail") return xrpc_error(400, "BadThing", "it went wrong");
  if (req.path == "/plain") return HttpResponse::text(200, "{\"not\":\"json\"}", "text/plain");
  if (req.path == "/big") {
    return HttpResponse::text(200,
                              R"({"i":9007199254740993,"n":-9223372036854775808,)"
                              R"("u":18446744073709551615})",
                              "application/json; charset=utf-8");
  }
  return HttpResponse::json(200, atproto::xrpc::testing::request_as_json(req));
}

atproto::identity::FetchPolicy loopback() {
  atproto::identity::FetchPolicy p;
  p.allow_private_addresses = true;
  p.timeout_ms = 5000;
  return p;
}

struct Fixture {
  HttpServer server{{}, echo};
  std::uint16_t port = server.start().value();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
};

}  // namespace

TEST_CASE("encode_query percent-encodes all but the unreserved characters", "[xrpc][client]") {
  CHECK(encode_query({}) == "");
  CHECK(encode_query({{"a", "1"}, {"b", "x y"}}) == "a=1&b=x%20y");
  CHECK(encode_query({{"uri", "at://did:plc:abc/app.bsky.feed.post/3k"}}) ==
        "uri=at%3A%2F%2Fdid%3Aplc%3Aabc%2Fapp.bsky.feed.post%2F3k");
  CHECK(encode_query({{"k&=", "+%~-._"}}) == "k%26%3D=%2B%25~-._");
  CHECK(encode_query({{"h", "h\xC3\xA9"}}) == "h=h%C3%A9");
  CHECK(encode_query({{"a", "1"}, {"a", "2"}}) == "a=1&a=2");
}

TEST_CASE("client queries carry parameters that decode to what was sent [xrpc.http.path]",
          "[xrpc][client]") {
  Fixture f;
  XrpcClient client(f.base + "/", loopback());  // a trailing slash is ignored
  CHECK(client.service() == f.base);
  QueryParams params = {{"actor", "did:plc:abc"},
                        {"q", "a b&c=d+e%"},
                        {"uris", "at://x/1"},
                        {"uris", "at://x/2"},
                        {"text", "h\xC3\xA9llo"}};
  auto res = client.query("com.example.getThing", params);
  REQUIRE(res.ok());
  CHECK(res->status == 200);
  CHECK(res->ok());
  REQUIRE(res->json.has_value());
  const json& body = *res->json;
  CHECK(body["method"] == "GET");
  CHECK(body["path"] == "/xrpc/com.example.getThing");
  json expected = json::array();
  for (const auto& [k, v] : params) expected.push_back({k, v});
  CHECK(body["query"] == expected);
  CHECK(body["body"] == "");
  CHECK_FALSE(body["headers"].contains("authorization"));
  CHECK(res->header("Content-Type") == "application/json; charset=utf-8");
  CHECK_FALSE(res->header("x-missing").has_value());

  auto bare = client.query("com.example.getThing");
  REQUIRE(bare.ok());
  CHECK((*bare->json)["target"] == "/xrpc/com.example.getThing");
}

TEST_CASE("client bearer tokens and extra headers", "[xrpc][client]") {
  Fixture f;
  XrpcClient client(f.base, loopback());
  client.set_bearer("tok.en.value");
  auto res = client.query("com.example.get", {}, {{"atproto-proxy", "did:web:x#svc"}});
  REQUIRE(res.ok());
  CHECK((*res->json)["headers"]["authorization"] == "Bearer tok.en.value");
  CHECK((*res->json)["headers"]["atproto-proxy"] == "did:web:x#svc");
  // A caller's own Authorization wins over the stored bearer.
  auto own = client.query("com.example.get", {}, {{"Authorization", "Basic YWRtaW46eA"}});
  REQUIRE(own.ok());
  CHECK((*own->json)["headers"]["authorization"] == "Basic YWRtaW46eA");
  client.set_bearer("");
  auto none = client.query("com.example.get");
  REQUIRE(none.ok());
  CHECK_FALSE((*none->json)["headers"].contains("authorization"));
}

TEST_CASE("client procedures send JSON, nothing or raw bytes", "[xrpc][client]") {
  Fixture f;
  XrpcClient client(f.base, loopback());
  json input = {{"repo", "did:plc:abc"}, {"n", 9007199254740993LL}};
  auto res = client.procedure("com.example.doThing", input, {{"v", "1"}});
  REQUIRE(res.ok());
  const json& body = *res->json;
  CHECK(body["method"] == "POST");
  CHECK(body["target"] == "/xrpc/com.example.doThing?v=1");
  CHECK(body["headers"]["content-type"] == "application/json");
  CHECK(json::parse(body["body"].get<std::string>()) == input);

  auto empty = client.procedure("com.example.doThing", nullptr);
  REQUIRE(empty.ok());
  CHECK((*empty->json)["body"] == "");
  CHECK_FALSE((*empty->json)["headers"].contains("content-type"));

  std::string bytes("\x00\x01\xff png", 7);
  auto raw = client.procedure_bytes("com.atproto.repo.uploadBlob", bytes, "image/png");
  REQUIRE(raw.ok());
  CHECK((*raw->json)["headers"]["content-type"] == "image/png");
  CHECK((*raw->json)["headers"]["content-length"] == "7");
}

TEST_CASE("client responses: errors, non-JSON bodies and 64-bit integers [xrpc.error.body]",
          "[xrpc][client]") {
  Fixture f;
  XrpcClient client(f.base, loopback());
  auto err = client.query("test.fail");
  REQUIRE(err.ok());  // an HTTP error status is a response, not a transport failure
  CHECK(err->status == 400);
  CHECK_FALSE(err->ok());
  CHECK(err->error_name() == "BadThing");
  CHECK(err->error_message() == "it went wrong");

  auto plain = client.request("GET", "/plain", "", {});
  REQUIRE(plain.ok());
  CHECK(plain->status == 200);
  CHECK_FALSE(plain->json.has_value());  // not parsed: the type is not JSON
  CHECK(plain->body == "{\"not\":\"json\"}");
  CHECK(plain->error_name() == "");

  auto big = client.request("GET", "big", "", {});
  REQUIRE(big.ok());
  REQUIRE(big->json.has_value());
  CHECK((*big->json)["i"].get<std::int64_t>() == 9007199254740993LL);
  CHECK((*big->json)["n"].get<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
  CHECK((*big->json)["u"].get<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());

  auto other = client.request("DELETE", "/anything?x=%20", "", {});
  REQUIRE(other.ok());
  CHECK((*other->json)["method"] == "DELETE");
  CHECK((*other->json)["query"] == json::array({json::array({"x", " "})}));
}

TEST_CASE("client transport failures are errors with fetch codes", "[xrpc][client]") {
  std::uint16_t closed_port = 0;
  {
    Fixture f;
    closed_port = f.port;
    // The default policy refuses loopback addresses.
    XrpcClient strict(f.base);
    CHECK(code_of(strict.query("com.example.get")) == "fetch.address-refused");
  }
  XrpcClient client("http://127.0.0.1:" + std::to_string(closed_port), loopback());
  CHECK(code_of(client.query("com.example.get")) == "fetch.connect");
  XrpcClient bad("ftp://127.0.0.1", loopback());
  CHECK(code_of(bad.query("com.example.get")) == "fetch.url");
}
