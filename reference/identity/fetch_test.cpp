// Safe fetch against real servers on loopback (our HttpServer, a raw socket
// server and `openssl s_server`), and refusals that happen before any
// connection is attempted.
#include "atproto/identity/fetch.hpp"

#include <stdlib.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "atproto/identity/test_process.hpp"
#include "atproto/xrpc/http_server.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using atproto::identity::FetchPolicy;
using atproto::identity::http_get;
using atproto::identity::http_request;
using atproto::identity::is_public_address;
using atproto::identity::parse_url;
using atproto::xrpc::HttpRequest;
using atproto::xrpc::HttpResponse;
using atproto::xrpc::HttpServer;
using Clock = std::chrono::steady_clock;

namespace {

FetchPolicy loopback_policy() {
  FetchPolicy p;
  p.allow_private_addresses = true;
  p.timeout_ms = 5000;
  return p;
}

std::string base(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

// A one-shot raw TCP server: accepts one connection and runs `serve` on it.
struct RawServer {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::thread thread;

  template <typename F>
  explicit RawServer(F serve) {
    thread = std::thread([this, serve] {
      tcp::socket s(ioc);
      boost::system::error_code ec;
      acceptor.accept(s, ec);
      if (!ec) serve(s);
    });
  }
  ~RawServer() {
    boost::system::error_code ec;
    acceptor.close(ec);
    thread.join();
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

}  // namespace

TEST_CASE("fetch: address classification") {
  for (const char* refused : {"10.0.0.1",
                              "10.255.255.255",
                              "172.16.0.1",
                              "172.31.255.255",
                              "192.168.1.1",
                              "127.0.0.1",
                              "127.1.2.3",
                              "169.254.169.254",
                              "0.0.0.0",
                              "100.64.0.1",
                              "224.0.0.1",
                              "239.1.1.1",
                              "255.255.255.255",
                              "240.0.0.1",
                              "192.0.2.1",
                              "198.51.100.7",
                              "203.0.113.9",
                              "198.18.0.1",
                              "::",
                              "::1",
                              "fe80::1",
                              "febf::1",
                              "fc00::1",
                              "fdff::1",
                              "ff02::1",
                              "::ffff:127.0.0.1",
                              "::ffff:10.0.0.1",
                              "64:ff9b::a00:1",
                              "2002:a00:1::",
                              "2001:db8::1",
                              "::127.0.0.1",
                              "fec0::1",
                              "not-an-ip",
                              ""}) {
    INFO(refused);
    CHECK_FALSE(is_public_address(refused));
  }
  for (const char* allowed : {"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.0", "192.169.0.1",
                              "11.0.0.1", "169.253.1.1", "2606:4700::1111", "2a00:1450::1",
                              "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"}) {
    INFO(allowed);
    CHECK(is_public_address(allowed));
  }
}

TEST_CASE("fetch: URL parsing") {
  auto u = parse_url("HTTPS://Example.COM:8443/a/b?c=d#frag");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->host == "example.com");
  CHECK(u->port == 8443);
  CHECK(u->target == "/a/b?c=d");
  auto v = parse_url("http://[::1]/");
  REQUIRE(v.ok());
  CHECK(v->host == "::1");
  CHECK(v->port == 80);
  auto w = parse_url("https://example.com?q");
  REQUIRE(w.ok());
  CHECK(w->target == "/?q");
  CHECK(w->port == 443);
  for (const char* bad :
       {"ftp://example.com/", "example.com", "http://user@example.com/", "http://example.com:0/",
        "http://example.com:65536/", "http://example.com:/", "http:///path", "http://exa mple.com/",
        "http://[::1/", "http://[zz]/", "http://ex%41mple.com/"}) {
    INFO(bad);
    auto r = parse_url(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "fetch.url");
  }
}

TEST_CASE(
    "fetch: private and loopback targets are refused before connecting "
    "[handle.resolve.no-internal-hosts]") {
  FetchPolicy policy;  // defaults: private addresses refused
  policy.timeout_ms = 20000;
  // Port 1 has no listener and 10.x/169.254.x would hang: an answer of
  // fetch.address-refused, fast, shows that no connection was tried.
  for (const char* url :
       {"http://127.0.0.1:1/", "http://localhost:1/", "http://[::1]:1/", "http://10.1.2.3/",
        "https://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]:1/",
        "http://192.168.0.1/", "http://0.0.0.0:1/", "http://[fe80::1]/"}) {
    INFO(url);
    auto t0 = Clock::now();
    auto r = http_get(url, policy);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "fetch.address-refused");
    CHECK(Clock::now() - t0 < std::chrono::seconds(2));
  }
}

TEST_CASE("fetch: GET and POST against a loopback server") {
  HttpServer server({}, [](const HttpRequest& req) {
    if (req.path == "/missing") {
      return atproto::xrpc::xrpc_error(404, "NotFound", "nothing here");
    }
    nlohmann::json echo{{"method", req.method},
                        {"target", req.target},
                        {"body", req.body},
                        {"host", req.header("host").value_or("")},
                        {"x-test", req.header("x-test").value_or("")}};
    auto r = HttpResponse::json(200, echo);
    r.headers.emplace_back("X-Answer", "42");
    return r;
  });
  auto port = server.start();
  REQUIRE(port.ok());
  auto policy = loopback_policy();

  auto get = http_get(base(*port) + "/a/b?x=1", policy);
  REQUIRE(get.ok());
  CHECK(get->status == 200);
  auto body = nlohmann::json::parse(get->body);
  CHECK(body["method"] == "GET");
  CHECK(body["target"] == "/a/b?x=1");
  CHECK(body["host"] == "127.0.0.1:" + std::to_string(*port));
  bool lowercased = false;
  for (const auto& [k, v] : get->headers) lowercased = lowercased || (k == "x-answer" && v == "42");
  CHECK(lowercased);
  CHECK(get->final_url == base(*port) + "/a/b?x=1");

  auto post = http_request("POST", base(*port) + "/p", "{\"k\":1}",
                           {{"Content-Type", "application/json"}, {"X-Test", "yes"}}, policy);
  REQUIRE(post.ok());
  auto pbody = nlohmann::json::parse(post->body);
  CHECK(pbody["method"] == "POST");
  CHECK(pbody["body"] == "{\"k\":1}");
  CHECK(pbody["x-test"] == "yes");

  // An HTTP error status is an answer, not a fetch failure.
  auto missing = http_get(base(*port) + "/missing", policy);
  REQUIRE(missing.ok());
  CHECK(missing->status == 404);

  // allowed_addresses lets exactly one private address through.
  FetchPolicy narrow;
  narrow.allowed_addresses = {"127.0.0.1"};
  auto allowed = http_get(base(*port) + "/n", narrow);
  REQUIRE(allowed.ok());
  CHECK(allowed->status == 200);
}

TEST_CASE(
    "fetch: redirects are followed, bounded, and vetted at every hop "
    "[handle.resolve.no-internal-hosts]") {
  std::atomic<int> hits{0};
  HttpServer server({}, [&](const HttpRequest& req) {
    ++hits;
    auto redirect = [](int status, std::string to) {
      HttpResponse r;
      r.status = status;
      r.headers.emplace_back("location", std::move(to));
      return r;
    };
    if (req.path == "/start") return redirect(302, "/dir/next");
    if (req.path == "/dir/next") return redirect(301, "final?z=1");
    if (req.path == "/dir/final") return HttpResponse::text(200, "landed", "text/plain");
    if (req.path == "/loop") return redirect(307, "/loop");
    if (req.path == "/to-private") return redirect(302, "http://10.1.2.3/x");
    if (req.path == "/to-v6-loopback") return redirect(308, "http://[::1]:1/x");
    if (req.path == "/post-303") return redirect(303, "/dir/final");
    if (req.path == "/no-location") {
      HttpResponse r;
      r.status = 302;
      return r;
    }
    return HttpResponse::text(404, "no", "text/plain");
  });
  auto port = server.start();
  REQUIRE(port.ok());
  auto policy = loopback_policy();

  auto r = http_get(base(*port) + "/start", policy);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "landed");
  CHECK(r->final_url == base(*port) + "/dir/final?z=1");

  hits = 0;
  auto loop = http_get(base(*port) + "/loop", policy);
  REQUIRE_FALSE(loop.ok());
  CHECK(loop.error().code == "fetch.redirects");
  CHECK(hits == policy.max_redirects + 1);

  policy.max_redirects = 0;
  auto none = http_get(base(*port) + "/start", policy);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == "fetch.redirects");

  // Only 127.0.0.1 is allowed: the redirect target is checked again.
  FetchPolicy narrow;
  narrow.allowed_addresses = {"127.0.0.1"};
  narrow.timeout_ms = 20000;
  for (const char* path : {"/to-private", "/to-v6-loopback"}) {
    INFO(path);
    auto t0 = Clock::now();
    auto refused = http_get(base(*port) + path, narrow);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "fetch.address-refused");
    CHECK(Clock::now() - t0 < std::chrono::seconds(2));
  }

  auto after_post = http_request("POST", base(*port) + "/post-303", "data",
                                 {{"content-type", "text/plain"}}, loopback_policy());
  REQUIRE(after_post.ok());
  CHECK(after_post->body == "landed");

  auto no_location = http_get(base(*port) + "/no-location", loopback_policy());
  REQUIRE(no_location.ok());
  CHECK(no_location->status == 302);
}

TEST_CASE("fetch: the response size cap applies while reading") {
  HttpServer server({}, [](const HttpRequest&) {
    return HttpResponse::text(200, std::string(2000, 'x'), "text/plain");
  });
  auto port = server.start();
  REQUIRE(port.ok());
  auto policy = loopback_policy();
  policy.max_response_bytes = 2000;
  auto fits = http_get(base(*port) + "/", policy);
  REQUIRE(fits.ok());
  CHECK(fits->body.size() == 2000);
  policy.max_response_bytes = 1999;
  auto big = http_get(base(*port) + "/", policy);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == "fetch.too-large");

  // A body without a length that never ends: only a cap enforced during the
  // read can stop it (the server writes up to 64 MiB, then gives up).
  std::atomic<std::size_t> sent{0};
  RawServer endless([&](tcp::socket& s) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
    boost::system::error_code ec;
    asio::write(s, asio::buffer(head), ec);
    std::string chunk(16 * 1024, 'y');
    while (!ec && sent < (64u << 20)) sent += asio::write(s, asio::buffer(chunk), ec);
  });
  policy.max_response_bytes = 100 * 1024;
  auto stream = http_get(base(endless.port()) + "/", policy);
  REQUIRE_FALSE(stream.ok());
  CHECK(stream.error().code == "fetch.too-large");
}

TEST_CASE("fetch: one deadline covers the exchange") {
  HttpServer slow({}, [](const HttpRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return HttpResponse::text(200, "late", "text/plain");
  });
  auto port = slow.start();
  REQUIRE(port.ok());
  auto policy = loopback_policy();
  policy.timeout_ms = 300;
  auto t0 = Clock::now();
  auto r = http_get(base(*port) + "/", policy);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "fetch.timeout");
  CHECK(Clock::now() - t0 < std::chrono::milliseconds(1200));

  // A server that accepts and never answers (the raw server holds the
  // socket until the client gives up).
  RawServer silent([](tcp::socket& s) {
    char c;
    boost::system::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    while (!ec) s.read_some(asio::buffer(&c, 1), ec);
  });
  t0 = Clock::now();
  auto r2 = http_get(base(silent.port()) + "/", policy);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().code == "fetch.timeout");
  CHECK(Clock::now() - t0 < std::chrono::milliseconds(1200));
}

TEST_CASE("fetch: connection refused is fetch.connect") {
  std::uint16_t closed_port;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = a.local_endpoint().port();
  }
  auto r = http_get(base(closed_port) + "/", loopback_policy());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "fetch.connect");
}

namespace {

int run(const std::string& command) { return std::system(command.c_str()); }

// A CA and two server certificates made with the openssl CLI, and
// `openssl s_server -www` serving TLS on 127.0.0.1: a real TLS peer.
struct TlsFixture {
  std::string dir;
  bool ok = false;

  TlsFixture() {
    char tmpl[] = "/tmp/atproto-fetch-tls-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir = tmpl;
    std::string d = dir + "/";
    std::string quiet = " >/dev/null 2>&1";
    auto leaf = [&](const std::string& name, const std::string& san) {
      return run("printf 'subjectAltName=" + san + "\\n' > " + d + name + ".ext") == 0 &&
             run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + d +
                 name + ".key -out " + d + name + ".csr -subj /CN=" + name + quiet) == 0 &&
             run("openssl x509 -req -in " + d + name + ".csr -CA " + d + "ca.pem -CAkey " + d +
                 "ca.key -CAcreateserial -out " + d + name + ".pem -days 1 -extfile " + d + name +
                 ".ext" + quiet) == 0;
    };
    ok = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + d +
             "ca.key -out " + d + "ca.pem -days 1 -subj /CN=atproto-test-ca" + quiet) == 0 &&
         leaf("good", "DNS:localhost,IP:127.0.0.1") && leaf("other", "DNS:other.example");
  }
  ~TlsFixture() {
    if (!dir.empty()) run("rm -rf " + dir);
  }
  std::string ca() const { return dir + "/ca.pem"; }
};

// `openssl s_server` in the background on a free loopback port.
struct SServer {
  atproto::identity::testing::PortServer server;
  std::uint16_t port = 0;
  bool ready = false;

  SServer(const TlsFixture& tls, const std::string& name) {
    server = atproto::identity::testing::start_on_free_port(
        atproto::identity::testing::free_port<tcp>,
        [&](std::uint16_t p) {
          return std::vector<std::string>{"openssl", "s_server",
                                          "-accept", "127.0.0.1:" + std::to_string(p),
                                          "-cert",   tls.dir + "/" + name + ".pem",
                                          "-key",    tls.dir + "/" + name + ".key",
                                          "-www",    "-quiet"};
        },
        // Ready when it accepts a connection.
        [](std::uint16_t p) {
          asio::io_context ioc;
          tcp::socket s(ioc);
          boost::system::error_code ec;
          s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), p), ec);
          return !ec;
        });
    port = server.port;
    ready = server.ready();
  }
};

}  // namespace

TEST_CASE("fetch: https verifies the certificate chain and the host name") {
  TlsFixture tls;
  if (!tls.ok) FAIL("the openssl command is needed to make test certificates (package openssl)");
  SServer good(tls, "good");
  SServer other(tls, "other");
  REQUIRE(good.ready);
  REQUIRE(other.ready);
  auto policy = loopback_policy();
  policy.extra_ca_file = tls.ca();
  std::string port = std::to_string(good.port);

  for (const std::string& url :
       {"https://127.0.0.1:" + port + "/", "https://localhost:" + port + "/"}) {
    INFO(url);
    auto r = http_get(url, policy);
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->body.find("s_server") != std::string::npos);
  }
  // Not signed by a trusted CA (the test CA is only trusted on request).
  auto untrusted = http_get("https://127.0.0.1:" + port + "/", loopback_policy());
  REQUIRE_FALSE(untrusted.ok());
  CHECK(untrusted.error().code == "fetch.tls");
  // Trusted chain, but the certificate names another host.
  auto wrong_name = http_get("https://127.0.0.1:" + std::to_string(other.port) + "/", policy);
  REQUIRE_FALSE(wrong_name.ok());
  CHECK(wrong_name.error().code == "fetch.tls");
  // A missing CA file is reported, not ignored.
  auto missing = policy;
  missing.extra_ca_file = tls.dir + "/nope.pem";
  auto no_file = http_get("https://127.0.0.1:" + port + "/", missing);
  REQUIRE_FALSE(no_file.ok());
  CHECK(no_file.error().code == "fetch.tls");
}
