// HttpServer against a real client on loopback: decoding, keep-alive, limits,
// handler failures and graceful stop.
#include "atproto/xrpc/http_server.hpp"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

#include "atproto/xrpc/test_echo.hpp"
#include "atproto/xrpc/url.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using atproto::xrpc::HttpRequest;
using atproto::xrpc::HttpResponse;
using atproto::xrpc::HttpServer;
using atproto::xrpc::ServerOptions;
using nlohmann::json;

namespace {

// Echoes what the server decoded, so tests see the parsed request.
HttpResponse echo(const HttpRequest& req) {
  auto body = atproto::xrpc::testing::request_as_json(req);
  body["remote"] = req.remote_address;
  return HttpResponse::json(200, body);
}

struct Client {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;

  explicit Client(std::uint16_t port) {
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  http::response<http::string_body> send(http::request<http::string_body> req) {
    req.version(11);
    req.set(http::field::host, "127.0.0.1");
    req.prepare_payload();
    stream.expires_after(std::chrono::seconds(10));
    http::write(stream, req);
    return read();
  }

  http::response<http::string_body> read() {
    http::response<http::string_body> res;
    stream.expires_after(std::chrono::seconds(10));
    http::read(stream, buffer, res);
    return res;
  }

  http::response<http::string_body> get(const std::string& target) {
    return send(http::request<http::string_body>(http::verb::get, target, 11));
  }

  // True when the server has closed the connection (EOF on read).
  bool closed_by_peer() {
    stream.expires_after(std::chrono::seconds(10));
    char c;
    beast::error_code ec;
    stream.socket().read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
};

}  // namespace

TEST_CASE("http server: defaults to loopback and picks a free port") {
  ServerOptions options;
  CHECK(options.host == "127.0.0.1");
  HttpServer server(options, echo);
  auto port = server.start();
  REQUIRE(port.ok());
  CHECK(port.value() != 0);
  CHECK(server.port() == port.value());
  Client c(port.value());
  auto res = c.get("/x");
  auto body = json::parse(res.body());
  CHECK(body["remote"] == "127.0.0.1");
}

TEST_CASE("http server: percent-decodes path and query, keeps order and repeats") {
  HttpServer server({}, echo);
  auto port = server.start();
  REQUIRE(port.ok());
  Client c(port.value());
  auto res = c.get("/xrpc/a%2Eb%20c?x=1&y=h%C3%A9llo+w&x=2&flag&&z=%26%3D");
  REQUIRE(res.result_int() == 200);
  CHECK(res[http::field::content_type] == "application/json; charset=utf-8");
  auto body = json::parse(res.body());
  CHECK(body["method"] == "GET");
  CHECK(body["path"] == "/xrpc/a.b c");
  CHECK(body["target"] == "/xrpc/a%2Eb%20c?x=1&y=h%C3%A9llo+w&x=2&flag&&z=%26%3D");
  json expected =
      json::array({json::array({"x", "1"}), json::array({"y", "h\xC3\xA9llo w"}),
                   json::array({"x", "2"}), json::array({"flag", ""}), json::array({"z", "&="})});
  CHECK(body["query"] == expected);
}

TEST_CASE("http server: request accessors") {
  HttpRequest req;
  req.headers = {{"content-type", "a"}, {"x-two", "1"}, {"x-two", "2"}};
  req.query = {{"cursor", "c1"}, {"uris", "u1"}, {"uris", "u2"}};
  CHECK(req.header("Content-Type") == "a");
  CHECK(req.header("x-two") == "1");
  CHECK_FALSE(req.header("missing").has_value());
  CHECK(req.query_param("uris") == "u1");
  CHECK(req.query_params("uris") == std::vector<std::string>{"u1", "u2"});
  CHECK(req.query_params("none").empty());
  CHECK_FALSE(req.query_param("Cursor").has_value());  // parameter names are case-sensitive
}

TEST_CASE("http server: malformed percent-escape is a 400 InvalidRequest") {
  HttpServer server({}, echo);
  auto port = server.start();
  REQUIRE(port.ok());
  Client c(port.value());
  for (const char* target : {"/a%zz", "/a?b=%4", "/a%"}) {
    auto res = c.get(target);
    CHECK(res.result_int() == 400);
    auto body = json::parse(res.body());
    CHECK(body["error"] == "InvalidRequest");
    CHECK(body["message"].is_string());
  }
}

TEST_CASE("http server: keep-alive serves several requests on one connection") {
  std::atomic<int> calls{0};
  HttpServer server({}, [&](const HttpRequest& req) {
    ++calls;
    return echo(req);
  });
  auto port = server.start();
  REQUIRE(port.ok());
  Client c(port.value());
  for (int i = 0; i < 3; ++i) {
    http::request<http::string_body> req(http::verb::post, "/n" + std::to_string(i), 11);
    req.set(http::field::content_type, "text/plain");
    req.body() = "body " + std::to_string(i);
    auto res = c.send(std::move(req));
    REQUIRE(res.result_int() == 200);
    CHECK(res.keep_alive());
    auto body = json::parse(res.body());
    CHECK(body["path"] == "/n" + std::to_string(i));
    CHECK(body["body"] == "body " + std::to_string(i));
    CHECK(body["headers"]["content-type"] == "text/plain");
  }
  CHECK(calls == 3);
  // "Connection: close" is honoured.
  http::request<http::string_body> req(http::verb::get, "/last", 11);
  req.set(http::field::connection, "close");
  auto res = c.send(std::move(req));
  CHECK(res.result_int() == 200);
  CHECK_FALSE(res.keep_alive());
  CHECK(c.closed_by_peer());
}

TEST_CASE(
    "http server: body over the limit is 413 with an XRPC error body "
    "[xrpc.status.payload-too-large]") {
  ServerOptions options;
  options.max_body_bytes = 1000;
  std::atomic<int> calls{0};
  HttpServer server(options, [&](const HttpRequest& req) {
    ++calls;
    return echo(req);
  });
  auto port = server.start();
  REQUIRE(port.ok());
  {
    Client c(port.value());
    http::request<http::string_body> req(http::verb::post, "/up", 11);
    req.body() = std::string(1000, 'a');  // exactly the limit: accepted
    auto res = c.send(std::move(req));
    CHECK(res.result_int() == 200);
    CHECK(json::parse(res.body())["body"].get<std::string>().size() == 1000);
  }
  {
    Client c(port.value());
    http::request<http::string_body> req(http::verb::post, "/up", 11);
    req.body() = std::string(1001, 'a');
    auto res = c.send(std::move(req));
    CHECK(res.result_int() == 413);
    auto body = json::parse(res.body());
    CHECK(body["error"] == "PayloadTooLarge");
    CHECK(body["message"].is_string());
    CHECK_FALSE(res.keep_alive());
  }
  {
    // Chunked body without a Content-Length: the limit applies while reading.
    Client c(port.value());
    std::string raw =
        "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "258\r\n" +
        std::string(600, 'b') + "\r\n258\r\n" + std::string(600, 'b') + "\r\n0\r\n\r\n";
    asio::write(c.stream.socket(), asio::buffer(raw));
    auto res = c.read();
    CHECK(res.result_int() == 413);
  }
  CHECK(calls == 1);
}

TEST_CASE("http server: headers over the limit are 431 with an XRPC error body") {
  ServerOptions options;
  options.max_header_bytes = 2048;
  std::atomic<int> calls{0};
  HttpServer server(options, [&](const HttpRequest& req) {
    ++calls;
    return echo(req);
  });
  auto port = server.start();
  REQUIRE(port.ok());
  {
    Client c(port.value());
    http::request<http::string_body> req(http::verb::get, "/h", 11);
    req.set("x-small", std::string(500, 'v'));
    CHECK(c.send(std::move(req)).result_int() == 200);
  }
  {
    Client c(port.value());
    http::request<http::string_body> req(http::verb::get, "/h", 11);
    req.set("x-big", std::string(4000, 'v'));
    auto res = c.send(std::move(req));
    CHECK(res.result_int() == 431);
    auto body = json::parse(res.body());
    CHECK(body["error"] == "RequestHeaderFieldsTooLarge");
  }
  CHECK(calls == 1);
}

TEST_CASE("http server: a handler exception becomes a 500 XRPC error, server keeps going") {
  HttpServer server({}, [](const HttpRequest& req) -> HttpResponse {
    if (req.path == "/throw") throw std::runtime_error("secret detail");
    if (req.path == "/throw-int") throw 42;
    return HttpResponse::text(200, "fine", "text/plain");
  });
  auto port = server.start();
  REQUIRE(port.ok());
  Client c(port.value());
  for (const char* path : {"/throw", "/throw-int"}) {
    auto res = c.get(path);
    CHECK(res.result_int() == 500);
    auto body = json::parse(res.body());
    CHECK(body["error"] == "InternalServerError");
    // The exception text is not leaked to the client.
    CHECK(res.body().find("secret") == std::string::npos);
  }
  auto ok = c.get("/fine");
  CHECK(ok.result_int() == 200);
  CHECK(ok.body() == "fine");
  CHECK(ok[http::field::content_type] == "text/plain");
}

TEST_CASE("http server: handler status and headers are sent as given") {
  HttpServer server({}, [](const HttpRequest&) {
    auto r = atproto::xrpc::xrpc_error(404, "RecordNotFound", "no such record");
    r.headers.emplace_back("x-extra", "1");
    return r;
  });
  auto port = server.start();
  REQUIRE(port.ok());
  Client c(port.value());
  auto res = c.get("/q");
  CHECK(res.result_int() == 404);
  CHECK(res["x-extra"] == "1");
  CHECK(json::parse(res.body()) ==
        json{{"error", "RecordNotFound"}, {"message", "no such record"}});
}

TEST_CASE("http server: stop lets a request in flight finish, then refuses connections") {
  std::promise<void> entered;
  std::atomic<bool> entered_once{false};
  HttpServer server({}, [&](const HttpRequest&) {
    if (!entered_once.exchange(true)) entered.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return HttpResponse::text(200, "done", "text/plain");
  });
  auto port = server.start();
  REQUIRE(port.ok());
  Client idle(port.value());  // an idle keep-alive connection must not block stop()
  Client busy(port.value());
  http::request<http::string_body> req(http::verb::get, "/slow", 11);
  req.set(http::field::host, "x");
  req.prepare_payload();
  http::write(busy.stream, req);
  entered.get_future().wait();
  auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&] { server.stop(); });
  auto res = busy.read();
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "done");
  CHECK_FALSE(res.keep_alive());  // stopping: the connection closes after this response
  stopper.join();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(elapsed < std::chrono::seconds(5));  // not the 30 s read timeout of the idle one
  CHECK(idle.closed_by_peer());
  asio::io_context ioc;
  tcp::socket s(ioc);
  beast::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port.value()), ec);
  CHECK(ec);
  server.stop();  // idempotent
}

TEST_CASE("http server: listening on a taken port is an error value") {
  HttpServer a({}, echo);
  auto port = a.start();
  REQUIRE(port.ok());
  ServerOptions options;
  options.port = port.value();
  HttpServer b(options, echo);
  // SO_REUSEADDR does not allow two listeners on one port on Linux.
  auto second = b.start();
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == "xrpc.server.listen");
  ServerOptions bad;
  bad.host = "not-an-ip";
  HttpServer c(bad, echo);
  auto third = c.start();
  REQUIRE_FALSE(third.ok());
  CHECK(third.error().code == "xrpc.server.address");
}

TEST_CASE("url: percent_decode and split_target") {
  using atproto::xrpc::percent_decode;
  using atproto::xrpc::split_target;
  CHECK(percent_decode("a%41+b", true).value() == "aA b");
  CHECK(percent_decode("a%41+b", false).value() == "aA+b");
  CHECK(percent_decode("%e2%82%AC", false).value() == "\xE2\x82\xAC");
  CHECK_FALSE(percent_decode("%4", false).ok());
  CHECK_FALSE(percent_decode("%G0", false).ok());
  CHECK(percent_decode("%4", false).error().code == "xrpc.url.escape");
  auto t = split_target("/p?a=1#frag");
  REQUIRE(t.ok());
  CHECK(t->path == "/p");
  REQUIRE(t->query.size() == 1);
  CHECK(t->query[0].second == "1");
  auto empty = split_target("/only");
  REQUIRE(empty.ok());
  CHECK(empty->query.empty());
}

TEST_CASE("http server: concurrent clients on several threads") {
  std::atomic<int> calls{0};
  ServerOptions options;
  options.threads = 4;
  HttpServer server(options, [&](const HttpRequest& req) {
    ++calls;
    return HttpResponse::text(200, req.path, "text/plain");
  });
  auto port = server.start();
  REQUIRE(port.ok());
  constexpr int kClients = 16, kRequests = 10;
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Client client(port.value());
      for (int r = 0; r < kRequests; ++r) {
        std::string path = "/c" + std::to_string(c) + "/r" + std::to_string(r);
        auto res = client.get(path);
        if (res.result_int() == 200 && res.body() == path) ++good;
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(good == kClients * kRequests);
  CHECK(calls == kClients * kRequests);
}

TEST_CASE("http server: an idle connection is closed after the read timeout") {
  ServerOptions options;
  options.read_timeout_ms = 200;
  HttpServer server(options, echo);
  auto port = server.start();
  REQUIRE(port.ok());
  Client c(port.value());
  auto t0 = std::chrono::steady_clock::now();
  CHECK(c.closed_by_peer());
  auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited >= std::chrono::milliseconds(150));
  CHECK(waited < std::chrono::seconds(5));
}
