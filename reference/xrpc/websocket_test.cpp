// The WebSocket side of HttpServer and Router::subscription, against a plain
// Beast client on loopback: ordering, slow-consumer drops, on_close, stop().
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "atproto/xrpc/router.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace atproto::xrpc;
using namespace std::chrono_literals;

namespace {

// Collects the connections a subscription handler accepts.
struct Accepted {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<WebSocketConnection>> connections;
  std::atomic<int> closes{0};

  UpgradeCallback callback() {
    return [this](std::shared_ptr<WebSocketConnection> c) {
      c->on_close([this] { ++closes; });
      std::lock_guard lock(mu);
      connections.push_back(std::move(c));
      cv.notify_all();
    };
  }
  std::shared_ptr<WebSocketConnection> wait(std::size_t index) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, 10s, [&] { return connections.size() > index; });
    return connections.size() > index ? connections[index] : nullptr;
  }
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

std::vector<std::uint8_t> message(std::uint32_t n, std::size_t size = 8) {
  std::vector<std::uint8_t> m(std::max<std::size_t>(size, 4), static_cast<std::uint8_t>(n));
  for (int i = 0; i < 4; ++i)
    m[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  return m;
}

std::uint32_t number_of(const beast::flat_buffer& b) {
  auto* p = static_cast<const std::uint8_t*>(b.data().data());
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

// A synchronous Beast client; `receive_buffer` shrinks the socket's
// receive buffer so a client that stops reading backs up quickly.
struct RawClient {
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buffer;

  RawClient(std::uint16_t port, const std::string& target, int receive_buffer = 0) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    ws.next_layer().open(tcp::v4());
    if (receive_buffer > 0)
      ws.next_layer().set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    ws.next_layer().connect(ep);
    ws.handshake("127.0.0.1", target);
  }
  // Reads one message; false on close or error.
  bool read(beast::error_code& ec) {
    buffer.clear();
    ws.read(buffer, ec);
    return !ec;
  }
};

// Sends a raw HTTP request and returns the response (for refused upgrades).
http::response<http::string_body> raw_http(std::uint16_t port,
                                           http::request<http::string_body> req) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(10s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

struct SubscriptionServer {
  Accepted accepted;
  Router router;
  HttpServer server;
  std::uint16_t port = 0;

  explicit SubscriptionServer(ServerOptions options = {}) : server(options, router.handler()) {
    REQUIRE(router
                .subscription("com.example.subscribe",
                              {{"cursor", ParamSpec::Kind::integer, false, false}},
                              [this](const HttpRequest& req) {
                                if (req.query_param("cursor") == "-1")
                                  return xrpc_error(400, "FutureCursor", "cursor in the future");
                                HttpResponse r;
                                r.upgrade = accepted.callback();
                                return r;
                              })
                .ok());
    port = server.start().value();
  }
};

}  // namespace

TEST_CASE("websocket: many messages arrive in order [xrpc.ws.upgrade]", "[xrpc][websocket]") {
  SubscriptionServer s;
  RawClient client(s.port, "/xrpc/com.example.subscribe?cursor=5");
  auto conn = s.accepted.wait(0);
  REQUIRE(conn);
  CHECK(conn->is_open());
  CHECK(conn->remote_address() == "127.0.0.1");
  constexpr std::uint32_t kCount = 2000;
  // From several producer threads in turn: the queue keeps call order.
  std::thread producer([&] {
    for (std::uint32_t i = 0; i < kCount; ++i) CHECK(conn->send_binary(message(i, 100)));
  });
  std::uint32_t expected = 0;
  beast::error_code ec;
  while (expected < kCount && client.read(ec)) {
    CHECK(client.ws.got_binary());
    CHECK(client.buffer.size() == 100);
    if (number_of(client.buffer) != expected) break;
    ++expected;
  }
  producer.join();
  CHECK(expected == kCount);
  CHECK(eventually([&] { return conn->queued_bytes() == 0; }));
  CHECK(s.accepted.closes == 0);
}

TEST_CASE("websocket: close sends the queue, then the close frame; on_close once",
          "[xrpc][websocket]") {
  SubscriptionServer s;
  RawClient client(s.port, "/xrpc/com.example.subscribe");
  auto conn = s.accepted.wait(0);
  REQUIRE(conn);
  for (std::uint32_t i = 0; i < 10; ++i) REQUIRE(conn->send_binary(message(i)));
  conn->close(4000, "bye now");
  CHECK_FALSE(conn->is_open());
  CHECK_FALSE(conn->send_binary(message(99)));  // closed: refused
  conn->close(1000, "again");                   // a second close is a no-op
  beast::error_code ec;
  std::uint32_t got = 0;
  while (client.read(ec)) CHECK(number_of(client.buffer) == got++);
  CHECK(got == 10);
  CHECK(ec == websocket::error::closed);
  CHECK(client.ws.reason().code == 4000);
  CHECK(std::string(client.ws.reason().reason.c_str()) == "bye now");
  CHECK(eventually([&] { return s.accepted.closes == 1; }));
  std::this_thread::sleep_for(50ms);
  CHECK(s.accepted.closes == 1);
}

TEST_CASE("websocket: frames from the client are ignored [sync.stream.ignore-client-frames]",
          "[xrpc][websocket]") {
  SubscriptionServer s;
  RawClient client(s.port, "/xrpc/com.example.subscribe");
  auto conn = s.accepted.wait(0);
  REQUIRE(conn);
  client.ws.binary(false);
  client.ws.write(asio::buffer(std::string("hello server")));
  client.ws.binary(true);
  client.ws.write(asio::buffer(std::string(1000, 'x')));
  REQUIRE(conn->send_binary(message(7)));
  beast::error_code ec;
  REQUIRE(client.read(ec));
  CHECK(number_of(client.buffer) == 7);
  CHECK(conn->is_open());
  CHECK(s.accepted.closes == 0);
}

TEST_CASE("websocket: the peer closing ends the connection, on_close once", "[xrpc][websocket]") {
  SubscriptionServer s;
  {
    RawClient client(s.port, "/xrpc/com.example.subscribe");
    REQUIRE(s.accepted.wait(0));
    client.ws.close(websocket::close_code::normal);
  }
  auto conn = s.accepted.wait(0);
  CHECK(eventually([&] { return s.accepted.closes == 1; }));
  CHECK_FALSE(conn->is_open());
  CHECK_FALSE(conn->send_binary(message(1)));
  // A connection dropped without a close frame ends too.
  {
    RawClient client(s.port, "/xrpc/com.example.subscribe");
    REQUIRE(s.accepted.wait(1));
    beast::error_code ec;
    client.ws.next_layer().close(ec);
  }
  CHECK(eventually([&] { return s.accepted.closes == 2; }));
  // on_close set after the end still runs, once.
  int late = 0;
  conn->on_close([&] { ++late; });
  CHECK(late == 1);
}

TEST_CASE(
    "websocket: a slow consumer is dropped while a fast one keeps receiving "
    "[xrpc.ws.slow-consumer]",
    "[xrpc][websocket]") {
  ServerOptions options;
  options.max_queued_bytes = 1 << 20;
  SubscriptionServer s(options);
  RawClient fast(s.port, "/xrpc/com.example.subscribe");
  auto fast_conn = s.accepted.wait(0);
  RawClient slow(s.port, "/xrpc/com.example.subscribe", 4096);
  auto slow_conn = s.accepted.wait(1);
  REQUIRE(fast_conn);
  REQUIRE(slow_conn);

  std::atomic<std::uint32_t> fast_received{0};
  std::atomic<bool> fast_in_order{true};
  std::thread reader([&] {
    beast::error_code ec;
    while (fast.read(ec)) {
      if (number_of(fast.buffer) != fast_received) fast_in_order = false;
      ++fast_received;
    }
  });

  // 32 KiB messages, paced like a live stream: the slow client's buffers
  // fill (a few MB at most), its queue passes 1 MiB, and it is dropped.
  constexpr std::size_t kSize = 32 * 1024;
  constexpr std::uint32_t kMax = 4000;  // 128 MB: far more than the buffers hold
  std::uint32_t sent = 0;
  bool slow_dropped = false;
  auto keep_pace = [&] {
    // The producer runs at the fast consumer's pace (a live stream does);
    // only the consumer that stopped reading falls behind.
    return eventually([&] { return fast_conn->queued_bytes() < 256 * 1024; });
  };
  for (; sent < kMax; ++sent) {
    auto m = message(sent, kSize);
    if (!keep_pace() || !fast_conn->send_binary(m)) break;
    if (!slow_dropped && !slow_conn->send_binary(std::move(m))) slow_dropped = true;
    if (slow_dropped) break;
    std::this_thread::sleep_for(200us);
  }
  CHECK(slow_dropped);
  CHECK_FALSE(slow_conn->is_open());
  CHECK(eventually([&] { return s.accepted.closes == 1; }));
  // The fast consumer keeps going after the drop.
  ++sent;  // the message the slow one refused went to the fast one
  for (std::uint32_t i = 0; i < 20; ++i) {
    CHECK(keep_pace());
    CHECK(fast_conn->send_binary(message(sent++, kSize)));
  }
  CHECK(eventually([&] { return fast_received == sent; }));
  CHECK(fast_in_order);
  CHECK(fast_conn->is_open());
  CHECK(s.accepted.closes == 1);

  // The slow client, reading at last, gets what was buffered and then the
  // end: never every message.
  std::uint32_t slow_received = 0;
  beast::error_code ec;
  slow.ws.next_layer().non_blocking(false);
  while (slow.read(ec)) ++slow_received;
  CHECK(slow_received < sent);
  CHECK(ec);

  fast_conn->close();  // the reader thread ends on the close frame
  reader.join();
}

TEST_CASE("websocket: stop() with open connections closes them and does not hang",
          "[xrpc][websocket]") {
  auto s = std::make_unique<SubscriptionServer>();
  RawClient reading(s->port, "/xrpc/com.example.subscribe");
  RawClient idle(s->port, "/xrpc/com.example.subscribe", 4096);
  auto a = s->accepted.wait(0);
  auto b = s->accepted.wait(1);
  REQUIRE(a);
  REQUIRE(b);
  // The idle client has data queued that it never reads.
  for (std::uint32_t i = 0; i < 200; ++i) b->send_binary(message(i, 64 * 1024));
  std::atomic<bool> reader_done{false};
  beast::error_code read_ec;
  std::thread reader([&] {
    while (reading.read(read_ec)) {
    }
    reader_done = true;
  });
  auto t0 = std::chrono::steady_clock::now();
  s->server.stop();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(elapsed < 5s);
  reader.join();
  CHECK(read_ec == websocket::error::closed);
  CHECK(reading.ws.reason().code == websocket::close_code::going_away);
  CHECK(s->accepted.closes == 2);
  CHECK_FALSE(a->is_open());
  CHECK_FALSE(a->send_binary(message(1)));
  // The service may keep its connection objects after the server is gone.
  s.reset();
  CHECK_FALSE(b->is_open());
  CHECK_FALSE(b->send_binary(message(2)));
  b->close();
}

TEST_CASE(
    "subscription: GET only, parameters and handler errors answered before the upgrade "
    "[xrpc.ws.upgrade] [sync.stream.http-errors]",
    "[xrpc][websocket]") {
  SubscriptionServer s;
  auto upgrade_request = [](std::string target) {
    http::request<http::string_body> req(http::verb::get, target, 11);
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(http::field::sec_websocket_version, "13");
    return req;
  };
  auto error_of = [](const http::response<http::string_body>& res) {
    return nlohmann::json::parse(res.body()).value("error", "");
  };
  // The handler's own error goes out as plain HTTP.
  auto future = raw_http(s.port, upgrade_request("/xrpc/com.example.subscribe?cursor=-1"));
  CHECK(future.result_int() == 400);
  CHECK(error_of(future) == "FutureCursor");
  // Parameters are checked like a query's.
  auto bad = raw_http(s.port, upgrade_request("/xrpc/com.example.subscribe?cursor=abc"));
  CHECK(bad.result_int() == 400);
  CHECK(error_of(bad) == "InvalidRequest");
  // [xrpc.http.method] Not a GET: 405.
  auto post = upgrade_request("/xrpc/com.example.subscribe");
  post.method(http::verb::post);
  auto posted = raw_http(s.port, post);
  CHECK(posted.result_int() == 405);
  // A GET without the upgrade.
  auto plain = raw_http(
      s.port, http::request<http::string_body>(http::verb::get, "/xrpc/com.example.subscribe", 11));
  CHECK(plain.result_int() == 426);
  CHECK(error_of(plain) == "InvalidRequest");
  // The accepted handshake answers 101.
  auto ok = raw_http(s.port, upgrade_request("/xrpc/com.example.subscribe"));
  CHECK(ok.result_int() == 101);
  CHECK(s.accepted.wait(0));
}

namespace {

WebSocketClientOptions loopback_options() {
  WebSocketClientOptions o;
  o.policy.allow_private_addresses = true;
  o.connect_timeout_ms = 5000;
  return o;
}

std::string ws_url(std::uint16_t port, const std::string& target) {
  return "ws://127.0.0.1:" + std::to_string(port) + target;
}

std::uint32_t number_in(const std::vector<std::uint8_t>& m) {
  return std::uint32_t{m[0]} | std::uint32_t{m[1]} << 8 | std::uint32_t{m[2]} << 16 |
         std::uint32_t{m[3]} << 24;
}

std::string code_of(const atproto::Error& e) { return e.code; }

}  // namespace

TEST_CASE("websocket client: messages in order, then the server's close code",
          "[xrpc][websocket][ws-client]") {
  SubscriptionServer s;
  auto client = WebSocketClient::connect(ws_url(s.port, "/xrpc/com.example.subscribe?cursor=1"),
                                         loopback_options());
  REQUIRE(client.ok());
  auto conn = s.accepted.wait(0);
  REQUIRE(conn);
  for (std::uint32_t i = 0; i < 500; ++i) REQUIRE(conn->send_binary(message(i, 300)));
  conn->close(4001, "stream over");
  auto& c = *client.value();
  for (std::uint32_t i = 0; i < 500; ++i) {
    auto m = c.read(5000);
    REQUIRE(m.ok());
    REQUIRE(m->has_value());
    CHECK((*m)->size() == 300);
    CHECK(number_in(**m) == i);
  }
  auto end = c.read(5000);
  REQUIRE(end.ok());
  CHECK_FALSE(end->has_value());
  CHECK(c.close_code() == std::optional<std::uint16_t>(4001));
  CHECK(c.close_reason() == "stream over");
  auto after = c.read(100);
  REQUIRE_FALSE(after.ok());
  CHECK(code_of(after.error()) == "xrpc.ws.closed");
}

TEST_CASE("websocket client: a read timeout leaves the connection usable",
          "[xrpc][websocket][ws-client]") {
  SubscriptionServer s;
  auto client =
      WebSocketClient::connect(ws_url(s.port, "/xrpc/com.example.subscribe"), loopback_options());
  REQUIRE(client.ok());
  auto conn = s.accepted.wait(0);
  REQUIRE(conn);
  auto t0 = std::chrono::steady_clock::now();
  auto nothing = client.value()->read(150);
  auto waited = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(nothing.ok());
  CHECK(code_of(nothing.error()) == "xrpc.ws.timeout");
  CHECK(waited >= 140ms);
  CHECK(waited < 5s);
  REQUIRE(conn->send_binary(message(42)));
  auto m = client.value()->read(5000);
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  CHECK(number_in(**m) == 42);
  // The client closing is seen by the server.
  client.value()->close();
  CHECK(eventually([&] { return s.accepted.closes == 1; }));
  CHECK(code_of(client.value()->read(10).error()) == "xrpc.ws.closed");
}

TEST_CASE(
    "websocket client: a refused upgrade is xrpc.ws.handshake with the status [xrpc.ws.upgrade]",
    "[xrpc][websocket][ws-client]") {
  SubscriptionServer s;
  auto refused = WebSocketClient::connect(ws_url(s.port, "/xrpc/com.example.subscribe?cursor=-1"),
                                          loopback_options());
  REQUIRE_FALSE(refused.ok());
  CHECK(code_of(refused.error()) == "xrpc.ws.handshake");
  CHECK(refused.error().message.find("400") != std::string::npos);
  CHECK(refused.error().message.find("FutureCursor") != std::string::npos);
  auto unknown =
      WebSocketClient::connect(ws_url(s.port, "/xrpc/com.example.nothing"), loopback_options());
  REQUIRE_FALSE(unknown.ok());
  CHECK(code_of(unknown.error()) == "xrpc.ws.handshake");
  CHECK(unknown.error().message.find("501") != std::string::npos);
  CHECK(s.accepted.connections.empty());
}

TEST_CASE("websocket client: connection failures keep the fetch codes",
          "[xrpc][websocket][ws-client]") {
  std::uint16_t closed_port = 0;
  {
    SubscriptionServer s;
    closed_port = s.port;
    // The default policy refuses loopback, before any connection.
    auto refused = WebSocketClient::connect(ws_url(s.port, "/xrpc/com.example.subscribe"), {});
    REQUIRE_FALSE(refused.ok());
    CHECK(code_of(refused.error()) == "fetch.address-refused");
    CHECK(s.accepted.connections.empty());
    // wss:// to a server that speaks plain HTTP fails in TLS.
    auto tls = WebSocketClient::connect(
        "wss://127.0.0.1:" + std::to_string(s.port) + "/xrpc/com.example.subscribe",
        loopback_options());
    REQUIRE_FALSE(tls.ok());
    CHECK(code_of(tls.error()) == "fetch.tls");
  }
  auto closed = WebSocketClient::connect(ws_url(closed_port, "/"), loopback_options());
  REQUIRE_FALSE(closed.ok());
  CHECK(code_of(closed.error()) == "fetch.connect");
  for (const char* bad : {"http://127.0.0.1/", "ftp://x/", "ws://", "ws://a b/", "wss://u@h/"}) {
    INFO(bad);
    auto r = WebSocketClient::connect(bad, loopback_options());
    REQUIRE_FALSE(r.ok());
    CHECK(code_of(r.error()) == "fetch.url");
  }
}

TEST_CASE("websocket client: a server that never answers the upgrade times out",
          "[xrpc][websocket][ws-client]") {
  // A listening socket that nobody accepts from: the kernel completes the
  // TCP handshake, then nothing ever answers.
  asio::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto options = loopback_options();
  options.connect_timeout_ms = 300;
  auto t0 = std::chrono::steady_clock::now();
  auto r = WebSocketClient::connect(ws_url(silent.local_endpoint().port(), "/x"), options);
  auto waited = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(r.ok());
  CHECK(code_of(r.error()) == "fetch.timeout");
  CHECK(waited >= 250ms);
  CHECK(waited < 5s);
}

TEST_CASE("websocket client: size limit and a dropped slow consumer",
          "[xrpc][websocket][ws-client]") {
  ServerOptions server_options;
  server_options.max_queued_bytes = 256 * 1024;
  SubscriptionServer s(server_options);
  auto options = loopback_options();
  options.max_message_bytes = 1000;
  {
    auto client = WebSocketClient::connect(ws_url(s.port, "/xrpc/com.example.subscribe"), options);
    REQUIRE(client.ok());
    auto conn = s.accepted.wait(0);
    REQUIRE(conn->send_binary(message(1, 1000)));
    REQUIRE(conn->send_binary(message(2, 1001)));
    auto fits = client.value()->read(5000);
    REQUIRE(fits.ok());
    CHECK((*fits)->size() == 1000);
    auto big = client.value()->read(5000);
    REQUIRE_FALSE(big.ok());
    CHECK(code_of(big.error()) == "xrpc.ws.too-large");
  }
  // A client that does not read while the server keeps sending is dropped;
  // when it reads at last it gets what was buffered, then the lost
  // connection (no close frame).
  auto client =
      WebSocketClient::connect(ws_url(s.port, "/xrpc/com.example.subscribe"), loopback_options());
  REQUIRE(client.ok());
  auto conn = s.accepted.wait(1);
  REQUIRE(conn);
  std::uint32_t sent = 0;
  while (sent < 2000 && conn->send_binary(message(sent, 64 * 1024))) {
    ++sent;
    if (sent % 16 == 0) std::this_thread::sleep_for(1ms);
  }
  CHECK(sent < 2000);
  CHECK_FALSE(conn->is_open());
  std::uint32_t got = 0;
  atproto::Result<std::optional<std::vector<std::uint8_t>>> r =
      std::optional<std::vector<std::uint8_t>>();
  for (;;) {
    r = client.value()->read(5000);
    if (!r.ok() || !r->has_value()) break;
    CHECK(number_in(**r) == got);
    ++got;
  }
  CHECK(got < sent);
  REQUIRE_FALSE(r.ok());
  CHECK(code_of(r.error()) == "xrpc.ws.connection");
}

TEST_CASE(
    "websocket: the server answers a client's ping, batches shared messages, and refuses an "
    "unmasked frame with a protocol-error close",
    "[xrpc][websocket]") {
  SubscriptionServer s;
  RawClient a(s.port, "/xrpc/com.example.subscribe");
  auto conn_a = s.accepted.wait(0);
  RawClient b(s.port, "/xrpc/com.example.subscribe");
  auto conn_b = s.accepted.wait(1);
  REQUIRE(conn_a);
  REQUIRE(conn_b);
  std::string pong;
  a.ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
    if (kind == websocket::frame_type::pong) pong.assign(payload.data(), payload.size());
  });
  a.ws.ping("are you there");
  // The same frames to both connections, queued at once.
  std::vector<std::shared_ptr<const std::vector<std::uint8_t>>> frames;
  for (std::uint32_t i = 0; i < 300; ++i) {
    frames.push_back(std::make_shared<const std::vector<std::uint8_t>>(message(i, 100 + i * 7)));
  }
  CHECK(conn_a->send_shared(frames) == frames.size());
  CHECK(conn_b->send_shared(frames) == frames.size());
  for (std::uint32_t i = 0; i < 300; ++i) {
    beast::error_code ec;
    REQUIRE(a.read(ec));
    CHECK(number_of(a.buffer) == i);
    CHECK(a.buffer.size() == 100 + i * 7);
    REQUIRE(b.read(ec));
    CHECK(number_of(b.buffer) == i);
  }
  // One more message, queued well after the ping was read: the pong went
  // out before it (control frames go ahead of queued messages).
  REQUIRE(conn_a->send_binary(message(999)));
  beast::error_code last;
  REQUIRE(a.read(last));
  CHECK(number_of(a.buffer) == 999);
  CHECK(pong == "are you there");
  CHECK(eventually([&] { return conn_a->queued_bytes() == 0; }));  // once the write completed

  // RFC 6455 section 5.1: a client's frames are masked. An unmasked one
  // (binary, "A") ends the connection with 1002.
  const std::uint8_t unmasked[] = {0x82, 0x01, 'A'};
  asio::write(a.ws.next_layer(), asio::buffer(unmasked));
  beast::error_code ec;
  CHECK_FALSE(a.read(ec));
  CHECK(ec == websocket::error::closed);
  CHECK(a.ws.reason().code == websocket::close_code::protocol_error);
  CHECK(eventually([&] { return s.accepted.closes == 1; }));
  CHECK_FALSE(conn_a->is_open());
  CHECK(conn_b->is_open());  // the other connection goes on
}

TEST_CASE(
    "websocket client: a message in fragments with a ping between them (answered), a text "
    "message, then the client's close, with a Beast server",
    "[xrpc][websocket][ws-client]") {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  std::string pong;
  bool server_ok = false;
  std::uint16_t close_code = 0;
  std::thread server([&] {
    try {
      websocket::stream<tcp::socket> ws(acceptor.accept());
      ws.accept();
      ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
        if (kind == websocket::frame_type::pong) pong.assign(payload.data(), payload.size());
      });
      ws.binary(true);
      ws.write_some(false, asio::buffer(std::string("first half, ")));
      ws.ping("between");
      ws.write_some(true, asio::buffer(std::string("second half")));
      ws.text(true);
      ws.write(asio::buffer(std::string("h\xc3\xa9llo")));
      // Reads until the client's close: the pong comes first.
      beast::flat_buffer buffer;
      beast::error_code ec;
      ws.read(buffer, ec);
      close_code = ws.reason().code;
      server_ok = true;
    } catch (const std::exception&) {
    }
  });
  auto client = WebSocketClient::connect("ws://127.0.0.1:" + std::to_string(port) + "/stream",
                                         loopback_options());
  REQUIRE(client.ok());
  auto& c = *client.value();
  auto whole = c.read(5000);
  REQUIRE(whole.ok());
  REQUIRE(whole->has_value());
  CHECK(std::string((*whole)->begin(), (*whole)->end()) == "first half, second half");
  auto text = c.read(5000);
  REQUIRE(text.ok());
  REQUIRE(text->has_value());
  CHECK(std::string((*text)->begin(), (*text)->end()) == "h\xc3\xa9llo");
  c.close();
  server.join();
  CHECK(server_ok);
  CHECK(close_code == 1000);  // the client's close, after its pong
  CHECK(pong == "between");
}

namespace {

void remove_dir(const std::string& dir) {
  if (std::system(("rm -rf " + dir).c_str()) != 0) WARN("could not remove " + dir);
}

}  // namespace

TEST_CASE("websocket client: wss:// with certificate checks", "[xrpc][websocket][ws-client]") {
  // A self-signed certificate for localhost made with the openssl CLI, and
  // a one-connection Beast TLS WebSocket server that sends one message.
  char tmpl[] = "/tmp/atproto-wss-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  std::string made =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-keyout " +
      dir + "/key.pem -out " + dir +
      "/cert.pem -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost >/dev/null 2>&1";
  if (std::system(made.c_str()) != 0) {
    remove_dir(dir);
    FAIL("the openssl command is needed to make a test certificate (package openssl)");
  }
  asio::io_context ioc;
  asio::ssl::context server_tls(asio::ssl::context::tls_server);
  server_tls.use_certificate_chain_file(dir + "/cert.pem");
  server_tls.use_private_key_file(dir + "/key.pem", asio::ssl::context::pem);
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto port = acceptor.local_endpoint().port();
  std::thread server([&] {
    beast::error_code ec;
    for (int i = 0; i < 2; ++i) {  // the refused client, then the trusting one
      tcp::socket socket(ioc);
      acceptor.accept(socket, ec);
      if (ec) return;
      websocket::stream<beast::ssl_stream<tcp::socket>> ws(std::move(socket), server_tls);
      ws.next_layer().handshake(asio::ssl::stream_base::server, ec);
      if (ec) continue;
      ws.accept(ec);
      if (ec) continue;
      ws.binary(true);
      ws.write(asio::buffer(std::string("over tls")), ec);
      ws.close(websocket::close_code::normal, ec);
    }
  });
  auto options = loopback_options();
  std::string url = "wss://localhost:" + std::to_string(port) + "/xrpc/com.example.subscribe";
  // Not trusted without the certificate.
  auto untrusted = WebSocketClient::connect(url, options);
  REQUIRE_FALSE(untrusted.ok());
  CHECK(code_of(untrusted.error()) == "fetch.tls");
  options.policy.extra_ca_file = dir + "/cert.pem";
  auto client = WebSocketClient::connect(url, options);
  REQUIRE(client.ok());
  auto m = client.value()->read(5000);
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  CHECK(std::string((*m)->begin(), (*m)->end()) == "over tls");
  auto end = client.value()->read(5000);
  REQUIRE(end.ok());
  CHECK_FALSE(end->has_value());
  CHECK(client.value()->close_code() == std::optional<std::uint16_t>(1000));
  server.join();
  remove_dir(dir);
}
