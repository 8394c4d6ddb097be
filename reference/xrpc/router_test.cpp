// Router: NSID dispatch, methods, parameter checks, CORS and health, both
// called directly and through HttpServer with the identity layer's fetch.
#include "atproto/xrpc/router.hpp"

#include <catch2/catch.hpp>

#include "atproto/identity/fetch.hpp"
#include "atproto/lexicon/catalog.hpp"

using atproto::xrpc::HttpRequest;
using atproto::xrpc::HttpResponse;
using atproto::xrpc::ParamSpec;
using atproto::xrpc::Router;
using nlohmann::json;

namespace {

HttpRequest request(std::string method, std::string path,
                    std::vector<std::pair<std::string, std::string>> query = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  r.query = std::move(query);
  return r;
}

std::string error_name(const HttpResponse& r) { return json::parse(r.body).value("error", ""); }

Router sample_router() {
  Router router;
  REQUIRE(router
              .query("com.example.getThing",
                     {{"id", ParamSpec::Kind::string, true, false},
                      {"limit", ParamSpec::Kind::integer, false, false},
                      {"flag", ParamSpec::Kind::boolean, false, false},
                      {"tags", ParamSpec::Kind::string, false, true}},
                     [](const HttpRequest& req) {
                       return HttpResponse::json(200, {{"id", req.query_param("id").value_or("")},
                                                       {"tags", req.query_params("tags")}});
                     })
              .ok());
  REQUIRE(router
              .procedure("com.example.doThing", {},
                         [](const HttpRequest& req) {
                           return HttpResponse::json(200, {{"got", req.body}});
                         })
              .ok());
  router.route("GET", "/.well-known/atproto-did", [](const HttpRequest&) {
    return HttpResponse::text(200, "did:plc:x", "text/plain");
  });
  return router;
}

}  // namespace

TEST_CASE("router: queries and procedures by NSID") {
  auto router = sample_router();
  auto ok = router.handle(
      request("GET", "/xrpc/com.example.getThing", {{"id", "a"}, {"tags", "x"}, {"tags", "y"}}));
  REQUIRE(ok.status == 200);
  CHECK(json::parse(ok.body) == json{{"id", "a"}, {"tags", {"x", "y"}}});
  auto post = request("POST", "/xrpc/com.example.doThing");
  post.body = "payload";
  auto done = router.handle(post);
  CHECK(done.status == 200);
  CHECK(json::parse(done.body)["got"] == "payload");

  // The wrong HTTP method for the method's type.
  auto wrong = router.handle(request("POST", "/xrpc/com.example.getThing", {{"id", "a"}}));
  CHECK(wrong.status == 405);
  CHECK(error_name(wrong) == "InvalidRequest");
  CHECK(router.handle(request("GET", "/xrpc/com.example.doThing")).status == 405);

  // [xrpc.status.not-implemented] Unknown methods: 501 MethodNotImplemented;
  // a non-NSID: 400.
  auto unknown = router.handle(request("GET", "/xrpc/com.example.nothing"));
  CHECK(unknown.status == 501);
  CHECK(error_name(unknown) == "MethodNotImplemented");
  auto junk = router.handle(request("GET", "/xrpc/not_an..nsid"));
  CHECK(junk.status == 400);
  CHECK(error_name(junk) == "InvalidRequest");

  // Plain routes, and 404 for anything else outside /xrpc/.
  CHECK(router.handle(request("GET", "/.well-known/atproto-did")).body == "did:plc:x");
  auto missing = router.handle(request("GET", "/elsewhere"));
  CHECK(missing.status == 404);
  CHECK(error_name(missing) == "NotFound");

  Router bad;
  CHECK_FALSE(bad.query("not an nsid", {}, nullptr).ok());
}

TEST_CASE("router: parameter checks answer 400 InvalidRequest") {
  auto router = sample_router();
  using Q = std::vector<std::pair<std::string, std::string>>;
  for (const Q& q : {Q{}, Q{{"id", "a"}, {"id", "b"}}, Q{{"id", "a"}, {"limit", "ten"}},
                     Q{{"id", "a"}, {"limit", "5x"}}, Q{{"id", "a"}, {"limit", ""}},
                     Q{{"id", "a"}, {"flag", "yes"}}, Q{{"id", "a"}, {"flag", "1"}}}) {
    auto r = router.handle(request("GET", "/xrpc/com.example.getThing", q));
    CHECK(r.status == 400);
    CHECK(error_name(r) == "InvalidRequest");
  }
  auto good = router.handle(request("GET", "/xrpc/com.example.getThing",
                                    {{"id", "a"}, {"limit", "-5"}, {"flag", "false"}}));
  CHECK(good.status == 200);
}

TEST_CASE("router: CORS and health [xrpc.cors]") {
  auto router = sample_router();
  auto health = router.handle(request("GET", "/xrpc/_health"));
  CHECK(health.status == 200);
  CHECK(json::parse(health.body).contains("version"));
  auto has = [](const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return true;
    return false;
  };
  CHECK(has(health, "access-control-allow-origin"));
  CHECK(has(router.handle(request("GET", "/xrpc/com.example.nothing")),
            "access-control-allow-origin"));
  auto preflight = request("OPTIONS", "/xrpc/com.example.doThing");
  preflight.headers.emplace_back("access-control-request-headers", "content-type,authorization");
  auto pre = router.handle(preflight);
  CHECK(pre.status == 204);
  CHECK(has(pre, "access-control-allow-methods"));

  atproto::xrpc::RouterOptions no_cors;
  no_cors.cors = false;
  Router plain(no_cors);
  CHECK_FALSE(has(plain.handle(request("GET", "/xrpc/_health")), "access-control-allow-origin"));
}

TEST_CASE("router: served by HttpServer, decoded parameters reach the checks") {
  auto router = sample_router();
  atproto::xrpc::HttpServer server({}, router.handler());
  auto port = server.start();
  REQUIRE(port.ok());
  atproto::identity::FetchPolicy policy;
  policy.allow_private_addresses = true;
  policy.timeout_ms = 5000;
  std::string base = "http://127.0.0.1:" + std::to_string(*port);
  auto r =
      atproto::identity::http_get(base + "/xrpc/com.example.getThing?id=a%20b&limit=%33", policy);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["id"] == "a b");
  auto unknown = atproto::identity::http_get(base + "/xrpc/com.example.nope", policy);
  REQUIRE(unknown.ok());
  CHECK(unknown->status == 501);
}

namespace {

// Two small Lexicons written for this test: a query with constrained
// parameters, a procedure with a JSON input, one taking any bytes and one
// taking no body.
atproto::lexicon::Catalog test_catalog() {
  atproto::lexicon::Catalog catalog;
  REQUIRE(catalog
              .add_json(json::parse(R"({
    "lexicon": 1, "id": "com.example.lex.list",
    "defs": {"main": {"type": "query",
      "parameters": {"type": "params", "required": ["actor"], "properties": {
        "actor": {"type": "string", "format": "did"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}}}},
      "output": {"encoding": "application/json"}}}})"))
              .ok());
  REQUIRE(catalog
              .add_json(json::parse(R"({
    "lexicon": 1, "id": "com.example.lex.post",
    "defs": {"main": {"type": "procedure",
      "input": {"encoding": "application/json", "schema": {"type": "object",
        "required": ["text"], "properties": {
          "text": {"type": "string", "maxLength": 10},
          "count": {"type": "integer", "minimum": 0}}}}}}})"))
              .ok());
  REQUIRE(catalog
              .add_json(json::parse(R"({
    "lexicon": 1, "id": "com.example.lex.upload",
    "defs": {"main": {"type": "procedure", "input": {"encoding": "image/*"}}}})"))
              .ok());
  REQUIRE(catalog
              .add_json(json::parse(R"({
    "lexicon": 1, "id": "com.example.lex.ping",
    "defs": {"main": {"type": "procedure"}}})"))
              .ok());
  return catalog;
}

atproto::xrpc::RouterOptions with_catalog(const atproto::lexicon::Catalog& catalog) {
  atproto::xrpc::RouterOptions options;
  options.catalog = &catalog;
  return options;
}

// A router over test_catalog() and a handler that counts its calls.
struct LexiconRouter {
  atproto::lexicon::Catalog catalog = test_catalog();
  Router router{with_catalog(catalog)};
  int calls = 0;
  atproto::xrpc::Handler counting() {
    return [this](const HttpRequest&) {
      ++calls;
      return HttpResponse::json(200, json::object());
    };
  }
};

}  // namespace

TEST_CASE("router: query parameters are validated against the Lexicon [xrpc.http.params]",
          "[xrpc][router][lexicon]") {
  LexiconRouter lr;
  auto& router = lr.router;
  auto& calls = lr.calls;
  auto ok = lr.counting();
  REQUIRE(router.query("com.example.lex.list", {}, ok).ok());
  // A method the catalog does not hold is not checked.
  REQUIRE(router.query("com.example.lex.unlisted", {}, ok).ok());

  using Q = std::vector<std::pair<std::string, std::string>>;
  auto get = [&](const Q& q) {
    return router.handle(request("GET", "/xrpc/com.example.lex.list", q));
  };
  CHECK(get({{"actor", "did:plc:abc"}}).status == 200);
  CHECK(get({{"actor", "did:plc:abc"}, {"limit", "100"}, {"tags", "a"}, {"tags", "bb"}}).status ==
        200);
  CHECK(calls == 2);
  for (const Q& q :
       {Q{}, Q{{"actor", "not-a-did"}}, Q{{"actor", "did:plc:abc"}, {"limit", "0"}},
        Q{{"actor", "did:plc:abc"}, {"limit", "101"}}, Q{{"actor", "did:plc:abc"}, {"limit", "x"}},
        Q{{"actor", "did:plc:abc"}, {"tags", "toolong"}}}) {
    auto r = get(q);
    CHECK(r.status == 400);
    CHECK(error_name(r) == "InvalidRequest");
    // The message names the rule that failed.
    CHECK(json::parse(r.body)["message"].get<std::string>().rfind("lex.", 0) == 0);
  }
  CHECK(calls == 2);
  CHECK(router.handle(request("GET", "/xrpc/com.example.lex.unlisted", {{"x", "y"}})).status ==
        200);
}

TEST_CASE(
    "router: procedure inputs are checked for encoding and schema "
    "[xrpc.http.input-encoding]",
    "[xrpc][router][lexicon]") {
  LexiconRouter lr;
  auto& router = lr.router;
  auto& calls = lr.calls;
  auto ok = lr.counting();
  for (const char* nsid :
       {"com.example.lex.post", "com.example.lex.upload", "com.example.lex.ping"})
    REQUIRE(router.procedure(nsid, {}, ok).ok());
  auto post = [&](const std::string& nsid, const std::string& type, const std::string& body) {
    auto r = request("POST", "/xrpc/" + nsid);
    if (!type.empty()) r.headers.emplace_back("content-type", type);
    r.body = body;
    return router.handle(r);
  };
  CHECK(post("com.example.lex.post", "application/json", R"({"text":"hi","count":3})").status ==
        200);
  CHECK(
      post("com.example.lex.post", "Application/JSON; charset=utf-8", R"({"text":"hi"})").status ==
      200);
  CHECK(calls == 2);
  struct Bad {
    std::string type, body, message_start;
  };
  for (const Bad& bad : {
           Bad{"text/plain", R"({"text":"hi"})", "wrong request encoding"},
           Bad{"", R"({"text":"hi"})", "a request body"},
           Bad{"application/json", "{not json", "the request body is not JSON"},
           Bad{"application/json", R"({"count":1})", "lex."},
           Bad{"application/json", R"({"text":"far too long here"})", "lex."},
           Bad{"application/json", R"({"text":"hi","count":-1})", "lex."},
           Bad{"application/json", R"({"text":"hi","count":1.5})", "data.model.no-floats"},
       }) {
    INFO(bad.type << " " << bad.body);
    auto r = post("com.example.lex.post", bad.type, bad.body);
    CHECK(r.status == 400);
    CHECK(error_name(r) == "InvalidRequest");
    CHECK(json::parse(r.body)["message"].get<std::string>().rfind(bad.message_start, 0) == 0);
  }
  CHECK(calls == 2);
  // A pattern encoding takes any matching type and any bytes.
  CHECK(post("com.example.lex.upload", "image/png", std::string("\x89PNG\0", 5)).status == 200);
  CHECK(post("com.example.lex.upload", "text/plain", "x").status == 400);
  // No input declared: no body.
  CHECK(post("com.example.lex.ping", "", "").status == 200);
  CHECK(post("com.example.lex.ping", "application/json", "{}").status == 400);
  CHECK(calls == 4);
}

TEST_CASE("router: HEAD reaches queries and GET routes", "[xrpc][router]") {
  auto router = sample_router();
  auto head = router.handle(request("HEAD", "/xrpc/com.example.getThing", {{"id", "a"}}));
  CHECK(head.status == 200);
  CHECK(router.handle(request("HEAD", "/.well-known/atproto-did")).status == 200);
  CHECK(router.handle(request("HEAD", "/xrpc/com.example.doThing")).status == 405);
}
