// Router: NSID dispatch, methods, parameter checks, CORS and health, both
// called directly and through HttpServer with the identity layer's fetch.
#include "atproto/xrpc/router.hpp"

#include <catch2/catch.hpp>

#include "atproto/identity/fetch.hpp"

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

  // Unknown methods: 501 MethodNotImplemented; a non-NSID: 400.
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

TEST_CASE("router: CORS and health") {
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
